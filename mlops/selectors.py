"""Reads of the mlops models for pages and APIs (services write, selectors read)."""

from django.db.models import QuerySet

from mlops.models import (
    AuditEvent,
    LedgerHead,
    ModelActivation,
    ModelVersion,
    Prediction,
    RetrainRun,
)


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


def forecast_list(*, target_draw_no: int | None = None) -> QuerySet[Prediction]:
    """Recorded forecasts, newest target draw first, with their model versions."""
    forecasts = Prediction.objects.select_related("model_version")
    if target_draw_no is not None:
        forecasts = forecasts.filter(target_draw_no=target_draw_no)
    return forecasts.order_by("-target_draw_no", "ledger_index", "pk")


def ledger_head() -> LedgerHead:
    """The forecast ledger's head row (an empty one before the first link)."""
    head = LedgerHead.objects.filter(pk=LedgerHead.SINGLETON).first()
    return head or LedgerHead(pk=LedgerHead.SINGLETON, length=0, commitment="")


def ledger_links(*, after_index: int = 0) -> QuerySet[Prediction]:
    """The ledger's links after position `after_index`, in chain order."""
    return (
        Prediction.objects.filter(ledger_index__gt=after_index)
        .select_related("model_version")
        .order_by("ledger_index")
    )


def ledger_index_of(*, commitment: str) -> int | None:
    """The position of the link with this commitment, or None if no link has it."""
    return (
        Prediction.objects.filter(commitment=commitment, ledger_index__isnull=False)
        .values_list("ledger_index", flat=True)
        .first()
    )
