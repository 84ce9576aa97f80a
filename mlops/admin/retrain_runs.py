"""Retrain runs, and the button that queues a manual retrain."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from draws.selectors import draw_latest
from mlops.messages import message
from mlops.models import RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import model_version_active
from mlops.services.training.retrain_requests import (
    RetrainAlreadyRunning,
    retrain_in_flight,
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
    # The English text columns give way to the texts in the reader's language.
    exclude = ("promotion_reason", "error_message")
    readonly_fields = ("reason_text", "promotion_reason_text", "error_message_text")

    @admin.display(description=gettext_lazy("reason"))
    def reason_text(self, obj):
        return obj.reason_text

    @admin.display(description=gettext_lazy("promotion reason"))
    def promotion_reason_text(self, obj):
        return obj.promotion_reason_text

    @admin.display(description=gettext_lazy("error message"))
    def error_message_text(self, obj):
        return obj.error_message_text

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
        """GET: the options and a confirmation; POST: queue a manual retrain."""
        if not self.has_retrain_permission(request):
            raise PermissionDenied
        if request.method == "GET":
            return self._retrain_confirmation(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["GET", "POST"])
        mode = request.POST.get("mode", "plain")
        options = {
            "force": request.POST.get("force") == "on",
            "tune": mode == "tune",
            "warm_start": mode == "warm_start",
            # Stored as a code, read in each reader's language; a typed reason
            # is kept as typed.
            "reason": request.POST.get("reason", "").strip()[:500]
            or message("retrain.admin"),
        }
        try:
            run = retrain_request(
                trigger=RetrainRun.Trigger.MANUAL,
                actor=Actor.for_user(request.user),
                options=options,
            )
        except RetrainAlreadyRunning as exc:
            self.message_user(
                request, _("Refused: %(error)s") % {"error": exc}, messages.WARNING
            )
        except ValidationError as exc:
            self.message_user(
                request,
                _("Refused: %(error)s") % {"error": error_text(exc)},
                messages.ERROR,
            )
        else:
            self.message_user(request, _("Retrain run %(id)d queued.") % {"id": run.pk})
        return HttpResponseRedirect(reverse("admin:mlops_retrainrun_changelist"))

    def _retrain_confirmation(self, request):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Retrain now?"),
            "opts": self.model._meta,
            "in_flight": retrain_in_flight(),
            "active": model_version_active(),
            "latest_draw": draw_latest(),
        }
        return TemplateResponse(
            request, "admin/mlops/retrainrun/retrain_confirmation.html", context
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_retrain": self.has_retrain_permission(request),
        }
        return super().changelist_view(request, extra_context)
