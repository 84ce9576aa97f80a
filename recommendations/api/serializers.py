from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from mlops.fallback_reasons import FallbackReason
from mlops.messages import verdict_fields
from mlops.serving_state import MODEL_FILE_OK
from recommendations.services.inference import ML, STATISTICAL
from recommendations.services.recommendation import Recommendation, number_list_errors

# The validation figures shown next to their random baselines, in this order.
VALIDATION_METRICS = (
    ("mean_hits", _("Mean number of winning numbers among the top 6"), True),
    ("any_hit_rate", _("Share of draws where the top 6 held a winning number"), True),
    ("prize_rate", _("Share of draws where the top 6 would have won a prize"), True),
    ("brier_score", _("Brier score of the 45 probabilities (lower is better)"), False),
    ("brier_skill_score", _("Brier skill score against the uniform 6/45"), True),
)
# Why statistical mode served, in the reader's language, beside the reason code:
# the labels of the one list of reasons.
FALLBACK_DESCRIPTIONS = {reason.value: reason.label for reason in FallbackReason}
# The served model's file, in the reader's language, beside the `model_file` code.
MODEL_FILE_CODES = [
    MODEL_FILE_OK,
    FallbackReason.FILE_MISSING.value,
    FallbackReason.CHECKSUM_MISMATCH.value,
    FallbackReason.LOAD_FAILED.value,
    FallbackReason.MEMORY_ERROR.value,
    FallbackReason.STORAGE_UNAVAILABLE.value,
]
MODEL_FILE_OK_DESCRIPTION = _(
    "The model's file is stored and passes its integrity check."
)
MODEL_FILE_PROBLEM = _(
    "Served from this process's memory: %(problem)s A new process could not load "
    "it; self-heal or a retrain replaces it."
)
# What each mode means, in the reader's language, beside the `mode` code.
MODE_DESCRIPTIONS = {
    ML: _("Recommended from the active model's forecast."),
    STATISTICAL: _(
        "Statistical mode: recommended from the draw history's frequencies, "
        "without the model."
    ),
}


@extend_schema_field(OpenApiTypes.STR)
class NumberListField(serializers.Field):
    """Lotto numbers as "3,7,12", or as the parameter repeated (include=3&include=7)."""

    default_error_messages = {
        "invalid": _(
            "{value!r} is not a whole number; give numbers 1-45 separated by "
            "commas, e.g. 3,7,12."
        ),
    }

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):
            return dictionary.getlist(self.field_name) or empty
        return dictionary.get(self.field_name, empty)

    def to_internal_value(self, data):
        chunks = [data] if isinstance(data, str | int) else list(data)
        numbers = []
        for chunk in chunks:
            for part in str(chunk).split(","):
                part = part.strip()
                if not part:
                    continue  # "include=" or a trailing comma: nothing to add
                if not (part.isascii() and part.isdigit()):
                    self.fail("invalid", value=part)
                numbers.append(int(part))
        # Checked here, not in validate(): reported even when another field fails.
        if errors := number_list_errors(self.field_name, numbers):
            raise serializers.ValidationError(errors)
        return numbers

    def to_representation(self, value):
        return list(value)


class TargetDrawSerializer(serializers.Serializer):
    draw_no = serializers.IntegerField()
    date = serializers.DateField(help_text=_("The Saturday the draw takes place."))


class NumberProbabilitySerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=45)
    probability = serializers.FloatField(help_text=_("P(number is drawn); sum is 6."))


class MetricSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    value = serializers.FloatField()
    random_baseline = serializers.FloatField(
        help_text=_("What a random pick (or the uniform 6/45 forecast) scores.")
    )
    interval = serializers.ListField(
        child=serializers.FloatField(allow_null=True),
        # xgettext:no-python-format
        help_text=_("95% confidence interval of the value."),
    )
    higher_is_better = serializers.BooleanField()
    verdict = serializers.CharField(
        allow_blank=True, help_text=_("The verdict in the reader's language.")
    )
    verdict_code = serializers.CharField(
        allow_null=True,
        help_text=_(
            "The verdict as a code: better, no_evidence, worse, insufficient_data."
        ),
    )


class ValidationSerializer(serializers.Serializer):
    sample_size = serializers.IntegerField(
        allow_null=True, help_text=_("Draws in the time-ordered validation period.")
    )
    metrics = MetricSerializer(many=True)


