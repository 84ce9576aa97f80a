"""Self-healing: when the active model's file fails, restore it from a backup.

The inference engine calls `model_self_heal` when the active version fails its
checksum or won't unpickle. The version is marked corrupt, its newest good
backup is copied back, proven to load and reactivated. Without one, the engine
serves in statistical mode and (if SELF_HEAL_QUEUE_RETRAIN) an emergency
retrain is queued. Each outcome is logged, audited ("self_heal") and counted
(`ml_self_heal_total{outcome}` on /metrics).
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from mlops.messages import message
from mlops.models import ModelVersion
from mlops.observability.metrics import record_self_heal
from mlops.services.operations.backups import model_backup_newest_good
from mlops.services.registry.audit import Actor, audit_record
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_version_activate,
    model_version_active,
    model_version_load,
    model_version_mark_corrupt,
    model_version_read_verified,
)
from mlops.services.registry.storage import get_storage
from mlops.services.training.retrain_requests import (
    RetrainAlreadyRunning,
    retrain_request,
)

logger = logging.getLogger(__name__)


def _loads(version: ModelVersion) -> bool:
    try:
        model_version_load(version)
    except ModelIntegrityError:
        return False
    return True


def model_self_heal(*, version: ModelVersion, error) -> ModelVersion | None:
    """Restore the failed active version from its newest good backup, or give up.

    Returns the reactivated version, or None when the caller must fall back to
    statistical mode. Safe to call from several processes at once: the version
    row is locked, and a process that finds it healed already just returns it.
    """
    reason = getattr(error, "reason", "load_failed")
    detail = getattr(error, "detail", "") or str(error)
    detail_message = getattr(error, "detail_message", None)
    logger.error(
        "Active model %s failed to load (%s: %s); self-healing",
        version.version,
        reason,
        detail,
    )
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().filter(pk=version.pk).first()
        if locked is None or locked.state != ModelVersion.State.ACTIVE:
            return _handled_elsewhere(version, locked)
        if _loads(locked):
            # Another process restored it while this one waited for the lock.
            logger.warning("Model %s was already healed", locked.version)
            record_self_heal("already_healed")
            return locked
        model_version_mark_corrupt(
            version=locked,
            reason=message(
                "integrity.problem",
                problem=reason,
                detail=detail_message or detail[:400],
            ),
            actor=Actor.system(),
        )
        healed, outcome, details = _restore_and_reactivate(locked, reason)
        audit_record(
            actor=Actor.system(),
            action="self_heal",
            obj=locked,
            details={
                "outcome": outcome,
                "error": reason,
                "detail": detail,
                "detail_message": detail_message,
                **details,
            },
        )
    record_self_heal(outcome)
    if healed is None:
        logger.error(
            "Model %s could not be restored (%s); serving in statistical mode",
            version.version,
            outcome,
        )
        _queue_emergency_retrain(version, reason, outcome)
    return healed


def model_self_heal_active() -> tuple[str, ModelVersion | None]:
    """Check the active version's stored file whole; self-heal it if it is bad.

    For a worker or a cron job (`verify_models --heal`): web hosts serve from
    their read cache and may not notice a deleted object until they reload.
    Returns (outcome, active version): outcome is "no_active", "ok", or the
    self-heal's ("restored", "no_backup", ...). Raises ModelIntegrityError when
    the store does not answer: nothing is known to be wrong then.
    """
    version = model_version_active()
    if version is None:
        return "no_active", None
    try:
        model_version_read_verified(version)
    except ModelIntegrityError as error:
        if error.reason == "storage_unavailable":
            raise
        healed = model_self_heal(version=version, error=error)
        if healed is None:
            return "not_restored", None
        return "restored", healed
    return "ok", version


def _handled_elsewhere(version: ModelVersion, locked: ModelVersion | None):
    """Another process got there first: it healed, or failed and fell back."""
    active = model_version_active()
    logger.warning(
        "Self-heal of %s skipped: it is now %s; active version: %s",
        version.version,
        locked.state if locked else "gone",
        active.version if active else "none",
    )
    return active


def _restore_and_reactivate(version: ModelVersion, reason: str):
    """(healed version or None, outcome, audit details)."""
    backup = model_backup_newest_good(version)
    if backup is None:
        return None, "no_backup", {"backup_id": None}
    details = {"backup_id": backup.pk, "backup_path": backup.file_path}
    try:
        with transaction.atomic():
            get_storage().copy(backup.file_path, version.file_path)
            # Prove it loads before serving it: a checksum-true file that won't
            # unpickle (a library change) would fail again on the next request.
            model_version_load(version)
            version.state = ModelVersion.State.ARCHIVED
            version.save(update_fields=["state"])
            model_version_activate(
                version=version,
                actor=Actor.system(),
                reason=message("activation.self_heal", reason=reason, backup=backup.pk),
                activated_by="self-heal",
            )
    except (ModelIntegrityError, ValidationError, OSError) as exc:
        version.refresh_from_db()
        logger.exception(
            "Restoring %s from %s failed", version.version, backup.file_path
        )
        return None, "restore_failed", {**details, "restore_error": repr(exc)}
    version.refresh_from_db()
    logger.warning(
        "Self-heal restored model %s from backup %s and reactivated it",
        version.version,
        backup.file_path,
    )
    return version, "restored", details


def _queue_emergency_retrain(version: ModelVersion, reason: str, outcome: str) -> None:
    if not settings.SELF_HEAL_QUEUE_RETRAIN:
        logger.warning("SELF_HEAL_QUEUE_RETRAIN is off: no retrain queued")
        return
    try:
        retrain_request(
            trigger="emergency",
            actor=Actor.system(),
            # Forced: with no new draw the retrain would otherwise find "nothing
            # changed" and register nothing, leaving statistical mode in place.
            options={
                "force": True,
                "reason": message(
                    "retrain.self_heal",
                    version=version.version,
                    reason=reason,
                    outcome=outcome,
                ),
            },
        )
    except RetrainAlreadyRunning:
        logger.warning("A retrain is already in flight; not queueing another")
    except Exception:
        logger.exception("Queueing the emergency retrain failed")
    else:
        logger.warning("Queued an emergency retrain after self-heal failed")
