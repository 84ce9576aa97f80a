from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, UniqueConstraint
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from draws.models import LottoDraw
from draws.timefmt import format_kst
from mlops.messages import code_of, is_message, message, render


class ModelVersion(models.Model):
    """One trained model artefact in the registry; at most one is active."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")
        CORRUPT = "corrupt", _("Corrupt")
        DELETED = "deleted", _("Deleted")

    version = models.CharField(verbose_name=_("version"), max_length=64, unique=True)
    file_path = models.CharField(
        verbose_name=_("file path"),
        max_length=255,
        help_text=_("Relative to MODEL_ROOT"),
    )
    metadata_path = models.CharField(
        verbose_name=_("metadata path"), max_length=255, blank=True
    )
    sha256 = models.CharField(verbose_name=_("sha256"), max_length=64)
    size_bytes = models.BigIntegerField(verbose_name=_("size bytes"))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    state = models.CharField(
        verbose_name=_("state"),
        max_length=16,
        choices=State.choices,
        default=State.ARCHIVED,
        db_index=True,
    )
    draw_from = models.PositiveIntegerField(verbose_name=_("draw from"))
    draw_to = models.PositiveIntegerField(verbose_name=_("draw to"))
    draw_count = models.PositiveIntegerField(verbose_name=_("draw count"))
    training_data_hash = models.CharField(
        verbose_name=_("training data hash"), max_length=64
    )
    feature_set_version = models.CharField(
        verbose_name=_("feature set version"), max_length=64
    )
    hyperparameters = models.JSONField(verbose_name=_("hyperparameters"), default=dict)
    seed = models.IntegerField(verbose_name=_("seed"), default=0)
    library_versions = models.JSONField(
        verbose_name=_("library versions"), default=dict
    )
    training_seconds = models.FloatField(
        verbose_name=_("training seconds"), default=0.0
    )
    validation_metrics = models.JSONField(
        verbose_name=_("validation metrics"), default=dict
    )
    training_info = models.JSONField(
        verbose_name=_("training info"), default=dict, blank=True
    )
    state_changed_at = models.DateTimeField(
        verbose_name=_("state changed at"), null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        constraints = [
            UniqueConstraint(
                fields=["state"],
                condition=Q(state="active"),
                name="at_most_one_active_model",
            ),
        ]
        permissions = [
            ("activate_modelversion", "Can activate or roll back a model version"),
            ("backup_modelversion", "Can back up a model version"),
            ("restore_modelversion", "Can restore a model version from a backup"),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE


class ModelActivation(models.Model):
    """One period during which a version was the active one, and why."""

    model_version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("model version"),
        on_delete=models.PROTECT,
        related_name="activations",
    )
    activated_at = models.DateTimeField(verbose_name=_("activated at"))
    deactivated_at = models.DateTimeField(
        verbose_name=_("deactivated at"), null=True, blank=True
    )
    # Who or what: a user, "retrain", "self-heal", "restore", "rollback", "cli", ...
    activated_by = models.CharField(verbose_name=_("activated by"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    retrain_run = models.ForeignKey(
        "RetrainRun",
        verbose_name=_("retrain run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    reason = models.TextField(verbose_name=_("reason"), blank=True)
    deactivation_reason = models.TextField(
        verbose_name=_("deactivation reason"), blank=True
    )
    # The service's own reasons as a code and parameters (mlops.messages), shown in
    # the reader's language; the text columns keep the English (and a person's
    # typed reason, which has no code).
    reason_message = models.JSONField(null=True, blank=True, editable=False)
    deactivation_reason_message = models.JSONField(
        null=True, blank=True, editable=False
    )
    # True for the period still running. A partial unique index on a NULL
    # deactivated_at would not work: NULLs never collide in a unique index.
    is_current = models.BooleanField(verbose_name=_("is current"), default=True)

    class Meta:
        ordering = ["-activated_at", "-id"]
        verbose_name = _("model activation")
        verbose_name_plural = _("model activations")
        constraints = [
            UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="one_current_activation",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(version)s from %(when)s") % {
            "version": self.model_version.version,
            "when": format_kst(self.activated_at),
        }

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language (a person's typed text as typed)."""
        return render(self.reason_message, fallback=self.reason)

    @property
    def deactivation_reason_text(self) -> str:
        return render(
            self.deactivation_reason_message, fallback=self.deactivation_reason
        )


