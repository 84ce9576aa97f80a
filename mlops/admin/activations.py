"""When each version was the active model, who activated it and why."""

from django.contrib import admin

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
        "reason",
        "deactivation_reason",
    )
    list_filter = ("is_current", "activated_by")
    list_select_related = ("model_version", "user", "retrain_run")
    search_fields = ("model_version__version", "reason", "activated_by")
    date_hierarchy = "activated_at"
