"""What the staff API answers, for the OpenAPI schema: every response typed.

The views build these bodies from the services' dicts; the schema tests check
that a real answer has exactly the keys declared here.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# --- Model operations -----------------------------------------------------------


class ModelStateOutputSerializer(serializers.Serializer):
    version = serializers.CharField(help_text=_("The version now active."))
    state = serializers.CharField(help_text=_("Its state (active)."))


class ModelBackupOutputSerializer(serializers.Serializer):
    backup_id = serializers.IntegerField()
    version = serializers.CharField()
    file_path = serializers.CharField(
        help_text=_("Where the copy is, under MODEL_ROOT.")
    )
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()
    verified_at = serializers.DateTimeField(allow_null=True)


class FileCheckOutputSerializer(serializers.Serializer):
    path = serializers.CharField()
    kind = serializers.CharField(
        help_text="model | metadata | backup | backup_metadata"
    )
    version = serializers.CharField()
    status = serializers.CharField(help_text="ok | missing | corrupt")
    detail = serializers.CharField(allow_blank=True)
    backup_id = serializers.IntegerField(allow_null=True)


class ModelVerifyOutputSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text=_("No known file is missing or corrupt."))
    summary = serializers.CharField()
    checks = FileCheckOutputSerializer(many=True)
    orphans = serializers.ListField(
        child=serializers.CharField(), help_text=_("Files no version or backup names.")
    )


class FileDecisionOutputSerializer(serializers.Serializer):
    path = serializers.CharField()
    kind = serializers.CharField()
    version = serializers.CharField()
    reason = serializers.CharField()


class ModelCleanupOutputSerializer(serializers.Serializer):
    older_than_days = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    cutoff = serializers.DateTimeField()
    removed = FileDecisionOutputSerializer(many=True)
    kept = FileDecisionOutputSerializer(many=True)
    orphans = serializers.ListField(child=serializers.CharField())
    versions_deleted = serializers.ListField(child=serializers.CharField())
    backups_deleted = serializers.ListField(child=serializers.IntegerField())


class ActivationOutputSerializer(serializers.Serializer):
    activated_at = serializers.DateTimeField()
    deactivated_at = serializers.DateTimeField(allow_null=True)
    is_current = serializers.BooleanField()
    activated_by = serializers.CharField()
    user = serializers.CharField(allow_null=True)
    retrain_run = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    reason_code = serializers.CharField(allow_null=True)
    deactivation_reason = serializers.CharField(allow_blank=True)
    deactivation_reason_code = serializers.CharField(allow_null=True)


# --- Monitoring -------------------------------------------------------------------


class FigureOutputSerializer(serializers.Serializer):
    """A computed figure next to its random-chance baseline, interval and verdict."""

    value = serializers.FloatField(allow_null=True)
    sample_size = serializers.IntegerField(required=False)
    baseline = serializers.FloatField(help_text=_("What random picks get."))
    interval = serializers.ListField(
        child=serializers.FloatField(allow_null=True), allow_null=True
    )
    interval_method = serializers.CharField(required=False)
    p_value = serializers.FloatField(allow_null=True, required=False)
    p_value_worse = serializers.FloatField(allow_null=True, required=False)
    verdict_code = serializers.CharField(allow_null=True, required=False)
    verdict = serializers.CharField(allow_null=True)


class RateFigureOutputSerializer(FigureOutputSerializer):
    successes = serializers.IntegerField()


class PrizeFigureOutputSerializer(RateFigureOutputSerializer):
    tiers = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Wins per prize tier 1-5.")
    )
    unit = serializers.CharField(required=False)


class BrierFigureOutputSerializer(FigureOutputSerializer):
    skill_score = serializers.FloatField(allow_null=True)
    chance_value = serializers.FloatField(allow_null=True, required=False)
    chance_band = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, required=False
    )
    replications = serializers.IntegerField(required=False)


class HitsDistributionOutputSerializer(serializers.Serializer):
    hits = serializers.ListField(child=serializers.IntegerField())
    observed = serializers.ListField(child=serializers.IntegerField())
    expected = serializers.ListField(child=serializers.FloatField())
    baseline_share = serializers.ListField(child=serializers.FloatField())


class ThresholdsOutputSerializer(serializers.Serializer):
    good = serializers.FloatField()
    critical = serializers.FloatField()


class RunRefOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    trigger = serializers.CharField(required=False)
    error = serializers.CharField(allow_null=True, required=False)


class WindowFiguresOutputSerializer(serializers.Serializer):
    """The figures of one series of scored forecasts (live or replayed)."""

    accuracy = serializers.FloatField(
        allow_null=True,
        help_text=_("Share (%) of forecasts whose top 6 held a winning number."),
    )
    baseline = serializers.FloatField(help_text=_("The same share for random picks."))
    interval = serializers.ListField(
        child=serializers.FloatField(allow_null=True), allow_null=True
    )
    interval_method = serializers.CharField()
    verdict = serializers.CharField(allow_null=True)
    verdict_code = serializers.CharField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    p_value_worse = serializers.FloatField(allow_null=True)
    successes = serializers.IntegerField()
    sample_size = serializers.IntegerField()
    alpha = serializers.FloatField()
    confidence = serializers.FloatField()
    min_verdict_sample = serializers.IntegerField()
    mean_hits = FigureOutputSerializer()
    hits_distribution = HitsDistributionOutputSerializer()
    prize_rate = PrizeFigureOutputSerializer()
    brier_score = BrierFigureOutputSerializer()


class ReplayedStatusOutputSerializer(serializers.Serializer):
    """The replayed series: a baseline, never mixed into the live health."""

    series = serializers.CharField(help_text="replayed")
    label = serializers.CharField()
    latest_run = RunRefOutputSerializer(allow_null=True)
    status = serializers.CharField(required=False)
    sample_size = serializers.IntegerField()
    run = serializers.IntegerField(required=False)
    first_draw = serializers.IntegerField(required=False, allow_null=True)
    last_draw = serializers.IntegerField(required=False, allow_null=True)
    replayed_at = serializers.DateTimeField(required=False, allow_null=True)
    # With a successful replay, the window figures too (as in the live series).
    accuracy = serializers.FloatField(required=False, allow_null=True)
    baseline = serializers.FloatField(required=False)
    interval = serializers.ListField(
        child=serializers.FloatField(allow_null=True), allow_null=True, required=False
    )
    interval_method = serializers.CharField(required=False)
    verdict = serializers.CharField(allow_null=True, required=False)
    verdict_code = serializers.CharField(allow_null=True, required=False)
    p_value = serializers.FloatField(allow_null=True, required=False)
    p_value_worse = serializers.FloatField(allow_null=True, required=False)
    successes = serializers.IntegerField(required=False)
    alpha = serializers.FloatField(required=False)
    confidence = serializers.FloatField(required=False)
    min_verdict_sample = serializers.IntegerField(required=False)
    mean_hits = FigureOutputSerializer(required=False)
    hits_distribution = HitsDistributionOutputSerializer(required=False)
    prize_rate = PrizeFigureOutputSerializer(required=False)
    brier_score = BrierFigureOutputSerializer(required=False)


class ReplayAcceptedOutputSerializer(serializers.Serializer):
    replay_run = serializers.IntegerField()
    status = serializers.CharField()
    draws = serializers.IntegerField()


class MonitorStatusOutputSerializer(WindowFiguresOutputSerializer):
    series = serializers.CharField(help_text="live")
    status = serializers.CharField(
        help_text="good | warning | critical | insufficient_data"
    )
    window = serializers.IntegerField()
    min_samples = serializers.IntegerField()
    thresholds = ThresholdsOutputSerializer()
    first_draw = serializers.IntegerField(allow_null=True)
    last_draw = serializers.IntegerField(allow_null=True)
    scope = serializers.CharField()
    emergency_retrain = serializers.BooleanField()
    emergency_retrain_state = serializers.CharField()
    last_emergency_retrain = RunRefOutputSerializer(allow_null=True)
    retrain_in_flight = serializers.IntegerField(allow_null=True)
    cooldown_days = serializers.IntegerField()
    replayed = ReplayedStatusOutputSerializer()


class TrendPointOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    draw = serializers.IntegerField()
    accuracy = serializers.FloatField()
    sample_size = serializers.IntegerField()
    hits = serializers.IntegerField()
    baseline = serializers.FloatField()
    status = serializers.CharField()


class AccuracyTrendOutputSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    window = serializers.IntegerField()
    trend = TrendPointOutputSerializer(many=True)


# --- Scheduler ----------------------------------------------------------------------


class TimesOutputSerializer(serializers.Serializer):
    kst = serializers.DateTimeField()
    utc = serializers.DateTimeField()


class NextRetrainOutputSerializer(serializers.Serializer):
    scheduled = serializers.BooleanField()
    cron = serializers.CharField()
    kst = serializers.DateTimeField(required=False)
    utc = serializers.DateTimeField(required=False)
    overdue = serializers.BooleanField(required=False)
    after_that = TimesOutputSerializer(required=False, allow_null=True)
    would_be = TimesOutputSerializer(required=False, allow_null=True)
    error = serializers.CharField(required=False)
    hint = serializers.CharField(required=False)


class RunSummaryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    model_version = serializers.CharField(allow_null=True)
    promoted = serializers.BooleanField(allow_null=True)
    reason = serializers.CharField(
        allow_blank=True,
        allow_null=True,
        help_text=_("The gate's reason or the error, in the reader's language."),
    )
    reason_code = serializers.CharField(
        allow_null=True,
        help_text=_("The same reason as a code (null for runs recorded before codes)."),
    )


class ClusterProcessOutputSerializer(serializers.Serializer):
    cluster_id = serializers.CharField()
    host = serializers.CharField()
    pid = serializers.IntegerField()
    status = serializers.CharField()
    workers = serializers.IntegerField()
    last_heartbeat = serializers.DateTimeField(allow_null=True)
    uptime_seconds = serializers.IntegerField(allow_null=True)


class ClusterOutputSerializer(serializers.Serializer):
    alive = serializers.BooleanField()
    broker = serializers.CharField()
    error = serializers.CharField(required=False)
    clusters = ClusterProcessOutputSerializer(many=True)


class ScheduleOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    func = serializers.CharField()
    cron = serializers.CharField(allow_null=True)
    next_run = TimesOutputSerializer(allow_null=True)
    repeats = serializers.IntegerField()
    last_task_id = serializers.CharField(allow_null=True)
    ours = serializers.BooleanField()


class SchedulerStatusOutputSerializer(serializers.Serializer):
    time_zone = serializers.CharField()
    next_retrain = NextRetrainOutputSerializer()
    last_run = RunSummaryOutputSerializer(allow_null=True)
    running = RunSummaryOutputSerializer(allow_null=True)
    cluster = ClusterOutputSerializer()
    schedules = ScheduleOutputSerializer(many=True)
