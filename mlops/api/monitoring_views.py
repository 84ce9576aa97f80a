"""Staff API: the model's health and its accuracy trend."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from mlops.services.monitoring.monitoring import get_accuracy_trend, get_monitor_status

from .outputs import AccuracyTrendOutputSerializer, MonitorStatusOutputSerializer
from .permissions import StaffApiMixin

MAX_TREND_DAYS = 3650


class MonitorStatusApi(StaffApiMixin, APIView):
    """Accuracy over the health window, next to its chance baseline and interval."""

    @extend_schema(
        summary=_("The model's health"),
        description=_(
            "The active model's accuracy over the health window (the share of "
            "forecasts whose top six held a winning number), next to the share "
            "random picks get, with its interval, p-value and verdict; mean hits, "
            "prize rate and Brier score the same way; and whether an emergency "
            "retrain is due, running or cooling down."
        ),
        responses=MonitorStatusOutputSerializer,
    )
    def get(self, request):
        return Response(get_monitor_status())


class AccuracyTrendApi(StaffApiMixin, APIView):
    """One entry per scored draw of the last `days` days (default 28)."""

    class InputSerializer(serializers.Serializer):
        days = serializers.IntegerField(
            min_value=1, max_value=MAX_TREND_DAYS, default=28
        )

    @extend_schema(
        summary=_("Accuracy after each draw"),
        description=_(
            "The health figure as it stood after each scored draw of the last "
            "`days` days (default 28), each with its sample size and the share "
            "random picks get."
        ),
        parameters=[InputSerializer],
        responses=AccuracyTrendOutputSerializer,
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        days = params.validated_data["days"]
        trend = get_accuracy_trend(days=days)
        return Response(
            {"days": days, "window": settings.MONITOR_WINDOW, "trend": trend}
        )
