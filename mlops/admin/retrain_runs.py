"""Retrain runs, and the button that queues a manual retrain."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _

from mlops.models import RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import (
    RetrainAlreadyRunning,
    retrain_request,
)

from .base import ReadOnlyAdmin, error_text


@admin.register(RetrainRun)
class RetrainRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "trigger",
        "status",
        "requested_by",
        "created_at",
        "duration_seconds",
        "draw_to",
        "model_version",
        "promoted",
    )
    list_filter = ("trigger", "status", "promoted")
    list_select_related = ("requested_by", "model_version")
    search_fields = ("id", "error_message", "promotion_reason")

    def has_retrain_permission(self, request):
        return request.user.has_perm("mlops.retrain_model")

    def get_urls(self):
        extra = [
            path(
                "retrain/",
                self.admin_site.admin_view(self.retrain_view),
                name="mlops_retrainrun_retrain",
            ),
        ]
        return extra + super().get_urls()

    def retrain_view(self, request):
        """Queue a manual retrain; refused with a message while one is in flight."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_retrain_permission(request):
            raise PermissionDenied
        try:
            run = retrain_request(
                trigger=RetrainRun.Trigger.MANUAL,
                actor=Actor.for_user(request.user),
                options={"reason": request.POST.get("reason", "").strip()[:500]},
            )
        except RetrainAlreadyRunning as exc:
            self.message_user(request, _("Refused: %s") % exc, messages.WARNING)
        except ValidationError as exc:
            self.message_user(
                request, _("Refused: %s") % error_text(exc), messages.ERROR
            )
        else:
            self.message_user(request, _("Retrain run %s queued.") % run.pk)
        return HttpResponseRedirect(reverse("admin:mlops_retrainrun_changelist"))

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_retrain": self.has_retrain_permission(request),
        }
        return super().changelist_view(request, extra_context)
