"""The verified backup copies of model files."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from mlops.models import ModelBackup

from .base import ReadOnlyAdmin, breakable_path


@admin.register(ModelBackup)
class ModelBackupAdmin(ReadOnlyAdmin):
    list_display = (
        "model_version",
        "file",
        "size",
        "created_at",
        "created_by",
        "verified_at",
        "deleted_at",
    )
    list_filter = ("created_by", ("deleted_at", admin.EmptyFieldListFilter))
    list_select_related = ("model_version",)
    search_fields = ("model_version__version", "file_path")

    @admin.display(description=gettext_lazy("File"), ordering="file_path")
    def file(self, obj):
        return breakable_path(obj.file_path)

    @admin.display(description=_("Size"), ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)
