"""GET /api/statistics/numbers/: per-number counts beside a fair draw's expectation."""

import hashlib

from django.http import HttpResponseNotModified
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language, gettext
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

MAX_AGE_SECONDS = 300


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


class NumberStatisticsApi(APIView):
    """Per number 1-45: times drawn, the fair expectation, gaps; the fairness test."""

    authentication_classes = ()  # public and cacheable: no session, no CSRF

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
        latest, stored = history_stamp()
        window = parse_window(request.query_params.get("window"), stored)
        label = WINDOW_ALL if window is None else str(window)
        tag = f"{latest}:{stored}:{label}:{get_language()}"
        etag = '"' + hashlib.blake2b(tag.encode(), digest_size=12).hexdigest() + '"'
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return self._cache_headers(HttpResponseNotModified(), etag)
        figures = number_statistics_get(window=window, stamp=(latest, stored))
        body = {
            **{key: value for key, value in figures.items() if key != "fairness"},
            "fairness": fairness_summary(figures["fairness"]),
            "disclaimer": gettext(DISCLAIMER),
        }
        return self._cache_headers(Response(body), etag)

    @staticmethod
    def _cache_headers(response, etag: str):
        response["ETag"] = etag
        patch_cache_control(response, public=True, max_age=MAX_AGE_SECONDS)
        patch_vary_headers(response, ("Accept-Language",))
        return response
