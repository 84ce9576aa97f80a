"""Staff API: the model's health and its accuracy trend."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from mlops.services.monitoring.monitoring import get_accuracy_trend, get_monitor_status

from .permissions import StaffApiMixin

MAX_TREND_DAYS = 3650


class MonitorStatusApi(StaffApiMixin, APIView):
    """Accuracy over the health window, next to its chance baseline and interval."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(get_monitor_status())


class AccuracyTrendApi(StaffApiMixin, APIView):
    """One entry per scored draw of the last `days` days (default 28)."""

    class InputSerializer(serializers.Serializer):
        days = serializers.IntegerField(
            min_value=1, max_value=MAX_TREND_DAYS, default=28
        )

    @extend_schema(parameters=[InputSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        days = params.validated_data["days"]
        trend = get_accuracy_trend(days=days)
        return Response(
            {"days": days, "window": settings.MONITOR_WINDOW, "trend": trend}
        )
