"""Retrain runs, and the button that queues a manual retrain."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
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
from .figures import seconds, validation_table_html

# Who asked, in words beside the code (the model's labels say "Cli").
TRIGGER_WORDS = {
    RetrainRun.Trigger.SCHEDULED: gettext_lazy("weekly schedule"),
    RetrainRun.Trigger.MANUAL: gettext_lazy("staff request"),
    RetrainRun.Trigger.EMERGENCY: gettext_lazy("emergency"),
    RetrainRun.Trigger.CLI: gettext_lazy("command line"),
}


@admin.register(RetrainRun)
class RetrainRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "trigger_code",
        "status",
        "requested_by",
        "created_at",
        "duration",
        "draw_to",
        "model_version",
        "promoted",
    )
    fields = (
        "trigger_code",
        "requested_by",
        "status",
        "options_text",
        "reason_text",
        "created_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "duration",
        "draw_count",
        "draw_from",
        "draw_to",
        "model_version",
        "promoted",
        "promotion_reason_text",
        "validation_table",
        "tuning",
        "peak_memory",
        "error_message_text",
        "traceback",
        "task_id",
    )
    # Read-only pages: computed fields, and the texts in the reader's language
    # in place of the English text columns.
    readonly_fields = (
        "trigger_code",
        "created_at",
        "options_text",
        "reason_text",
        "duration",
        "promotion_reason_text",
        "validation_table",
        "peak_memory",
        "error_message_text",
    )
    list_filter = ("trigger", "status", "promoted")
    list_select_related = ("requested_by", "model_version")
    search_fields = ("id", "error_message", "promotion_reason")

    @admin.display(description=gettext_lazy("reason"))
    def reason_text(self, obj):
        return obj.reason_text

    @admin.display(description=gettext_lazy("promotion reason"))
    def promotion_reason_text(self, obj):
        return obj.promotion_reason_text

    @admin.display(description=gettext_lazy("error message"))
    def error_message_text(self, obj):
        return obj.error_message_text

    @admin.display(description=gettext_lazy("Trigger"), ordering="trigger")
    def trigger_code(self, obj):
        return format_html(
            "<code>{}</code> {}", obj.trigger, TRIGGER_WORDS.get(obj.trigger, "")
        )

    @admin.display(description=gettext_lazy("Duration"), ordering="duration_seconds")
    def duration(self, obj):
        return seconds(obj.duration_seconds)

    @admin.display(description=gettext_lazy("Options"))
    def options_text(self, obj):
        options = obj.options or {}
        return (
            "; ".join(
                f"{key}: {value}"
                for key, value in options.items()
                if key not in ("reason", "reason_message")  # shown as the reason
            )
            or "—"
        )

    @admin.display(description=gettext_lazy("Validation metrics"))
    def validation_table(self, obj):
        return validation_table_html(obj.validation_metrics)

    @admin.display(description=gettext_lazy("Peak memory"))
    def peak_memory(self, obj):
        if obj.peak_memory_bytes is None:
            return "—"
        return filesizeformat(obj.peak_memory_bytes)

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
