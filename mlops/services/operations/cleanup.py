"""Remove old model files the registry no longer needs, keeping what it must.

Never removed: the active model; the newest good backup of every version that
was ever active (the rollback and restore path); the trained file of a version
that was once active when it has no good backup (it would be the only copy);
anything younger than the cutoff; any file no row knows (orphans are reported
for a person to look at). Rows stay: a version whose trained file goes is marked
`deleted`, a backup whose file goes gets `deleted_at`.
"""

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from draws.timefmt import iso_kst
from mlops.models import ModelActivation, ModelBackup, ModelVersion
from mlops.services.operations.backups import model_backup_newest_good
from mlops.services.operations.integrity import RegistryFile, registry_orphans
from mlops.services.registry.audit import Actor, audit_record
from mlops.services.registry.storage import get_storage

logger = logging.getLogger(__name__)

AUDIT_PATH_LIMIT = 200
# A century: older than any file; more overflows the date arithmetic (a 500).
MAX_OLDER_THAN_DAYS = 36500


@dataclass
class FileDecision(RegistryFile):
    """One file the registry knows, and why cleanup removes or keeps it."""

    reason: str


@dataclass
class CleanupReport:
    """What was (or, in a dry run, would be) removed and kept, and why."""

    older_than_days: int
    dry_run: bool
    cutoff: dt.datetime
    removed: list[FileDecision] = field(default_factory=list)
    kept: list[FileDecision] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    versions_deleted: list[str] = field(default_factory=list)
    backups_deleted: list[int] = field(default_factory=list)

    @property
    def removed_paths(self) -> set[str]:
        return {d.path for d in self.removed}

    @property
    def kept_paths(self) -> set[str]:
        return {d.path for d in self.kept}

    def summary(self) -> str:
        if self.dry_run:
            text = _(
                "Cleanup older than %(days)d day(s): would remove %(removed)d "
                "file(s), kept %(kept)d, %(orphans)d orphan file(s) left alone"
            )
        else:
            text = _(
                "Cleanup older than %(days)d day(s): removed %(removed)d file(s), "
                "kept %(kept)d, %(orphans)d orphan file(s) left alone"
            )
        return text % {
            "days": self.older_than_days,
            "removed": len(self.removed),
            "kept": len(self.kept),
            "orphans": len(self.orphans),
        }

    def as_dict(self) -> dict:
        return {
            "older_than_days": self.older_than_days,
            "dry_run": self.dry_run,
            "cutoff": iso_kst(self.cutoff),
            "removed": [asdict(d) for d in self.removed],
            "kept": [asdict(d) for d in self.kept],
            "orphans": self.orphans,
            "versions_deleted": self.versions_deleted,
            "backups_deleted": self.backups_deleted,
        }


def _validate_days(older_than_days) -> int:
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int):
        raise ValidationError(
            _("older_than_days must be a whole number of days, got %r.")
            % (older_than_days,)
        )
    if not 0 <= older_than_days <= MAX_OLDER_THAN_DAYS:
        raise ValidationError(
            _("older_than_days must be 0 or more and at most %(max)d, got %(days)d.")
            % {"max": MAX_OLDER_THAN_DAYS, "days": older_than_days}
        )
    return older_than_days


