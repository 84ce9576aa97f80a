"""Staff API: scheduler status, manual and emergency retrains, retrain runs."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from mlops.models import RetrainRun
from mlops.selectors import retrain_run_list
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import (
    RetrainAlreadyRunning,
    retrain_request,
)
from mlops.services.training.scheduling import scheduler_status

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


class SchedulerStatusApi(StaffApiMixin, APIView):
    permission_classes = [IsStaff, CanViewRuns]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(scheduler_status())


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
        body = {"run_id": run.pk, "status": run.status, "trigger": run.trigger}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class EmergencyRetrainApi(ManualRetrainApi):
    trigger = RetrainRun.Trigger.EMERGENCY


class RetrainRunListApi(StaffApiMixin, generics.ListAPIView):
    """Retrain runs, newest first; filter with ?trigger= and ?status=."""

    serializer_class = RetrainRunOutputSerializer
    permission_classes = [IsStaff, CanViewRuns]

    def get_queryset(self):
        query = self.request.query_params
        return retrain_run_list(
            trigger=query.get("trigger"), status=query.get("status")
        )


class RetrainRunDetailApi(StaffApiMixin, generics.RetrieveAPIView):
    serializer_class = RetrainRunOutputSerializer
    permission_classes = [IsStaff, CanViewRuns]

    def get_queryset(self):
        return retrain_run_list()
