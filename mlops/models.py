from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, UniqueConstraint

from draws.models import LottoDraw


class ModelVersion(models.Model):
    """One trained model artefact in the registry; at most one is active."""

    class State(models.TextChoices):
        ACTIVE = "active"
        ARCHIVED = "archived"
        CORRUPT = "corrupt"
        DELETED = "deleted"

    version = models.CharField(max_length=64, unique=True)
    file_path = models.CharField(max_length=255, help_text="Relative to MODEL_ROOT")
    metadata_path = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.ARCHIVED, db_index=True
    )
    draw_from = models.PositiveIntegerField()
    draw_to = models.PositiveIntegerField()
    draw_count = models.PositiveIntegerField()
    training_data_hash = models.CharField(max_length=64)
    feature_set_version = models.CharField(max_length=64)
    hyperparameters = models.JSONField(default=dict)
    seed = models.IntegerField(default=0)
    library_versions = models.JSONField(default=dict)
    training_seconds = models.FloatField(default=0.0)
    validation_metrics = models.JSONField(default=dict)
    training_info = models.JSONField(default=dict, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
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
        ModelVersion, on_delete=models.PROTECT, related_name="activations"
    )
    activated_at = models.DateTimeField()
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # Who or what: a user, "retrain", "self-heal", "restore", "rollback", "cli", ...
    activated_by = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    retrain_run = models.ForeignKey(
        "RetrainRun", null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.TextField(blank=True)
    deactivation_reason = models.TextField(blank=True)
    # True for the period still running. A partial unique index on a NULL
    # deactivated_at would not work: NULLs never collide in a unique index.
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-activated_at", "-id"]
        constraints = [
            UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="one_current_activation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_version.version} from {self.activated_at}"


class ModelBackup(models.Model):
    """A verified copy of a version's file (and metadata) under MODEL_ROOT/backups/."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="backups"
    )
    file_path = models.CharField(max_length=255, help_text="Relative to MODEL_ROOT")
    metadata_path = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=64, default="system")
    verified_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Backup of {self.model_version.version} at {self.created_at}"


class RetrainRun(models.Model):
    """One retraining attempt, from request to result: the audit of retraining."""

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled"
        MANUAL = "manual"
        EMERGENCY = "emergency"
        CLI = "cli"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"
        SKIPPED = "skipped"

    IN_FLIGHT = "retrain"

    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    # Single flight across processes and machines: "retrain" while queued or
    # running, NULL otherwise; the unique index admits one non-NULL row.
    in_flight = models.CharField(max_length=16, null=True, blank=True, unique=True)
    options = models.JSONField(default=dict, blank=True)  # force, tune, warm_start
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    draw_count = models.PositiveIntegerField(null=True, blank=True)
    draw_from = models.PositiveIntegerField(null=True, blank=True)
    draw_to = models.PositiveIntegerField(null=True, blank=True)
    model_version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retrain_runs",
    )
    promoted = models.BooleanField(default=False)
    promotion_reason = models.TextField(blank=True)
    validation_metrics = models.JSONField(default=dict, blank=True)
    tuning = models.JSONField(default=dict, blank=True)
    peak_memory_bytes = models.BigIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("retrain_model", "Can request a retrain")]

    def __str__(self) -> str:
        return f"Retrain run {self.pk} ({self.trigger}, {self.status})"


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
        raise FrozenForecastError(
            f"Draw {drawn[0]} is already drawn: {what} a forecast for it is refused "
            "(a forecast made after the fact is not a forecast)."
        )


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
        ML = "ml"
        STATISTICAL = "statistical"

    STATISTICAL_FORECASTER = "statistical"

    target_draw_no = models.PositiveIntegerField(db_index=True)
    target_draw_date = models.DateField()
    mode = models.CharField(max_length=16, choices=Mode.choices)
    model_version = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predictions",
    )
    # The version label, or "statistical": one official forecast per draw and
    # forecaster (a NULL foreign key could not carry that unique constraint).
    forecaster = models.CharField(max_length=64)
    probabilities = models.JSONField()
    top_numbers = models.JSONField()
    combinations = models.JSONField(default=list, blank=True)
    served_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    scored_at = models.DateTimeField(null=True, blank=True, db_index=True)
    hits = models.PositiveSmallIntegerField(null=True, blank=True)
    bonus_hit = models.BooleanField(null=True, blank=True)
    brier_score = models.FloatField(null=True, blank=True)
    combination_results = models.JSONField(null=True, blank=True)
    # The forecast ledger: a hash chain over every forecast recorded since it
    # existed (services/monitoring/ledger.py). Position 1, 2, ... in the chain;
    # sha256 of the canonical form with the previous link's commitment.
    ledger_index = models.PositiveIntegerField(null=True, blank=True, unique=True)
    commitment = models.CharField(max_length=64, blank=True, default="")
    previous_commitment = models.CharField(max_length=64, blank=True, default="")
    # Recorded before the ledger existed: not in the chain.
    pre_ledger = models.BooleanField(default=False)

    objects = PredictionQuerySet.as_manager()

    class Meta:
        ordering = ["-target_draw_no", "-created_at"]
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

    length = models.PositiveIntegerField(default=0)
    commitment = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"Ledger head {self.commitment[:12] or '(empty)'} ({self.length} links)"


class AuditEvent(models.Model):
    """An append-only record of who did what to which object, from any door."""

    class Action(models.TextChoices):
        ACTIVATE = "activate"
        BACKUP = "backup"
        RESTORE = "restore"
        ROLLBACK = "rollback"
        CLEANUP = "cleanup"
        VERIFY = "verify"
        RETRAIN_REQUESTED = "retrain_requested"
        RETRAIN_FINISHED = "retrain_finished"
        MODEL_TRAINED = "model_trained"
        DRAW_IMPORTED = "draw_imported"
        DRAW_EDITED = "draw_edited"
        FALLBACK = "fallback"
        SELF_HEAL = "self_heal"
        MARK_CORRUPT = "mark_corrupt"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # "user", "system", "cli", "scheduler", "api"
    actor_type = models.CharField(max_length=16)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor = models.CharField(max_length=150, help_text="Username or system actor")
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


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