class _Planner:
    """Decides file by file; `removals` are applied afterwards unless dry run."""

    def __init__(self, report: CleanupReport):
        self.report = report
        self.storage = get_storage()
        self.cutoff = report.cutoff.timestamp()
        self.ever_active = set(
            ModelActivation.objects.values_list("model_version_id", flat=True)
        )
        self.version_removals: list[ModelVersion] = []
        self.backup_removals: list[ModelBackup] = []

    def _present(self, path: str) -> bool:
        return bool(path) and self.storage.exists(path)

    def _old(self, path: str) -> bool:
        return self.storage.modified_at(path) < self.cutoff

    def _decide(self, path, kind, version, remove: bool, reason: str) -> None:
        decision = FileDecision(path, kind, version.version, reason)
        (self.report.removed if remove else self.report.kept).append(decision)

    def version(self, version: ModelVersion, has_good_backup: bool) -> None:
        days = self.report.older_than_days
        remove, reason = False, ""
        if self._present(version.file_path):
            if version.state == ModelVersion.State.ACTIVE:
                reason = _("active model")
            elif not self._old(version.file_path):
                reason = _("newer than %d day(s)") % days
            elif version.pk in self.ever_active and not has_good_backup:
                reason = _(
                    "only copy of a version that was once active (no good backup)"
                )
            else:
                remove, reason = True, _("older than %d day(s)") % days
            self._decide(version.file_path, "model", version, remove, reason)
            if remove:
                self.version_removals.append(version)
        if not self._present(version.metadata_path):
            return
        if reason:  # metadata follows its model file
            why = _("its model file is removed (%s)") % reason if remove else reason
            self._decide(version.metadata_path, "metadata", version, remove, why)
        elif version.state == ModelVersion.State.ACTIVE:
            self._decide(
                version.metadata_path, "metadata", version, False, _("active model")
            )
        elif not self._old(version.metadata_path):
            self._decide(
                version.metadata_path,
                "metadata",
                version,
                False,
                _("newer than %d day(s)") % days,
            )
        else:
            self._decide(
                version.metadata_path,
                "metadata",
                version,
                True,
                _("older than %d day(s); its model file is gone") % days,
            )

    def backup(self, backup: ModelBackup, protected_ids: set[int]) -> None:
        version = backup.model_version
        days = self.report.older_than_days
        if not self._present(backup.file_path):
            return  # nothing to remove; verify_models reports it missing
        remove = False
        if backup.pk in protected_ids:
            reason = _("newest good backup of a version that was active")
        elif not self._old(backup.file_path):
            reason = _("newer than %d day(s)") % days
        else:
            remove, reason = True, _("older than %d day(s)") % days
        self._decide(backup.file_path, "backup", version, remove, reason)
        if self._present(backup.metadata_path):
            self._decide(
                backup.metadata_path, "backup_metadata", version, remove, reason
            )
        if remove:
            self.backup_removals.append(backup)


def models_cleanup(
    *, older_than_days: int, dry_run: bool, actor: Actor
) -> CleanupReport:
    """Remove model files and backups older than N days that nothing needs."""
    days = _validate_days(older_than_days)
    report = CleanupReport(
        older_than_days=days,
        dry_run=dry_run,
        cutoff=timezone.now() - dt.timedelta(days=days),
    )
    planner = _Planner(report)
    protected: set[int] = set()
    good_backup: set[int] = set()
    for version in ModelVersion.objects.order_by("created_at", "id"):
        newest = model_backup_newest_good(version)
        if newest is not None:
            good_backup.add(version.pk)
            if version.pk in planner.ever_active:
                protected.add(newest.pk)
        planner.version(version, version.pk in good_backup)
    backups = ModelBackup.objects.filter(deleted_at__isnull=True).select_related(
        "model_version"
    )
    for backup in backups.order_by("created_at", "id"):
        planner.backup(backup, protected)
    report.orphans = registry_orphans()
    if not dry_run:
        _apply(planner, report)
        audit_record(
            actor=actor,
            action="cleanup",
            details={
                "older_than_days": days,
                "removed": sorted(report.removed_paths)[:AUDIT_PATH_LIMIT],
                "removed_count": len(report.removed),
                "kept_count": len(report.kept),
                "versions_deleted": report.versions_deleted,
                "backups_deleted": report.backups_deleted,
                "orphans": report.orphans[:AUDIT_PATH_LIMIT],
            },
        )
    logger.info(report.summary())
    return report


def _apply(planner: _Planner, report: CleanupReport) -> None:
    storage = planner.storage
    now = timezone.now()
    for version in planner.version_removals:
        with transaction.atomic():
            # Re-read under a lock: an activation may have happened since planning.
            locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
            if locked.state == ModelVersion.State.ACTIVE:
                _unplan(report, locked, _("activated during cleanup"))
                continue
            locked.state = ModelVersion.State.DELETED
            locked.state_changed_at = now
            locked.save(update_fields=["state", "state_changed_at"])
            storage.delete(locked.file_path)
            if locked.metadata_path:
                storage.delete(locked.metadata_path)
        report.versions_deleted.append(locked.version)
        logger.info("Cleanup removed the files of model %s", locked.version)
    metadata_only = {d.path for d in report.removed if d.kind == "metadata"} - {
        v.metadata_path for v in planner.version_removals
    }
    for path in sorted(metadata_only):
        storage.delete(path)
    for backup in planner.backup_removals:
        with transaction.atomic():
            ModelBackup.objects.filter(pk=backup.pk).update(deleted_at=now)
            storage.delete(backup.file_path)
            if backup.metadata_path:
                storage.delete(backup.metadata_path)
        report.backups_deleted.append(backup.pk)


def _unplan(report: CleanupReport, version: ModelVersion, reason: str) -> None:
    paths = {version.file_path, version.metadata_path}
    moved = [d for d in report.removed if d.path in paths]
    report.removed = [d for d in report.removed if d.path not in paths]
    report.kept.extend(FileDecision(d.path, d.kind, d.version, reason) for d in moved)