class RecommendationOutputSerializer(serializers.Serializer):
    games = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text=_("Each game: six distinct numbers, ascending."),
    )
    mode = serializers.ChoiceField(choices=[ML, STATISTICAL])
    mode_description = serializers.CharField(
        help_text=_("What the mode means, in the reader's language.")
    )
    model_version = serializers.CharField(allow_null=True)
    feature_set_version = serializers.CharField(allow_null=True)
    target_draw = TargetDrawSerializer()
    fallback_reason = serializers.ChoiceField(
        choices=FallbackReason.choices,
        allow_null=True,
        help_text=_("Why statistical mode served this instead of the model, or null."),
    )
    fallback_reason_description = serializers.CharField(
        allow_null=True,
        help_text=_("The fallback reason in the reader's language, or null."),
    )
    model_file = serializers.ChoiceField(
        choices=MODEL_FILE_CODES,
        allow_null=True,
        help_text=_(
            "Whether the served model's file still holds: ok, or why not (a "
            "fallback reason code) while this process serves the model it loaded "
            "earlier from memory; null in statistical mode. /readyz says the same "
            "in model_file."
        ),
    )
    model_file_description = serializers.CharField(
        allow_null=True,
        help_text=_("model_file in the reader's language, or null."),
    )
    seed = serializers.IntegerField(allow_null=True)
    probabilities = NumberProbabilitySerializer(many=True)
    validation = ValidationSerializer(
        allow_null=True,
        help_text=_(
            "The active model's validation figures next to their random "
            "baselines; null in statistical mode."
        ),
    )
    disclaimer = serializers.CharField()


def validation_output(metrics: dict | None) -> dict | None:
    """The stored validation metrics, each next to its random baseline."""
    if not metrics:
        return None
    rows = []
    for name, description, higher_is_better in VALIDATION_METRICS:
        metric = metrics.get(name) or {}
        if metric.get("value") is None or metric.get("baseline") is None:
            continue  # never show a figure the training run did not compute
        rows.append(
            {
                "name": name,
                "description": str(description),
                "value": metric["value"],
                "random_baseline": metric["baseline"],
                "interval": list(metric.get("interval") or []),
                "higher_is_better": higher_is_better,
                **verdict_fields(metric),
            }
        )
    return {"sample_size": metrics.get("sample_size"), "metrics": rows}


def recommendation_output(recommendation: Recommendation) -> dict:
    """The response body, in the shape RecommendationOutputSerializer declares."""
    return {
        "games": recommendation.combinations,
        "mode": recommendation.mode,
        "mode_description": str(MODE_DESCRIPTIONS.get(recommendation.mode, "")),
        "model_version": recommendation.model_version,
        "feature_set_version": recommendation.feature_set_version,
        "target_draw": {
            "draw_no": recommendation.target_draw_no,
            "date": recommendation.target_draw_date.isoformat(),
        },
        "fallback_reason": recommendation.fallback_reason,
        "fallback_reason_description": fallback_description(
            recommendation.fallback_reason
        ),
        "model_file": recommendation.model_file,
        "model_file_description": model_file_description(recommendation.model_file),
        "seed": recommendation.seed,
        **forecast_output(
            recommendation.probabilities, recommendation.validation_metrics
        ),
        "disclaimer": recommendation.disclaimer,
    }


# language -> (probabilities, validation metrics, their output): the cached
# forecast hands every request the same two objects (read-only), so their 45
# rows and translated validation figures are built once per language and shared.
_forecast_outputs: dict[str | None, tuple] = {}


def forecast_output(probabilities, validation_metrics: dict | None) -> dict:
    """The forecast's part of the response: `probabilities` and `validation`.

    Shared between responses: never modify what it returns.
    """
    language = get_language()
    held = _forecast_outputs.get(language)
    if held is not None and held[0] is probabilities and held[1] is validation_metrics:
        return held[2]
    output = {
        "probabilities": [
            {"number": number, "probability": probability}
            for number, probability in enumerate(probabilities.tolist(), 1)
        ],
        "validation": validation_output(validation_metrics),
    }
    _forecast_outputs[language] = (probabilities, validation_metrics, output)
    return output


def fallback_description(reason: str | None) -> str | None:
    """The fallback reason in the reader's language (None when the model served)."""
    if reason is None:
        return None
    return str(FALLBACK_DESCRIPTIONS.get(reason, reason))


def model_file_description(code: str | None) -> str | None:
    """The served model's file status in the reader's language (None: no model)."""
    if code is None:
        return None
    if code == MODEL_FILE_OK:
        return str(MODEL_FILE_OK_DESCRIPTION)
    return str(MODEL_FILE_PROBLEM) % {"problem": fallback_description(code)}
