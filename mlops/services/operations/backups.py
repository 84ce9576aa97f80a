"""Backups of model versions, restore from them, and rollback to the previous model.

A backup is a verified copy of a version's file (and its metadata) under
MODEL_ROOT/backups/<version>/. A restore repairs a version's trained file from
its newest good backup when the file is missing or corrupt, then activates it;
rollback walks the activation history back one step. Every web process picks
the change up by itself: the engine asks the registry for the active version.
"""

import json
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from mlops.messages import message, render, render_english
from mlops.models import ModelActivation, ModelBackup, ModelVersion
from mlops.services.registry.audit import SYSTEM, Actor, audit_record
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_version_activate,
    model_version_active,
    model_version_get,
    model_version_metadata,
    model_version_read_verified,
    model_version_write_metadata,
)
from mlops.services.registry.storage import BACKUPS_DIR, get_storage, sha256_bytes
from mlops.signals import model_activated

logger = logging.getLogger(__name__)

# Versions that a restore can bring back; "active" and "archived" need no state
# change, only (perhaps) their file.
UNUSABLE_STATES = (ModelVersion.State.CORRUPT, ModelVersion.State.DELETED)


class NoUsableBackupError(ValidationError):
    """The version's file needs repair and it has no backup that checks out."""


def _resolve(version: ModelVersion | str) -> ModelVersion:
    if isinstance(version, ModelVersion):
        return version
    return model_version_get(version=str(version))


def _backup_paths(version: ModelVersion) -> tuple[str, str]:
    """backups/<version>/<version>_<UTC timestamp>[_N].pkl and its metadata twin."""
    storage = get_storage()
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    base = f"{BACKUPS_DIR}/{version.version}/{version.version}_{stamp}"
    candidate, suffix = base, 1
    while (
        storage.exists(f"{candidate}.pkl")
        or ModelBackup.objects.filter(file_path=f"{candidate}.pkl").exists()
    ):
        suffix += 1
        candidate = f"{base}_{suffix}"
    return f"{candidate}.pkl", f"{candidate}_metadata.json"


def model_backup_check(backup: ModelBackup) -> str:
    """'ok', 'missing' or 'corrupt': the backup file against the version's checksum."""
    storage = get_storage()
    try:
        data = storage.read_bytes(backup.file_path)
    except (FileNotFoundError, IsADirectoryError, ValueError):
        return "missing"
    actual = sha256_bytes(data)
    expected = {backup.sha256, backup.model_version.sha256}
    return "ok" if len(expected) == 1 and actual in expected else "corrupt"


def model_backup_newest_good(version: ModelVersion) -> ModelBackup | None:
    """The newest backup of `version` whose file matches its checksum, or None."""
    for backup in version.backups.filter(deleted_at__isnull=True).select_related(
        "model_version"
    ):
        status = model_backup_check(backup)
        if status == "ok":
            return backup
        logger.warning(
            "Backup %s of model %s is %s; trying an older one",
            backup.file_path,
            version.version,
            status,
        )
    return None


