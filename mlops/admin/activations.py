"""When each version was the active model, who activated it and why."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from mlops.models import ModelActivation

from .base import ReadOnlyAdmin


@admin.register(ModelActivation)
class ModelActivationAdmin(ReadOnlyAdmin):
    list_display = (
        "model_version",
        "activated_at",
        "deactivated_at",
        "is_current",
        "activated_by",
        "user",
        "retrain_run",
        "reason_text",
        "deactivation_reason_text",
    )
    list_filter = ("is_current", "activated_by")
    list_select_related = ("model_version", "user", "retrain_run")
    search_fields = ("model_version__version", "reason", "activated_by")
    date_hierarchy = "activated_at"
    # The English text columns give way to the reasons in the reader's language.
    exclude = ("reason", "deactivation_reason")
    readonly_fields = ("reason_text", "deactivation_reason_text")

    @admin.display(description=_("reason"))
    def reason_text(self, obj):
        return obj.reason_text

    @admin.display(description=_("deactivation reason"))
    def deactivation_reason_text(self, obj):
        return obj.deactivation_reason_text
