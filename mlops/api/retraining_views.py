"""Staff API: scheduler status, manual and emergency retrains, retrain runs."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
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
    retrain_not_queued,
    retrain_request,
)
from mlops.services.training.scheduling import BrokerUnavailable, scheduler_status

from .outputs import SchedulerStatusOutputSerializer
from .permissions import IsStaff, StaffApiMixin, needs
from .serializers import (
    RetrainAcceptedSerializer,
    RetrainConflictSerializer,
    RetrainRequestInputSerializer,
    RetrainRunOutputSerializer,
)


def retrain_schema(summary, description):
    return extend_schema(
        summary=summary,
        description=description,
        request=RetrainRequestInputSerializer,
        responses={202: RetrainAcceptedSerializer, 409: RetrainConflictSerializer},
    )


RETRAIN_DOC = _(
    "Queue a retrain on the task cluster. 202 with the run's id (follow it at "
    "/api/admin/retrain-runs/{id}/); 409 (`retrain_running`) with the run in the "
    "way when one is already queued or running. Needs mlops.retrain_model."
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

    @extend_schema(
        summary=_("Scheduler and task cluster"),
        description=_(
            "When the next retrain is scheduled (KST and UTC), the last finished "
            "and the running retrain, whether the task cluster is alive, and every "
            "schedule. Needs mlops.view_retrainrun."
        ),
        responses=SchedulerStatusOutputSerializer,
    )
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

    @retrain_schema(_("Retrain now"), RETRAIN_DOC)
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

    @retrain_schema(
        _("Emergency retrain"),
        _(
            "As a manual retrain, recorded with the emergency trigger: for a model "
            "whose health is critical."
        ),
    )
    def post(self, request):
        return super().post(request)


class RetrainRunListApi(StaffApiMixin, generics.ListAPIView):
    """Retrain runs, newest first; filter with ?trigger= and ?status=."""

    serializer_class = RetrainRunOutputSerializer
    permission_classes = [IsStaff, CanViewRuns]

    def get_queryset(self):
        query = self.request.query_params
        return retrain_run_list(
            trigger=query.get("trigger"), status=query.get("status")
        )

    @extend_schema(
        summary=_("Retrain runs"),
        description=_(
            "Every retrain run, newest first, 20 to a page, with its options, "
            "timings, validation figures and, when it failed, the error."
        ),
        parameters=[
            OpenApiParameter(
                "trigger", str, enum=RetrainRun.Trigger.values, required=False
            ),
            OpenApiParameter(
                "status", str, enum=RetrainRun.Status.values, required=False
            ),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class RetrainRunDetailApi(StaffApiMixin, generics.RetrieveAPIView):
    serializer_class = RetrainRunOutputSerializer
    permission_classes = [IsStaff, CanViewRuns]

    def get_queryset(self):
        return retrain_run_list()

    @extend_schema(
        summary=_("One retrain run"),
        description=_(
            "A retrain run by its id: its options, timings, validation figures, "
            "whether its model was promoted and why, and the error if it failed."
        ),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