def model_version_backup(*, version: ModelVersion | str, actor: Actor) -> ModelBackup:
    """Copy the version's file and metadata into backups/ and verify the copy."""
    version = _resolve(version)
    try:
        data = model_version_read_verified(version)
    except ModelIntegrityError as exc:
        raise ValidationError(
            _(
                "Can't back up %(version)s: its file is %(problem)s (%(path)s). "
                "Restore it from a backup first."
            )
            % {
                "version": version.version,
                "problem": exc.reason.replace("_", " "),
                "path": version.file_path,
            }
        ) from exc
    storage = get_storage()
    file_path, metadata_path = _backup_paths(version)
    storage.write_bytes(file_path, data)
    # Read the copy back: a backup nobody verified is a hope, not a backup.
    copied = sha256_bytes(storage.read_bytes(file_path))
    if copied != version.sha256:
        storage.delete(file_path)
        raise ValidationError(
            _(
                "The backup copy of %(version)s does not match its checksum "
                "(%(copied)s… instead of %(expected)s…); nothing was recorded."
            )
            % {
                "version": version.version,
                "copied": copied[:12],
                "expected": version.sha256[:12],
            }
        )
    if version.metadata_path and storage.exists(version.metadata_path):
        storage.copy(version.metadata_path, metadata_path)
    else:
        payload = json.dumps(model_version_metadata(version), indent=2, default=str)
        storage.write_bytes(metadata_path, payload.encode())
    backup = ModelBackup.objects.create(
        model_version=version,
        file_path=file_path,
        metadata_path=metadata_path,
        sha256=copied,
        size_bytes=len(data),
        created_by=actor.label[:64],
        verified_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="backup",
        obj=version,
        details={
            "backup_id": backup.pk,
            "file_path": file_path,
            "sha256": copied,
            "size_bytes": len(data),
        },
    )
    logger.info("Backed up model %s to %s (verified)", version.version, file_path)
    return backup


def _has_verified_backup(version: ModelVersion) -> bool:
    backups = version.backups.filter(
        deleted_at__isnull=True, verified_at__isnull=False, sha256=version.sha256
    ).select_related("model_version")
    return any(model_backup_check(backup) == "ok" for backup in backups)


@receiver(model_activated, dispatch_uid="mlops.backups.backup_on_activation")
def model_version_backup_on_activation(sender, version, previous, actor, **kwargs):
    """Back up every newly activated version, unless it already has a good copy."""
    try:
        version.refresh_from_db()
        if _has_verified_backup(version):
            return
        model_version_backup(version=version, actor=SYSTEM)
    except Exception:
        # Runs after the activation committed: a failed backup must not turn a
        # successful activation into an error for its caller. It is logged, and
        # verify_models reports a version without a backup.
        logger.exception("Automatic backup of model %s failed", version.version)


def _repair_from_backup(version: ModelVersion) -> ModelBackup | None:
    """Make the version's trained file good again; return the backup used, if any.

    Leaves a corrupt/deleted version archived once its file checks out. Raises
    NoUsableBackupError when the file is bad and no backup checks out.
    """
    storage = get_storage()
    used = None
    try:
        model_version_read_verified(version)
    except ModelIntegrityError as exc:
        used = model_backup_newest_good(version)
        if used is None:
            raise NoUsableBackupError(
                _(
                    "Model %(version)s can't be restored: its file is %(problem)s "
                    "and it has no backup that matches its checksum."
                )
                % {"version": version.version, "problem": exc.reason.replace("_", " ")}
            ) from exc
        storage.copy(used.file_path, version.file_path)
        try:
            model_version_read_verified(version)  # the copy landed whole
        except ModelIntegrityError as copied:
            raise NoUsableBackupError(
                f"Model {version.version} can't be restored: the copy of backup "
                f"{used.file_path} is {copied.reason.replace('_', ' ')} after it was "
                "written (a failing disk or bucket?); nothing was activated."
            ) from copied
        logger.warning(
            "Restored %s from backup %s (%s)",
            version.file_path,
            used.file_path,
            exc.reason,
        )
    if version.state in UNUSABLE_STATES:
        version.state = ModelVersion.State.ARCHIVED
        version.state_changed_at = timezone.now()
        version.save(update_fields=["state", "state_changed_at"])
    if version.metadata_path and not storage.exists(version.metadata_path):
        model_version_write_metadata(version)
    return used


def _activate_and_record(
    version: ModelVersion, *, operation: str, actor: Actor, reason: str, details: dict
) -> None:
    """Activate a version for a restore or rollback and record the operation."""
    model_version_activate(
        version=version, actor=actor, reason=reason, activated_by=operation
    )
    audit_record(actor=actor, action=operation, obj=version, details=details)


