"""GET /api/statistics/numbers/: per-number counts beside a fair draw's expectation."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
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


class NumberStatisticsApi(HttpCachedMixin, APIView):
    """Per number 1-45: times drawn, the fair expectation, gaps; the fairness test."""

    keep_rendered = True  # the same body until the next draw is stored

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "window",
                str,
                description=str(_("'all' (default) or the last N draws, N >= 10.")),
            )
        ],
        responses=OpenApiTypes.OBJECT,
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
