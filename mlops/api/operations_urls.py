"""Staff API for model operations under /api/admin/models/ (the fourth door).

Same services, same permissions as the admin actions: staff only (401 without
credentials, 403 for non-staff), plus the model permission of each operation.
"""

from django.conf import settings
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from mlops.messages import code_of
from mlops.models import ModelVersion
from mlops.selectors import activation_history
from mlops.services.operations.backups import (
    model_version_backup,
    model_version_restore,
    model_version_rollback,
)
from mlops.services.operations.cleanup import MAX_OLDER_THAN_DAYS, models_cleanup
from mlops.services.operations.integrity import models_verify
from mlops.services.registry.audit import Actor

from .outputs import (
    ActivationOutputSerializer,
    ModelBackupOutputSerializer,
    ModelCleanupOutputSerializer,
    ModelStateOutputSerializer,
    ModelVerifyOutputSerializer,
)
from .permissions import StaffApiMixin, needs


class OperationsApi(StaffApiMixin, APIView):
    codename = "view_modelversion"

    def get_permissions(self):
        return [*super().get_permissions(), needs(self.codename)()]

    def version(self, label: str) -> ModelVersion:
        found = ModelVersion.objects.filter(version=label).first()
        if found is None:
            raise Http404(f"Unknown model version {label!r}.")
        return found

    def activate_with_reason(self, request, operation, *, label: str | None = None):
        """Run a restore or rollback as the user, with the reason from the body.

        200 with the version it activated; 400 for a bad reason or a refusal
        (the service's ValidationError, in the API's error format).
        """
        params = ReasonInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        target = {} if label is None else {"version": self.version(label)}
        activated = operation(
            **target,
            actor=Actor.for_user(request.user),
            reason=params.validated_data["reason"],
        )
        return Response(version_output(activated))


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )


def version_output(version: ModelVersion) -> dict:
    return {"version": version.version, "state": version.state}


class ModelBackupApi(OperationsApi):
    codename = "backup_modelversion"

    @extend_schema(
        summary=_("Back up a version"),
        description=_(
            "Copy the version's model file to the backup area and verify the copy. "
            "201 with the backup's path, checksum and size; 400 when the file is "
            "missing or does not match its checksum. Needs "
            "mlops.backup_modelversion."
        ),
        request=None,
        responses={201: ModelBackupOutputSerializer},
    )
    def post(self, request, version: str):
        backup = model_version_backup(
            version=self.version(version), actor=Actor.for_user(request.user)
        )
        body = {
            "backup_id": backup.pk,
            "version": version,
            "file_path": backup.file_path,
            "sha256": backup.sha256,
            "size_bytes": backup.size_bytes,
            "verified_at": backup.verified_at,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class ModelRestoreApi(OperationsApi):
    codename = "restore_modelversion"

    @extend_schema(
        summary=_("Restore a version"),
        description=_(
            "Make the version active again, from its file or, when that is "
            "missing or corrupt, from its backup. The reason goes to the audit "
            "log. 400 when neither file nor backup can be used. Needs "
            "mlops.restore_modelversion."
        ),
        request=ReasonInputSerializer,
        responses=ModelStateOutputSerializer,
    )
    def post(self, request, version: str):
        return self.activate_with_reason(request, model_version_restore, label=version)


class ModelRollbackApi(OperationsApi):
    codename = "activate_modelversion"

    @extend_schema(
        summary=_("Roll back"),
        description=_(
            "Activate the version that was active before the current one; the "
            "reason goes to the audit log. 400 when there is no earlier version. "
            "Needs mlops.activate_modelversion."
        ),
        request=ReasonInputSerializer,
        responses=ModelStateOutputSerializer,
    )
    def post(self, request):
        return self.activate_with_reason(request, model_version_rollback)


class ModelVerifyApi(OperationsApi):
    """Check every file; 200 with `ok` false when something is missing/corrupt."""

    @extend_schema(
        summary=_("Verify model files"),
        description=_(
            "Check every model and backup file against its recorded checksum. "
            "200 with `ok` false and the problems listed when a file is missing "
            "or corrupt; files nobody names are listed as orphans."
        ),
        request=None,
        responses=ModelVerifyOutputSerializer,
    )
    def post(self, request):
        report = models_verify(actor=Actor.for_user(request.user))
        return Response(report.as_dict())


class ModelCleanupApi(OperationsApi):
    codename = "delete_modelversion"

    class InputSerializer(serializers.Serializer):
        older_than_days = serializers.IntegerField(
            min_value=0,
            max_value=MAX_OLDER_THAN_DAYS,
            default=lambda: settings.CLEANUP_OLDER_THAN_DAYS,
        )
        # Deleting files takes an explicit "dry_run": false; anything less plans.
        dry_run = serializers.BooleanField(default=True)

    @extend_schema(
        summary=_("Clean up old model files"),
        description=_(
            "Delete model files older than `older_than_days` that the registry no "
            "longer needs. Never deleted: the active model, the newest good backup "
            "of every version that was ever active, the only copy of such a "
            "version, and files no version names (reported as orphans). `dry_run` "
            "lists what would go and deletes nothing. Needs "
            "mlops.delete_modelversion."
        ),
        request=InputSerializer,
        responses=ModelCleanupOutputSerializer,
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        report = models_cleanup(
            **params.validated_data, actor=Actor.for_user(request.user)
        )
        return Response(report.as_dict())


class ModelActivationsApi(OperationsApi):
    """A version's activation history, oldest first."""

    @extend_schema(
        summary=_("Activation history"),
        description=_(
            "When the version was active, oldest first: who or what activated it "
            "and why, and when and why it was replaced."
        ),
        responses=ActivationOutputSerializer(many=True),
    )
    def get(self, request, version: str):
        periods = activation_history(version=self.version(version))
        return Response(
            [
                {
                    "activated_at": p.activated_at,
                    "deactivated_at": p.deactivated_at,
                    "is_current": p.is_current,
                    "activated_by": p.activated_by,
                    "user": p.user.get_username() if p.user_id else None,
                    "retrain_run": p.retrain_run_id,
                    "reason": p.reason_text,
                    "reason_code": code_of(p.reason_message),
                    "deactivation_reason": p.deactivation_reason_text,
                    "deactivation_reason_code": code_of(p.deactivation_reason_message),
                }
                for p in periods
            ]
        )


urlpatterns = [
    path("models/rollback", ModelRollbackApi.as_view(), name="model-rollback"),
    path("models/verify", ModelVerifyApi.as_view(), name="model-verify"),
    path("models/cleanup", ModelCleanupApi.as_view(), name="model-cleanup"),
    path("models/<str:version>/backup", ModelBackupApi.as_view(), name="model-backup"),
    path(
        "models/<str:version>/restore",
        ModelRestoreApi.as_view(),
        name="model-restore",
    ),
    path(
        "models/<str:version>/activations",
        ModelActivationsApi.as_view(),
        name="model-activations",
    ),
]
