"""The model registry: versions, their files, activations and backups; operations.

Activate, back up, restore from backup, verify integrity, and roll back (a
button on the changelist, with a confirmation page); who may do what is in the
package's docstring.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from draws.timefmt import format_kst
from mlops.messages import message, render
from mlops.models import ModelActivation, ModelVersion
from mlops.services.operations.backups import (
    model_backup_newest_good,
    model_version_backup,
    model_version_restore,
    model_version_rollback,
    model_version_rollback_plan,
)
from mlops.services.operations.integrity import models_verify
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_version_activate,
    model_version_active,
    model_version_metadata,
    model_version_read_verified,
)

from .base import ActionPermissionMixin, ReadOnlyAdmin, error_text, pretty_json
from .figures import seconds, validation_table_html


def _metric(version: ModelVersion, name: str, percent: bool) -> str:
    figure = (version.validation_metrics or {}).get(name) or {}
    value, baseline = figure.get("value"), figure.get("baseline")
    if value is None or baseline is None:
        return "—"
    if percent:
        return _("%(value).1f%% (random %(baseline).1f%%)") % {
            "value": 100 * value,
            "baseline": 100 * baseline,
        }
    return _("%(value).3f (random %(baseline).3f)") % {
        "value": value,
        "baseline": baseline,
    }


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
                    "size_detail",
                )
            },
        ),
        (gettext_lazy("Activation history"), {"fields": ("activation_timeline",)}),
        (gettext_lazy("Backups"), {"fields": ("backup_table",)}),
        (
            gettext_lazy("Training"),
            {
                "fields": (
                    "draw_from",
                    "draw_to",
                    "draw_count",
                    "training_data_hash",
                    "feature_set_version",
                    "seed",
                    "training_time",
                )
            },
        ),
        (
            gettext_lazy("Validation against chance"),
            {"fields": ("validation_table",)},
        ),
        (gettext_lazy("Metadata"), {"fields": ("metadata_pretty",)}),
    )
    readonly_fields = (
        "size_detail",
        "training_time",
        "file_status",
        "activation_timeline",
        "backup_table",
        "metadata_pretty",
        "validation_table",
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
    @admin.display(description=gettext_lazy("Draws"), ordering="draw_to")
    def draw_range(self, obj):
        return f"{obj.draw_from}–{obj.draw_to} ({obj.draw_count:,})"

    @admin.display(description=gettext_lazy("Any-hit rate (validation)"))
    def any_hit_rate(self, obj):
        return _metric(obj, "any_hit_rate", percent=True)

    @admin.display(description=gettext_lazy("Mean hits (validation)"))
    def mean_hits(self, obj):
        return _metric(obj, "mean_hits", percent=False)

    @admin.display(description=gettext_lazy("Size"), ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)

    @admin.display(description=gettext_lazy("Backups"))
    def backup_status(self, obj):
        count = getattr(obj, "backup_count", None)
        if count is None:
            count = obj.backups.filter(deleted_at__isnull=True).count()
        if not count:
            return _("none")
        newest = getattr(obj, "newest_backup_at", None)
        when = _(", newest %(when)s") % {"when": format_kst(newest)} if newest else ""
        return f"{count}{when}"

    # --- detail ---
    @admin.display(description=gettext_lazy("Size"))
    def size_detail(self, obj):
        return _("%(size)s (%(bytes)s bytes)") % {
            "size": filesizeformat(obj.size_bytes),
            "bytes": f"{obj.size_bytes:,}",
        }

    @admin.display(description=gettext_lazy("Training time"))
    def training_time(self, obj):
        return seconds(obj.training_seconds)

    @admin.display(description=gettext_lazy("File on disk"))
    def file_status(self, obj):
        if obj.state == ModelVersion.State.DELETED:
            return _("removed by cleanup (restore it from a backup)")
        try:
            model_version_read_verified(obj)
        except ModelIntegrityError as exc:
            return _("PROBLEM: %(problem)s — %(detail)s") % {
                "problem": exc.reason.replace("_", " "),
                "detail": render(exc.detail_message, fallback=exc.detail),
            }
        return _("present, matches its sha256")

    @admin.display(description=gettext_lazy("When it was the active model"))
    def activation_timeline(self, obj):
        periods = obj.activations.select_related("user", "retrain_run").order_by(
            "activated_at", "id"
        )
        if not periods:
            return _("Never active.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    format_kst(p.activated_at, seconds=True),
                    _("now (current)")
                    if p.is_current
                    else format_kst(p.deactivated_at, seconds=True),
                    _who(p),
                    p.reason_text or "—",
                    p.deactivation_reason_text or "—",
                )
                for p in periods
            ),
        )
        return format_html(
            '<table class="activation-timeline"><thead><tr><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("From"),
            _("Until"),
            _("Activated by"),
            _("Why"),
            _("Ended because"),
            rows,
        )

    @admin.display(description=gettext_lazy("Backups (newest first)"))
    def backup_table(self, obj):
        backups = obj.backups.all()
        if not backups:
            return _("No backups.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    b.file_path,
                    format_kst(b.created_at, seconds=True),
                    b.created_by,
                    format_kst(b.verified_at, seconds=True)
                    if b.verified_at
                    else _("never"),
                    _("removed %(when)s") % {"when": format_kst(b.deleted_at)}
                    if b.deleted_at
                    else _("kept"),
                )
                for b in backups
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("File"),
            _("Created"),
            _("By"),
            _("Last verified"),
            _("Status"),
            rows,
        )

    @admin.display(description=gettext_lazy("Validation metrics"))
    def validation_table(self, obj):
        return validation_table_html(obj.validation_metrics)

    @admin.display(description=gettext_lazy("Metadata"))
    def metadata_pretty(self, obj):
        return pretty_json(model_version_metadata(obj))

    # --- actions ---
    def _one(self, request, queryset, verb: str) -> ModelVersion | None:
        if queryset.count() != 1:
            if verb == "restore":
                text = _("Select exactly one version to restore.")
            else:
                text = _("Select exactly one version to activate.")
            self.message_user(request, text, messages.ERROR)
            return None
        return queryset.get()

    @admin.action(description=gettext_lazy("Activate"), permissions=["activate"])
    def activate_selected(self, request, queryset):
        version = self._one(request, queryset, "activate")
        if version is None:
            return None
        if version.is_active:
            self.message_user(
                request,
                _("Nothing changed: %(version)s is already the active model.")
                % {"version": version.version},
                messages.WARNING,
            )
            return None
        try:
            model_version_activate(
                version=version,
                actor=Actor.for_user(request.user),
                reason=message("activation.admin"),
            )
        except (ValidationError, ModelIntegrityError) as exc:
            text = error_text(exc) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, _("Not activated: %s") % text, messages.ERROR)
            return None
        # Django's message list capitalises the first letter: never start with
        # a version label (it would read "Lotto_model_…").
        self.message_user(
            request,
            _("Activated %(version)s: it is now the active model.")
            % {"version": version.version},
        )
        return None

    @admin.action(description=gettext_lazy("Back up"), permissions=["backup"])
    def backup_selected(self, request, queryset):
        for version in queryset:
            try:
                backup = model_version_backup(
                    version=version, actor=Actor.for_user(request.user)
                )
            except ValidationError as exc:
                self.message_user(request, error_text(exc), messages.ERROR)
                continue
            self.message_user(
                request,
                _("Backed up %(version)s to %(path)s (verified).")
                % {"version": version.version, "path": backup.file_path},
            )

    @admin.action(
        description=gettext_lazy("Restore from backup"), permissions=["restore"]
    )
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
            self.message_user(
                request, _("Not restored: %s") % error_text(exc), messages.ERROR
            )
            return None
        self.message_user(
            request, _("Restored %s; it is now the active model.") % restored.version
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
            "title": _("Restore %s from backup?") % version.version,
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

    @admin.action(description=gettext_lazy("Verify integrity"), permissions=["view"])
    def verify_selected(self, request, queryset):
        report = models_verify(
            actor=Actor.for_user(request.user), versions=list(queryset)
        )
        level = messages.SUCCESS if report.ok else messages.ERROR
        self.message_user(request, report.summary() + ".", level)
        for problem in report.missing + report.corrupt:
            self.message_user(
                request,
                _("%(status)s: %(path)s (%(kind)s of %(version)s) %(detail)s")
                % {
                    "status": problem.status,
                    "path": problem.path,
                    "kind": problem.kind,
                    "version": problem.version,
                    "detail": problem.detail,
                },
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
                    request, _("Not rolled back: %s") % error_text(exc), messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    _("Rolled back: %s is now the active model.") % version.version,
                )
            return HttpResponseRedirect(changelist)
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET", "POST"])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Roll back to the previous version?"),
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
        who = _("%(who)s, retrain run %(run)s") % {
            "who": who,
            "run": activation.retrain_run_id,
        }
    return who
