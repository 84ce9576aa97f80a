"""The staff's view of the ML platform: registry, retrains, forecasts, audit trail.

Every row here is written by a service (registry, retraining, scoring, audit),
so every model is read-only; changes happen through actions and buttons that
call the same services as the commands and the API. Who may do what:

- Activate, Roll back: ``mlops.activate_modelversion``
- Back up: ``mlops.backup_modelversion``
- Restore from backup: ``mlops.restore_modelversion``
- Verify integrity: ``mlops.view_modelversion`` (it only reads and records)
- Retrain now: ``mlops.retrain_model``

A staff user without the permission gets 403; a non-staff user never gets past
the admin login.
"""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from mlops.models import (
    AuditEvent,
    ModelActivation,
    ModelBackup,
    ModelVersion,
    Prediction,
    RetrainRun,
)
from mlops.services.audit import Actor
from mlops.services.backups import (
    model_backup_newest_good,
    model_version_backup,
    model_version_restore,
    model_version_rollback,
    model_version_rollback_plan,
)
from mlops.services.integrity import models_verify
from mlops.services.registry import (
    ModelIntegrityError,
    model_version_activate,
    model_version_active,
    model_version_metadata,
    model_version_read_verified,
)
from mlops.services.retrain_requests import RetrainAlreadyRunning, retrain_request


def _pretty_json(value) -> str:
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, default=str),
    )


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The service writes the row; the admin shows it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActionPermissionMixin:
    """403 instead of Django's "No action selected" for a forbidden action.

    Django hides an action the user may not run, and silently ignores it when it
    is posted anyway; a refusal should say so.
    """

    action_permissions: dict[str, str] = {}

    def changelist_view(self, request, extra_context=None):
        action = request.POST.get("action") if request.method == "POST" else None
        needed = self.action_permissions.get(action)
        if needed and not request.user.has_perm(needed):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)


# --- Model versions --------------------------------------------------------------


def _metric(version: ModelVersion, name: str, percent: bool) -> str:
    figure = (version.validation_metrics or {}).get(name) or {}
    value, baseline = figure.get("value"), figure.get("baseline")
    if value is None or baseline is None:
        return "—"
    if percent:
        return f"{100 * value:.1f}% (random {100 * baseline:.1f}%)"
    return f"{value:.3f} (random {baseline:.3f})"