def model_version_restore(
    *, version: ModelVersion | str, actor: Actor, reason: str = ""
) -> ModelVersion:
    """Make a version active again, repairing its file from a backup if needed."""
    version = _resolve(version)
    with transaction.atomic():
        # Serialises restores and self-heals of the same version across processes.
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        previous_state = locked.state
        backup = _repair_from_backup(locked)
        if previous_state == ModelVersion.State.ACTIVE and backup is None:
            raise ValidationError(
                _(
                    "Model %s is already active and its file matches its "
                    "checksum; there is nothing to restore."
                )
                % locked.version
            )
        _activate_and_record(
            locked,
            operation="restore",
            actor=actor,
            reason=reason or message("activation.restored"),
            details={
                "reason": reason,
                "previous_state": previous_state,
                "file_restored": backup is not None,
                "backup_id": backup.pk if backup else None,
                "backup_path": backup.file_path if backup else None,
            },
        )
    logger.info("Restored model %s (was %s)", locked.version, previous_state)
    locked.refresh_from_db()
    return locked


@dataclass
class RollbackPlan:
    """What a rollback would do: the target, and the candidates passed over."""

    current: ModelVersion | None
    target: ModelVersion | None
    needs_restore: bool = False
    skipped: list[dict] = field(default_factory=list)


def _usable(version: ModelVersion) -> tuple[bool, bool]:
    """(usable, needs a restore from backup) for a rollback candidate."""
    try:
        model_version_read_verified(version)
        file_ok = True
    except ModelIntegrityError:
        file_ok = False
    if file_ok and version.state not in UNUSABLE_STATES:
        return True, False
    if model_backup_newest_good(version) is not None:
        return True, True
    return False, False


def model_version_rollback_plan() -> RollbackPlan:
    """The version a rollback would activate: the one active before the current one.

    Walks the activation history newest first, passing over the current version
    and any version that is corrupt or deleted and has no good backup.
    """
    current = model_version_active()
    plan = RollbackPlan(current=current, target=None)
    seen = {current.pk} if current else set()
    history = ModelActivation.objects.select_related("model_version").order_by(
        "-activated_at", "-id"
    )
    for activation in history:
        candidate = activation.model_version
        if candidate.pk in seen:
            continue
        seen.add(candidate.pk)
        usable, needs_restore = _usable(candidate)
        if usable:
            plan.target, plan.needs_restore = candidate, needs_restore
            return plan
        plan.skipped.append(
            {
                "version": candidate.version,
                "state": candidate.state,
                # Read live (the confirmation page); the audit stores the code.
                "why": render(message("rollback.unusable")),
            }
        )
    return plan


def model_version_rollback(*, actor: Actor, reason: str = "") -> ModelVersion:
    """Activate the version that was active before the current one."""
    plan = model_version_rollback_plan()
    if plan.target is None:
        skipped = ", ".join(s["version"] for s in plan.skipped)
        if skipped:
            raise ValidationError(
                _("There is no earlier version to roll back to (unusable: %s).")
                % skipped
            )
        raise ValidationError(_("There is no earlier version to roll back to."))
    with transaction.atomic():
        target = ModelVersion.objects.select_for_update().get(pk=plan.target.pk)
        backup = _repair_from_backup(target)
        _activate_and_record(
            target,
            operation="rollback",
            actor=actor,
            reason=reason or message("activation.rolled_back"),
            details={
                "from": plan.current.version if plan.current else None,
                "to": target.version,
                "reason": reason,
                "file_restored": backup is not None,
                "backup_id": backup.pk if backup else None,
                "skipped": [
                    {
                        **skipped,
                        "why": render_english(message("rollback.unusable")),
                        "why_message": message("rollback.unusable"),
                    }
                    for skipped in plan.skipped
                ],
            },
        )
    target.refresh_from_db()
    logger.warning(
        "Rolled back from %s to %s (%s)",
        plan.current.version if plan.current else "none",
        target.version,
        reason or "no reason given",
    )
    return target
