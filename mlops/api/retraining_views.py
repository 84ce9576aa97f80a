"""Staff API: scheduler status, manual and emergency retrains, retrain runs."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from mlops.models import RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import (
    RetrainAlreadyRunning,
    retrain_not_queued,
    retrain_request,
)
from mlops.services.training.scheduling import BrokerUnavailable, scheduler_status

from .permissions import IsStaff, StaffApiMixin, needs
from .serializers import (
    RetrainAcceptedSerializer,
    RetrainConflictSerializer,
    RetrainRequestInputSerializer,
    RetrainRunOutputSerializer,
)

RETRAIN_SCHEMA = extend_schema(
    request=RetrainRequestInputSerializer,
    responses={202: RetrainAcceptedSerializer, 409: RetrainConflictSerializer},
)


class RetrainConflict(APIException):
    """409 in the API's error format, plus the run that is in the way."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "retrain_running"

    def __init__(self, run: RetrainRun, detail: str):
        super().__init__(detail)
        self.extra_fields = {"run_id": run.pk, "status": run.status}


# Runs carry error messages and tracebacks: the admin's view permission, not
# just staff status, opens them (and the scheduler status, which quotes them).
CanViewRuns = needs("view_retrainrun")


class QueueUnavailable(APIException):
    """503: the task broker (Redis) does not answer."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _(
        "The task queue is unavailable right now; try again when it is back."
    )
    default_code = "queue_unavailable"


class SchedulerStatusApi(StaffApiMixin, APIView):
    permission_classes = [IsStaff, CanViewRuns]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        try:
            return Response(scheduler_status())
        except BrokerUnavailable as exc:
            raise QueueUnavailable() from exc


class CanRetrain(BasePermission):
    """The admin's "Retrain now" permission: the API door must not bypass it."""

    message = "This needs the mlops.retrain_model permission."

    def has_permission(self, request, view):
        return request.user.has_perm("mlops.retrain_model")


class ManualRetrainApi(StaffApiMixin, APIView):
    """Queue a retrain on the Q2 cluster: 202 with the run id, 409 if one runs."""

    trigger = RetrainRun.Trigger.MANUAL
    permission_classes = [IsStaff, CanRetrain]

    @RETRAIN_SCHEMA
    def post(self, request):
        params = RetrainRequestInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            run = retrain_request(
                trigger=self.trigger,
                actor=Actor.for_user(request.user),
                options=params.validated_data,
            )
        except RetrainAlreadyRunning as exc:
            raise RetrainConflict(exc.run, str(exc)) from exc
        run.refresh_from_db()
        if retrain_not_queued(run):  # the broker (Redis) refused the task
            raise QueueUnavailable(
                _(
                    "The task queue is unavailable: retrain run %(run)s was recorded "
                    "as failed and not queued; try again when the queue is back."
                )
                % {"run": run.pk}
            )
        body = {"run_id": run.pk, "status": run.status, "trigger": run.trigger}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class EmergencyRetrainApi(ManualRetrainApi):
    trigger = RetrainRun.Trigger.EMERGENCY


class RetrainRunListApi(StaffApiMixin, generics.ListAPIView):
    """Retrain runs, newest first; filter with ?trigger= and ?status=."""

    serializer_class = RetrainRunOutputSerializer
    permission_classes = [IsStaff, CanViewRuns]

    def get_queryset(self):
        runs = RetrainRun.objects.select_related("model_version", "requested_by")
        for name in ("trigger", "status"):
            value = self.request.query_params.get(name)
            if value:
                runs = runs.filter(**{name: value})
        return runs


class RetrainRunDetailApi(StaffApiMixin, generics.RetrieveAPIView):
    serializer_class = RetrainRunOutputSerializer
    permission_classes = [IsStaff, CanViewRuns]
    queryset = RetrainRun.objects.select_related("model_version", "requested_by")