@admin.register(ModelVersion)
class ModelVersionAdmin(ActionPermissionMixin, ReadOnlyAdmin):
    list_display = (
        "version",
        "state",
        "created_at",
        "draw_range",
        "any_hit_rate",
        "mean_hits",
        "size",
        "backup_status",
    )
    list_filter = ("state", "feature_set_version")
    search_fields = ("version", "sha256")
    actions = (
        "activate_selected",
        "backup_selected",
        "restore_selected",
        "verify_selected",
    )
    action_permissions = {
        "activate_selected": "mlops.activate_modelversion",
        "backup_selected": "mlops.backup_modelversion",
        "restore_selected": "mlops.restore_modelversion",
        "verify_selected": "mlops.view_modelversion",
    }
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "version",
                    "state",
                    "state_changed_at",
                    "created_at",
                    "file_status",
                    "file_path",
                    "metadata_path",
                    "sha256",
                    "size_bytes",
                )
            },
        ),
        ("Activation history", {"fields": ("activation_timeline",)}),
        ("Backups", {"fields": ("backup_table",)}),
        (
            "Training",
            {
                "fields": (
                    "draw_from",
                    "draw_to",
                    "draw_count",
                    "training_data_hash",
                    "feature_set_version",
                    "seed",
                    "training_seconds",
                )
            },
        ),
        ("Metadata", {"fields": ("metadata_pretty",)}),
    )
    readonly_fields = (
        "file_status",
        "activation_timeline",
        "backup_table",
        "metadata_pretty",
    )

    def get_queryset(self, request):
        live = Q(backups__deleted_at__isnull=True)
        return (
            super()
            .get_queryset(request)
            .annotate(
                backup_count=Count("backups", filter=live),
                newest_backup_at=Max("backups__created_at", filter=live),
            )
        )

    # Permission checks named after the custom permissions (see the module doc).
    def has_activate_permission(self, request):
        return request.user.has_perm("mlops.activate_modelversion")

    def has_backup_permission(self, request):
        return request.user.has_perm("mlops.backup_modelversion")

    def has_restore_permission(self, request):
        return request.user.has_perm("mlops.restore_modelversion")

    # --- columns ---
    @admin.display(description="Draws", ordering="draw_to")
    def draw_range(self, obj):
        return f"{obj.draw_from}–{obj.draw_to} ({obj.draw_count:,})"

    @admin.display(description="Any-hit rate (validation)")
    def any_hit_rate(self, obj):
        return _metric(obj, "any_hit_rate", percent=True)

    @admin.display(description="Mean hits (validation)")
    def mean_hits(self, obj):
        return _metric(obj, "mean_hits", percent=False)

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)

    @admin.display(description="Backups")
    def backup_status(self, obj):
        count = getattr(obj, "backup_count", None)
        if count is None:
            count = obj.backups.filter(deleted_at__isnull=True).count()
        if not count:
            return "none"
        newest = getattr(obj, "newest_backup_at", None)
        when = f", newest {newest:%Y-%m-%d %H:%M}" if newest else ""
        return f"{count}{when}"

    # --- detail ---
    @admin.display(description="File on disk")
    def file_status(self, obj):
        if obj.state == ModelVersion.State.DELETED:
            return "removed by cleanup (restore it from a backup)"
        try:
            model_version_read_verified(obj)
        except ModelIntegrityError as exc:
            return f"PROBLEM: {exc.reason.replace('_', ' ')} — {exc.detail}"
        return "present, matches its sha256"

    @admin.display(description="When it was the active model")
    def activation_timeline(self, obj):
        periods = obj.activations.select_related("user", "retrain_run").order_by(
            "activated_at", "id"
        )
        if not periods:
            return "Never active."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{p.activated_at:%Y-%m-%d %H:%M:%S}",
                    "now (current)"
                    if p.is_current
                    else (
                        f"{p.deactivated_at:%Y-%m-%d %H:%M:%S}"
                        if p.deactivated_at
                        else "—"
                    ),
                    _who(p),
                    p.reason or "—",
                    p.deactivation_reason or "—",
                )
                for p in periods
            ),
        )
        return format_html(
            '<table class="activation-timeline"><thead><tr><th>From</th><th>Until</th>'
            "<th>Activated by</th><th>Why</th><th>Ended because</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Backups (newest first)")
    def backup_table(self, obj):
        backups = obj.backups.all()
        if not backups:
            return "No backups."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    b.file_path,
                    f"{b.created_at:%Y-%m-%d %H:%M:%S}",
                    b.created_by,
                    f"{b.verified_at:%Y-%m-%d %H:%M:%S}" if b.verified_at else "never",
                    f"removed {b.deleted_at:%Y-%m-%d}" if b.deleted_at else "kept",
                )
                for b in backups
            ),
        )
        return format_html(
            "<table><thead><tr><th>File</th><th>Created</th><th>By</th>"
            "<th>Last verified</th><th>Status</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Metadata")
    def metadata_pretty(self, obj):
        return _pretty_json(model_version_metadata(obj))

    # --- actions ---
    def _one(self, request, queryset, verb: str) -> ModelVersion | None:
        if queryset.count() != 1:
            self.message_user(
                request, f"Select exactly one version to {verb}.", messages.ERROR
            )
            return None
        return queryset.get()

    @admin.action(description="Activate", permissions=["activate"])
    def activate_selected(self, request, queryset):
        version = self._one(request, queryset, "activate")
        if version is None:
            return None
        try:
            model_version_activate(
                version=version,
                actor=Actor.for_user(request.user),
                reason="activated in the admin",
            )
        except (ValidationError, ModelIntegrityError) as exc:
            text = _errors(exc) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, f"Not activated: {text}", messages.ERROR)
            return None
        self.message_user(request, f"{version.version} is now the active model.")
        return None

    @admin.action(description="Back up", permissions=["backup"])
    def backup_selected(self, request, queryset):
        for version in queryset:
            try:
                backup = model_version_backup(
                    version=version, actor=Actor.for_user(request.user)
                )
            except ValidationError as exc:
                self.message_user(request, _errors(exc), messages.ERROR)
                continue
            self.message_user(
                request,
                f"Backed up {version.version} to {backup.file_path} (verified).",
            )

    @admin.action(description="Restore from backup", permissions=["restore"])
    def restore_selected(self, request, queryset):
        version = self._one(request, queryset, "restore")
        if version is None:
            return None
        if request.POST.get("post") != "yes":
            return self._restore_confirmation(request, version)
        try:
            restored = model_version_restore(
                version=version,
                actor=Actor.for_user(request.user),
                reason=request.POST.get("reason", "").strip()[:500],
            )
        except ValidationError as exc:
            self.message_user(request, f"Not restored: {_errors(exc)}", messages.ERROR)
            return None
        self.message_user(
            request, f"Restored {restored.version}; it is now the active model."
        )
        return None

    def _restore_confirmation(self, request, version):
        try:
            model_version_read_verified(version)
            file_problem = ""
        except ModelIntegrityError as exc:
            file_problem = exc.reason.replace("_", " ")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Restore {version.version} from backup?",
            "opts": self.model._meta,
            "version": version,
            "file_problem": file_problem,
            "backup": model_backup_newest_good(version),
            "active": model_version_active(),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/mlops/modelversion/restore_confirmation.html", context
        )

    @admin.action(description="Verify integrity", permissions=["view"])
    def verify_selected(self, request, queryset):
        report = models_verify(
            actor=Actor.for_user(request.user), versions=list(queryset)
        )
        level = messages.SUCCESS if report.ok else messages.ERROR
        self.message_user(request, report.summary() + ".", level)
        for problem in report.missing + report.corrupt:
            self.message_user(
                request,
                f"{problem.status}: {problem.path} ({problem.kind} of "
                f"{problem.version}) {problem.detail}",
                messages.ERROR,
            )

    # --- roll back (a button on the changelist, with a confirmation page) ---
    def get_urls(self):
        extra = [
            path(
                "rollback/",
                self.admin_site.admin_view(self.rollback_view),
                name="mlops_modelversion_rollback",
            ),
        ]
        return extra + super().get_urls()

    def rollback_view(self, request):
        if not self.has_activate_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:mlops_modelversion_changelist")
        if request.method == "POST":
            try:
                version = model_version_rollback(
                    actor=Actor.for_user(request.user),
                    reason=request.POST.get("reason", "").strip()[:500],
                )
            except ValidationError as exc:
                self.message_user(
                    request, f"Not rolled back: {_errors(exc)}", messages.ERROR
                )
            else:
                self.message_user(
                    request, f"Rolled back: {version.version} is now the active model."
                )
            return HttpResponseRedirect(changelist)
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET", "POST"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Roll back to the previous version?",
            "opts": self.model._meta,
            "plan": model_version_rollback_plan(),
        }
        return TemplateResponse(
            request, "admin/mlops/modelversion/rollback_confirmation.html", context
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_roll_back": self.has_activate_permission(request),
            "active_version": model_version_active(),
        }
        return super().changelist_view(request, extra_context)


