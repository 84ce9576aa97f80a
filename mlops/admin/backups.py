"""The verified backup copies of model files."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from mlops.models import ModelBackup

from .base import ReadOnlyAdmin


@admin.register(ModelBackup)
class ModelBackupAdmin(ReadOnlyAdmin):
    list_display = (
        "model_version",
        "file_path",
        "size",
        "created_at",
        "created_by",
        "verified_at",
        "deleted_at",
    )
    list_filter = ("created_by", ("deleted_at", admin.EmptyFieldListFilter))
    list_select_related = ("model_version",)
    search_fields = ("model_version__version", "file_path")

    @admin.display(description=_("Size"), ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)
