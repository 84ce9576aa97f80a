"""GET /api/statistics/numbers/: per-number counts beside a fair draw's expectation."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from draws import fairness
from draws.statistics import (
    DISCLAIMER,
    WINDOW_ALL,
    fairness_summary,
    history_stamp,
    number_statistics_get,
)

from .caching import HttpCachedMixin


def parse_window(raw: str | None, stored: int) -> int | None:
    """'all' (or nothing) -> None; a whole number from 10 to the history length."""
    if raw is None or raw == WINDOW_ALL:
        return None
    low = fairness.MIN_WINDOW
    if raw.isdigit() and low <= int(raw) <= stored:
        return int(raw)
    message = gettext(
        "Enter 'all' or a whole number of draws from %(low)d to %(high)d "
        "(the stored history)."
    ) % {"low": low, "high": stored}
    if stored < low:
        message = gettext(
            "Only %(stored)d draws are stored: use 'all' (at least %(low)d draws "
            "are needed for a window)."
        ) % {"stored": stored, "low": low}
    raise ValidationError({"window": [ErrorDetail(message, code="invalid_window")]})


class NumberFiguresOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    main_count = serializers.IntegerField()
    bonus_count = serializers.IntegerField()
    expected_main_count = serializers.FloatField(
        help_text=_("What a fair draw gives on average in this window.")
    )
    expected_bonus_count = serializers.FloatField()
    draws_since_last_seen = serializers.IntegerField(allow_null=True)
    longest_gap = serializers.IntegerField()
    adjusted_p_value = serializers.FloatField(allow_null=True)


class UniformityOutputSerializer(serializers.Serializer):
    statistic = serializers.FloatField()
    scale = serializers.FloatField()
    scaled_statistic = serializers.FloatField()
    df = serializers.IntegerField()
    expected_count = serializers.FloatField()
    method = serializers.CharField()
    p_value = serializers.FloatField()


class OverlapOutputSerializer(serializers.Serializer):
    pairs = serializers.IntegerField()
    mean = serializers.FloatField()
    expected_mean = serializers.FloatField()
    observed = serializers.ListField(child=serializers.IntegerField())
    expected = serializers.ListField(child=serializers.FloatField())
    p_value = serializers.FloatField()


class FairnessOutputSerializer(serializers.Serializer):
    verdict_code = serializers.CharField()
    verdict = serializers.CharField()
    min_draws = serializers.IntegerField(
        required=False, help_text=_("Only when the window is too short to test.")
    )
    alpha = serializers.FloatField(required=False)
    p_value = serializers.FloatField(required=False)
    main_uniformity = UniformityOutputSerializer(required=False)
    bonus_uniformity = UniformityOutputSerializer(required=False)
    biased_numbers = serializers.ListField(
        child=serializers.IntegerField(), required=False
    )
    min_adjusted_p_value = serializers.FloatField(required=False)
    consecutive_overlap = OverlapOutputSerializer(required=False)


class NumberStatisticsOutputSerializer(serializers.Serializer):
    window = serializers.CharField(help_text=_("'all' or the number of draws."))
    draws = serializers.IntegerField()
    first_draw = serializers.IntegerField(allow_null=True)
    last_draw = serializers.IntegerField(allow_null=True)
    numbers = NumberFiguresOutputSerializer(many=True)
    fairness = FairnessOutputSerializer()
    disclaimer = serializers.CharField()


class NumberStatisticsApi(HttpCachedMixin, APIView):
    """Per number 1-45: times drawn, the fair expectation, gaps; the fairness test."""

    keep_rendered = True  # the same body until the next draw is stored

    @extend_schema(
        summary=_("Number statistics"),
        description=_(
            "For each number 1-45: how often it was drawn next to what a fair draw "
            "would give, and the gaps between its draws; and a test of whether the "
            "history looks fair. `window` limits it to the last N draws. Past "
            "frequencies do not predict future draws."
        ),
        parameters=[
            OpenApiParameter(
                "window",
                str,
                description=_("'all' (default) or the last N draws, N >= 10."),
            )
        ],
        responses=NumberStatisticsOutputSerializer,
    )
    def get(self, request):
        stamp = history_stamp()
        window = parse_window(request.query_params.get("window"), stamp[1])
        figures = number_statistics_get(window=window, stamp=stamp)
        return Response(
            {
                **{key: value for key, value in figures.items() if key != "fairness"},
                "fairness": fairness_summary(figures["fairness"]),
                "disclaimer": gettext(DISCLAIMER),
            }
        )
