"""Staff API: the model's health and its accuracy trend."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from mlops.models import ReplayRun
from mlops.services.monitoring.monitoring import get_accuracy_trend, get_monitor_status
from mlops.services.monitoring.replay import replay_request, replayed_status
from mlops.services.registry.audit import Actor

from .outputs import (
    AccuracyTrendOutputSerializer,
    MonitorStatusOutputSerializer,
    ReplayAcceptedOutputSerializer,
    ReplayedStatusOutputSerializer,
)
from .permissions import IsStaff, StaffApiMixin, needs

MAX_TREND_DAYS = 3650


class MonitorStatusApi(StaffApiMixin, APIView):
    """Live accuracy over the health window beside its exact verdict; the replayed
    series under its own key, never mixed in."""

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
        return Response({**get_monitor_status(), "replayed": replayed_status()})


class ReplayApi(StaffApiMixin, APIView):
    """GET: the replayed series. POST: queue a new warm-up replay (202; 409 while
    one is queued or running). Replays fit a model per draw: retrain permission."""

    class InputSerializer(serializers.Serializer):
        draws = serializers.IntegerField(min_value=1, max_value=1000, required=False)
        seed = serializers.IntegerField(min_value=0, max_value=2**32 - 1, default=0)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsStaff(), needs("retrain_model")()]
        return super().get_permissions()

    @extend_schema(
        summary=_("Replayed series"),
        description=_(
            "The newest successful warm-up replay: the model refitted draw by draw "
            "on the history before each draw and scored on it, with the same "
            "figures and verdicts as the live health, kept apart from it; and the "
            "state of the newest replay run."
        ),
        responses=ReplayedStatusOutputSerializer,
    )
    def get(self, request):
        return Response(replayed_status())

    @extend_schema(
        summary=_("Queue a replay"),
        description=_(
            "Queue a warm-up replay of the last `draws` draws (default: as many as "
            "the health window) on the task cluster. 202 with the run; 409 "
            "(`replay_in_flight`) while one is queued or running. Needs "
            "mlops.retrain_model."
        ),
        request=InputSerializer,
        responses={
            202: ReplayAcceptedOutputSerializer,
            409: OpenApiResponse(description=_("A replay is queued or running.")),
        },
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            run = replay_request(
                trigger=ReplayRun.Trigger.MANUAL,
                actor=Actor.for_user(request.user),
                **params.validated_data,
            )
        except DjangoValidationError as exc:
            raise Conflict(
                gettext("A replay is already queued or running: wait for it to end.")
            ) from exc
        return Response(
            {"replay_run": run.pk, "status": run.status, "draws": run.draws},
            status=status.HTTP_202_ACCEPTED,
        )


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "replay_in_flight"


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