class ModelBackup(models.Model):
    """A verified copy of a version's file (and metadata) under MODEL_ROOT/backups/."""

    model_version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("model version"),
        on_delete=models.PROTECT,
        related_name="backups",
    )
    file_path = models.CharField(
        verbose_name=_("file path"),
        max_length=255,
        help_text=_("Relative to MODEL_ROOT"),
    )
    metadata_path = models.CharField(
        verbose_name=_("metadata path"), max_length=255, blank=True
    )
    sha256 = models.CharField(verbose_name=_("sha256"), max_length=64)
    size_bytes = models.BigIntegerField(verbose_name=_("size bytes"))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    created_by = models.CharField(
        verbose_name=_("created by"), max_length=64, default="system"
    )
    verified_at = models.DateTimeField(
        verbose_name=_("verified at"), null=True, blank=True
    )
    deleted_at = models.DateTimeField(
        verbose_name=_("deleted at"), null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("model backup")
        verbose_name_plural = _("model backups")

    def __str__(self) -> str:
        return gettext("Backup of %(version)s at %(when)s") % {
            "version": self.model_version.version,
            "when": format_kst(self.created_at),
        }


class RetrainRun(models.Model):
    """One retraining attempt, from request to result: the audit of retraining."""

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        MANUAL = "manual", _("Manual")
        EMERGENCY = "emergency", _("Emergency")
        CLI = "cli", _("Cli")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCESS = "success", _("Success")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        # Nothing to learn: same data, parameters and feature set as the active
        # model, whose file verifies. Nothing was registered.
        UNCHANGED = "unchanged", _("Unchanged")

    IN_FLIGHT = "retrain"

    trigger = models.CharField(
        verbose_name=_("trigger"), max_length=16, choices=Trigger.choices
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.QUEUED,
        db_index=True,
    )
    # Single flight across processes and machines: "retrain" while queued or
    # running, NULL otherwise; the unique index admits one non-NULL row.
    in_flight = models.CharField(
        verbose_name=_("in flight"), max_length=16, null=True, blank=True, unique=True
    )
    options = models.JSONField(
        verbose_name=_("options"), default=dict, blank=True
    )  # force, tune, warm_start
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(
        verbose_name=_("started at"), null=True, blank=True
    )
    finished_at = models.DateTimeField(
        verbose_name=_("finished at"), null=True, blank=True
    )
    heartbeat_at = models.DateTimeField(
        verbose_name=_("heartbeat at"), null=True, blank=True
    )
    duration_seconds = models.FloatField(
        verbose_name=_("duration seconds"), null=True, blank=True
    )
    draw_count = models.PositiveIntegerField(
        verbose_name=_("draw count"), null=True, blank=True
    )
    draw_from = models.PositiveIntegerField(
        verbose_name=_("draw from"), null=True, blank=True
    )
    draw_to = models.PositiveIntegerField(
        verbose_name=_("draw to"), null=True, blank=True
    )
    model_version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("model version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retrain_runs",
    )
    promoted = models.BooleanField(verbose_name=_("promoted"), default=False)
    promotion_reason = models.TextField(verbose_name=_("promotion reason"), blank=True)
    # The gate's reason as a code and parameters (mlops.messages).
    promotion_reason_message = models.JSONField(null=True, blank=True, editable=False)
    validation_metrics = models.JSONField(
        verbose_name=_("validation metrics"), default=dict, blank=True
    )
    tuning = models.JSONField(verbose_name=_("tuning"), default=dict, blank=True)
    peak_memory_bytes = models.BigIntegerField(
        verbose_name=_("peak memory bytes"), null=True, blank=True
    )
    error_message = models.TextField(verbose_name=_("error message"), blank=True)
    # The service's error as a code and parameters (mlops.messages); the text
    # column keeps the English (search, older readers).
    error_message_message = models.JSONField(null=True, blank=True, editable=False)
    traceback = models.TextField(verbose_name=_("traceback"), blank=True)
    task_id = models.CharField(verbose_name=_("task id"), max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("retrain run")
        verbose_name_plural = _("retrain runs")
        permissions = [("retrain_model", "Can request a retrain")]

    def __str__(self) -> str:
        return gettext("Retrain run %(id)s (%(trigger)s, %(status)s)") % {
            "id": self.pk,
            "trigger": self.trigger,
            "status": self.status,
        }

    @property
    def promotion_reason_text(self) -> str:
        """The promotion gate's reason in the reader's language."""
        return render(self.promotion_reason_message, fallback=self.promotion_reason)

    @property
    def error_message_text(self) -> str:
        """Why the run failed, in the reader's language (old rows as stored)."""
        return render(self.error_message_message, fallback=self.error_message)

    def requested_reason(self) -> dict | str | None:
        """Why the run was requested: a stored message, or a person's typed text.

        A run requested without a reason gets its trigger's (retrain.<trigger>).
        """
        options = self.options or {}
        if options.get("reason_message") or options.get("reason"):
            return options.get("reason_message") or options["reason"]
        code = f"retrain.{self.trigger}"
        return message(code) if is_message({"code": code}) else None

    @property
    def reason_text(self) -> str:
        """Why the run was requested, in the reader's language (typed: as typed)."""
        fallback = (self.options or {}).get("reason") or ""
        return render(self.requested_reason(), fallback=fallback)

    @property
    def reason_code(self) -> str | None:
        """The reason's code; None for a person's typed reason."""
        return code_of(self.requested_reason())


class IntegrityCheck(models.Model):
    """The latest scheduled check of one scope of model files (one row a scope)."""

    class Scope(models.TextChoices):
        ACTIVE = "active"  # the active model's file, every few minutes
        ALL = "all"  # every model, metadata and backup file, daily

    scope = models.CharField(max_length=16, choices=Scope.choices, unique=True)
    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    summary = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return gettext("%(scope)s check at %(when)s: %(summary)s") % {
            "scope": self.scope,
            "when": format_kst(self.checked_at),
            "summary": self.summary,
        }


class FrozenForecastError(ValidationError):
    """A forecast for a draw whose result is stored can't be recorded or changed."""


# What the forecaster said; frozen once the target draw's result is stored.
# The score fields and served_count stay writable.
FORECAST_FIELDS = frozenset(
    {
        "target_draw_no",
        "target_draw_date",
        "mode",
        "model_version",
        "forecaster",
        "probabilities",
        "top_numbers",
        "combinations",
        "created_at",
        # The ledger link (see services/monitoring/ledger.py).
        "ledger_index",
        "commitment",
        "previous_commitment",
        "pre_ledger",
    }
)


def _refuse_if_drawn(draw_nos, what: str) -> None:
    drawn = sorted(
        LottoDraw.objects.filter(draw_no__in=set(draw_nos)).values_list(
            "draw_no", flat=True
        )
    )
    if drawn:
        if what == "altering":
            text = gettext(
                "Draw %(draw)d is already drawn: altering a forecast for it is "
                "refused (a forecast made after the fact is not a forecast)."
            )
        else:
            text = gettext(
                "Draw %(draw)d is already drawn: recording a forecast for it is "
                "refused (a forecast made after the fact is not a forecast)."
            )
        raise FrozenForecastError(text % {"draw": drawn[0]})


class PredictionQuerySet(models.QuerySet):
    """Refuses bulk writes that would record or alter a forecast after its draw."""

    def update(self, **kwargs):
        if FORECAST_FIELDS & set(kwargs):
            targets = set(self.values_list("target_draw_no", flat=True))
            if "target_draw_no" in kwargs:
                targets.add(kwargs["target_draw_no"])
            _refuse_if_drawn(targets, "altering")
        return super().update(**kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        _refuse_if_drawn([obj.target_draw_no for obj in objs], "recording")
        return super().bulk_create(objs, *args, **kwargs)


class Prediction(models.Model):
    """The official forecast for one target draw by one model version or mode."""

    class Mode(models.TextChoices):
        ML = "ml", _("Ml")
        STATISTICAL = "statistical", _("Statistical")

    STATISTICAL_FORECASTER = "statistical"

    target_draw_no = models.PositiveIntegerField(
        verbose_name=_("target draw no"), db_index=True
    )
    target_draw_date = models.DateField(verbose_name=_("target draw date"))
    mode = models.CharField(verbose_name=_("mode"), max_length=16, choices=Mode.choices)
    model_version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("model version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predictions",
    )
    # The version label, or "statistical": one official forecast per draw and
    # forecaster (a NULL foreign key could not carry that unique constraint).
    forecaster = models.CharField(verbose_name=_("forecaster"), max_length=64)
    probabilities = models.JSONField(verbose_name=_("probabilities"))
    top_numbers = models.JSONField(verbose_name=_("top numbers"))
    combinations = models.JSONField(
        verbose_name=_("combinations"), default=list, blank=True
    )
    served_count = models.PositiveIntegerField(
        verbose_name=_("served count"), default=0
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    scored_at = models.DateTimeField(
        verbose_name=_("scored at"), null=True, blank=True, db_index=True
    )
    hits = models.PositiveSmallIntegerField(
        verbose_name=_("hits"), null=True, blank=True
    )
    bonus_hit = models.BooleanField(verbose_name=_("bonus hit"), null=True, blank=True)
    brier_score = models.FloatField(
        verbose_name=_("brier score"), null=True, blank=True
    )
    combination_results = models.JSONField(
        verbose_name=_("combination results"), null=True, blank=True
    )
    # The forecast ledger: a hash chain over every forecast recorded since it
    # existed (services/monitoring/ledger.py). Position 1, 2, ... in the chain;
    # sha256 of the canonical form with the previous link's commitment.
    ledger_index = models.PositiveIntegerField(
        verbose_name=_("ledger index"), null=True, blank=True, unique=True
    )
    commitment = models.CharField(
        verbose_name=_("commitment"), max_length=64, blank=True, default=""
    )
    previous_commitment = models.CharField(
        verbose_name=_("previous commitment"), max_length=64, blank=True, default=""
    )
    # Recorded before the ledger existed: not in the chain.
    pre_ledger = models.BooleanField(verbose_name=_("before the ledger"), default=False)

    objects = PredictionQuerySet.as_manager()

    class Meta:
        ordering = ["-target_draw_no", "-created_at"]
        verbose_name = _("prediction record")
        verbose_name_plural = _("prediction records")
        constraints = [
            UniqueConstraint(
                fields=["target_draw_no", "forecaster"],
                name="one_forecast_per_draw_and_forecaster",
            ),
        ]

    def __str__(self) -> str:
        return f"Forecast for draw {self.target_draw_no} by {self.forecaster}"

    def save(self, *args, **kwargs):
        # The service checks too; this catches any other code path (admin, shell).
        if self._state.adding:
            _refuse_if_drawn([self.target_draw_no], "recording")
        else:
            self._refuse_changes_after_draw(kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def _refuse_changes_after_draw(self, update_fields) -> None:
        touched = FORECAST_FIELDS
        if update_fields is not None:
            touched = FORECAST_FIELDS & set(update_fields)
        attnames = [self._meta.get_field(name).attname for name in touched]
        if not attnames:
            return
        stored = type(self).objects.filter(pk=self.pk).values(*attnames).first()
        if stored is None:
            return
        if any(stored[name] != getattr(self, name) for name in attnames):
            targets = [stored.get("target_draw_no", self.target_draw_no)]
            _refuse_if_drawn([*targets, self.target_draw_no], "altering")


class LedgerHead(models.Model):
    """The forecast ledger's head: one row, locked to append a link.

    Appending a forecast first updates this row (length + 1), which locks it
    until the transaction ends on PostgreSQL and takes SQLite's write lock, so
    concurrent recorders link one after another into one chain.
    """

    SINGLETON = 1

    length = models.PositiveIntegerField(verbose_name=_("length"), default=0)
    commitment = models.CharField(
        verbose_name=_("commitment"), max_length=64, blank=True, default=""
    )

    class Meta:
        verbose_name = _("ledger head")
        verbose_name_plural = _("ledger head")

    def __str__(self) -> str:
        return f"Ledger head {self.commitment[:12] or '(empty)'} ({self.length} links)"


class AuditEvent(models.Model):
    """An append-only record of who did what to which object, from any door."""

    class Action(models.TextChoices):
        ACTIVATE = "activate", _("Activate")
        BACKUP = "backup", _("Backup")
        RESTORE = "restore", _("Restore")
        ROLLBACK = "rollback", _("Rollback")
        CLEANUP = "cleanup", _("Cleanup")
        VERIFY = "verify", _("Verify")
        RETRAIN_REQUESTED = "retrain_requested", _("Retrain Requested")
        RETRAIN_FINISHED = "retrain_finished", _("Retrain Finished")
        MODEL_TRAINED = "model_trained", _("Model Trained")
        DRAW_IMPORTED = "draw_imported", _("Draw Imported")
        DRAW_EDITED = "draw_edited", _("Draw Edited")
        FALLBACK = "fallback", _("Fallback")
        SELF_HEAL = "self_heal", _("Self Heal")
        MARK_CORRUPT = "mark_corrupt", _("Mark Corrupt")

    created_at = models.DateTimeField(
        verbose_name=_("created at"), auto_now_add=True, db_index=True
    )
    # "user", "system", "cli", "scheduler", "api"
    actor_type = models.CharField(verbose_name=_("actor type"), max_length=16)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    actor = models.CharField(
        verbose_name=_("actor"), max_length=150, help_text=_("Username or system actor")
    )
    action = models.CharField(
        verbose_name=_("action"), max_length=32, choices=Action.choices, db_index=True
    )
    object_type = models.CharField(
        verbose_name=_("object type"), max_length=64, blank=True
    )
    object_id = models.CharField(verbose_name=_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(
        verbose_name=_("object repr"), max_length=200, blank=True
    )
    details = models.JSONField(verbose_name=_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{format_kst(self.created_at)} {self.actor} {self.action}"


class DrawFairnessCheck(models.Model):
    """The fairness tests of one window of the history, as it stood at `draw_no`.

    Computed after each import (docs/STATISTICS.md): windows "all", "52", "260".
    """

    class Window(models.TextChoices):
        ALL = "all"
        LAST_52 = "52"
        LAST_260 = "260"

    draw_no = models.PositiveIntegerField(help_text="Newest draw of the history")
    window = models.CharField(max_length=8, choices=Window.choices)
    draws = models.PositiveIntegerField(help_text="Draws in the window")
    first_draw = models.PositiveIntegerField()
    p_value = models.FloatField(help_text="Holm-combined p-value of the four tests")
    main_p_value = models.FloatField(help_text="Main-number uniformity (44/39 X^2)")
    bonus_p_value = models.FloatField(help_text="Bonus uniformity (X^2)")
    per_number_p_value = models.FloatField(help_text="Smallest Holm-adjusted p")
    overlap_p_value = models.FloatField(help_text="Consecutive-draw overlap")
    verdict_code = models.CharField(max_length=16)  # consistent / bias
    result = models.JSONField(help_text="Every test and figure of the window")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-draw_no", "window"]
        constraints = [
            UniqueConstraint(
                fields=["draw_no", "window"], name="one_fairness_check_per_window"
            ),
        ]

    def __str__(self) -> str:
        return f"Fairness at draw {self.draw_no}, window {self.window}: {self.verdict_code}"


class ReplayRun(models.Model):
    """A walk-forward replay of recent draws: the monitor's *replayed* series.

    Filled from the backtest machinery at first deploy and on demand. Kept apart
    from live accuracy: it never counts in the health status nor triggers a
    retrain; it gives operators a baseline from day one.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        DEPLOY = "deploy"  # the first deploy (or first monitor check) found none
        MANUAL = "manual"  # command or staff API

    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    actor = models.CharField(max_length=150, blank=True)
    draws = models.PositiveIntegerField(help_text="Draws replayed (requested)")
    first_draw = models.PositiveIntegerField(null=True, blank=True)
    last_draw = models.PositiveIntegerField(null=True, blank=True)
    seed = models.PositiveIntegerField(default=0)
    per_draw = models.JSONField(default=list, blank=True)
    figures = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Replay {self.pk} ({self.trigger}, {self.status})"