def _who(activation: ModelActivation) -> str:
    who = activation.activated_by
    if activation.user_id and activation.user.get_username() != who:
        who = f"{who} ({activation.user.get_username()})"
    if activation.retrain_run_id:
        who = f"{who}, retrain run {activation.retrain_run_id}"
    return who


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

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)


# --- Retraining ------------------------------------------------------------------


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
            self.message_user(request, f"Refused: {exc}", messages.WARNING)
        except ValidationError as exc:
            self.message_user(request, f"Refused: {_errors(exc)}", messages.ERROR)
        else:
            self.message_user(request, f"Retrain run {run.pk} queued.")
        return HttpResponseRedirect(reverse("admin:mlops_retrainrun_changelist"))

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_retrain": self.has_retrain_permission(request),
        }
        return super().changelist_view(request, extra_context)


# --- Forecasts -------------------------------------------------------------------


class ScoredFilter(admin.SimpleListFilter):
    title = "scored"
    parameter_name = "scored"

    def lookups(self, request, model_admin):
        return (("yes", "Scored"), ("no", "Waiting for the draw"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(scored_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(scored_at__isnull=True)
        return queryset


class TargetDrawFilter(admin.SimpleListFilter):
    """The most recent target draws; older ones by searching the draw number."""

    title = "target draw"
    parameter_name = "target_draw"
    RECENT = 15

    def lookups(self, request, model_admin):
        draws = (
            Prediction.objects.order_by("-target_draw_no")
            .values_list("target_draw_no", flat=True)
            .distinct()[: self.RECENT]
        )
        return [(str(d), str(d)) for d in draws]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(target_draw_no=int(self.value()))
        return queryset


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = (
        "target_draw_no",
        "target_draw_date",
        "forecaster",
        "mode",
        "top_numbers",
        "served_count",
        "scored_at",
        "hits",
        "brier_score",
    )
    list_filter = (ScoredFilter, TargetDrawFilter, "mode")
    list_select_related = ("model_version",)
    search_fields = ("target_draw_no", "forecaster")

    def get_search_results(self, request, queryset, search_term):
        if search_term.strip().isdigit():
            return queryset.filter(target_draw_no=int(search_term)), False
        return super().get_search_results(request, queryset, search_term)


# --- The audit trail ---------------------------------------------------------------


def audit_summary(event: AuditEvent) -> str:
    """One line of an event's details for lists."""
    details = event.details or {}
    if event.action == AuditEvent.Action.DRAW_IMPORTED:
        return (
            f"{details.get('count')} draw(s), {details.get('first')}–"
            f"{details.get('last')} from {details.get('source')}"
        )
    for key in ("summary", "reason", "outcome"):
        if details.get(key):
            return str(details[key])[:120]
    return json.dumps(details, default=str)[:120]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Append-only: not even a superuser can add, change or delete an event here."""

    list_display = (
        "created_at",
        "actor_type",
        "actor",
        "action",
        "object_repr",
        "summary",
    )
    list_filter = ("action", "actor_type")
    search_fields = ("actor", "object_repr", "object_id")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor_type",
        "actor",
        "user",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "details_pretty",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description="Details")
    def summary(self, obj):
        return audit_summary(obj)

    @admin.display(description="Details")
    def details_pretty(self, obj):
        return _pretty_json(obj.details)
