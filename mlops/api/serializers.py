"""Serializers of the retraining endpoints."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from mlops.messages import code_of
from mlops.models import RetrainRun
from mlops.services.training.retrain_requests import PARAM_RANGES


class RetrainParamsSerializer(serializers.Serializer):
    seed = serializers.IntegerField(
        required=False,
        min_value=PARAM_RANGES["seed"][0],
        max_value=PARAM_RANGES["seed"][1],
        help_text=_("Random seed of the forest (default: the ML_SEED setting)."),
    )
    n_estimators = serializers.IntegerField(
        required=False,
        min_value=PARAM_RANGES["n_estimators"][0],
        max_value=PARAM_RANGES["n_estimators"][1],
        help_text=_("Trees in the forest (default: the ML_N_ESTIMATORS setting)."),
    )


class RetrainRequestInputSerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False)
    tune = serializers.BooleanField(default=False)
    warm_start = serializers.BooleanField(default=False)
    reason = serializers.CharField(default="", allow_blank=True, max_length=500)
    params = RetrainParamsSerializer(
        required=False,
        help_text=_(
            "Training parameters for this run; omitted ones come from settings. "
            "Not with warm_start (it keeps the active model's parameters)."
        ),
    )


class RetrainRunOutputSerializer(serializers.ModelSerializer):
    requested_by = serializers.SerializerMethodField()
    model_version = serializers.SerializerMethodField()
    promotion_reason = serializers.SerializerMethodField(
        help_text=_("Why the model was promoted or kept, in the reader's language.")
    )
    promotion_reason_code = serializers.SerializerMethodField(
        help_text=_("The same reason as a code (null for runs recorded before codes).")
    )

    reason = serializers.SerializerMethodField(
        help_text=_(
            "Why the retrain was requested, in the reader's language (a reason a "
            "person typed reads as typed)."
        )
    )
    reason_code = serializers.SerializerMethodField(
        help_text=_("The same reason as a code (null for a typed reason).")
    )
    error_message = serializers.SerializerMethodField(
        help_text=_("Why the run failed or was skipped, in the reader's language.")
    )
    error_message_code = serializers.SerializerMethodField(
        help_text=_("The same error as a code (null for runs recorded before codes).")
    )

    class Meta:
        model = RetrainRun
        fields = [
            "id",
            "trigger",
            "status",
            "requested_by",
            "reason",
            "reason_code",
            "options",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "duration_seconds",
            "draw_count",
            "draw_from",
            "draw_to",
            "model_version",
            "promoted",
            "promotion_reason",
            "promotion_reason_code",
            "validation_metrics",
            "tuning",
            "peak_memory_bytes",
            "error_message",
            "error_message_code",
            "traceback",
            "task_id",
        ]
        read_only_fields = fields

    def get_requested_by(self, run) -> str | None:
        return run.requested_by.get_username() if run.requested_by else None

    def get_promotion_reason(self, run) -> str:
        return run.promotion_reason_text

    def get_promotion_reason_code(self, run) -> str | None:
        return code_of(run.promotion_reason_message)

    def get_reason(self, run) -> str:
        return run.reason_text

    def get_reason_code(self, run) -> str | None:
        return run.reason_code

    def get_error_message(self, run) -> str:
        return run.error_message_text

    def get_error_message_code(self, run) -> str | None:
        return code_of(run.error_message_message)

    def get_model_version(self, run) -> str | None:
        return run.model_version.version if run.model_version else None


class RetrainAcceptedSerializer(serializers.Serializer):
    run_id = serializers.IntegerField()
    status = serializers.CharField()
    trigger = serializers.CharField()


class RetrainConflictSerializer(serializers.Serializer):
    """The API's ErrorResponse (code retrain_running) plus the run in the way."""

    detail = serializers.CharField()
    code = serializers.CharField(help_text="retrain_running")
    run_id = serializers.IntegerField(help_text=_("The retrain queued or running."))
    status = serializers.CharField()
