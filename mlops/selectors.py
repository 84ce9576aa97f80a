"""Reads of the mlops models for pages and APIs (services write, selectors read)."""

from django.db.models import QuerySet

from mlops.models import AuditEvent, ModelActivation, ModelVersion, RetrainRun


def activation_current() -> ModelActivation | None:
    """The open activation period (the active version's), with its user."""
    return (
        ModelActivation.objects.filter(is_current=True)
        .select_related("model_version", "user")
        .first()
    )


def activation_history(*, version: ModelVersion) -> QuerySet[ModelActivation]:
    """A version's activation periods, oldest first, with their users."""
    return version.activations.select_related("user").order_by("activated_at", "id")


def model_version_backup_count(*, version: ModelVersion | None) -> int:
    """How many of a version's backups are kept (not deleted); 0 for None."""
    if version is None:
        return 0
    return version.backups.filter(deleted_at__isnull=True).count()


def retrain_run_list(
    *, trigger: str | None = None, status: str | None = None
) -> QuerySet[RetrainRun]:
    """Retrain runs, newest first (the model's ordering), optionally filtered."""
    runs = RetrainRun.objects.select_related("model_version", "requested_by")
    if trigger:
        runs = runs.filter(trigger=trigger)
    if status:
        runs = runs.filter(status=status)
    return runs


def audit_event_last(*, action: str) -> AuditEvent | None:
    """The newest audit event of one action, or None."""
    return AuditEvent.objects.filter(action=action).first()


def audit_events_recent(*, limit: int = 10) -> list[AuditEvent]:
    """The newest audit events, newest first."""
    return list(AuditEvent.objects.all()[:limit])
