"""Integrity of what the registry keeps on disk, and of the trail of draw imports.

`models_verify` checks every model and backup file against the sha256 the
registry recorded, every metadata file against the version it describes, and
lists the files under the registry's folders that no row knows (orphans).
"""

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from draws.signals import draws_imported
from mlops.messages import message, render, render_english
from mlops.models import ModelBackup, ModelVersion
from mlops.services.monitoring.predictions import PREDICTIONS_DIR
from mlops.services.registry.audit import Actor, audit_record
from mlops.services.registry.storage import (
    BACKUPS_DIR,
    METADATA_DIR,
    TRAINED_DIR,
    get_storage,
    sha256_bytes,
)
from mlops.services.training.retraining import RETRAIN_METADATA_PATH

logger = logging.getLogger(__name__)

# The folders the registry writes, scanned for orphans.
REGISTRY_DIRS = (TRAINED_DIR, METADATA_DIR, BACKUPS_DIR)
# Files other services write into metadata/: the retraining summary and the
# forecast mirrors. They are not the registry's, so they are neither orphans nor
# cleaned up. reports/ (backtests) is not scanned at all.
FOREIGN_FILES = frozenset({RETRAIN_METADATA_PATH})
FOREIGN_PREFIXES = (f"{PREDICTIONS_DIR}/",)
# An audit event lists at most this many paths per category.
AUDIT_PATH_LIMIT = 50


@dataclass
class RegistryFile:
    """A file the registry knows: where it is, what it is, whose it is."""

    path: str
    kind: str  # model | metadata | backup | backup_metadata
    version: str


@dataclass
class FileCheck(RegistryFile):
    """One file the registry knows, and what was found on disk."""

    status: str  # ok | missing | corrupt
    detail: str = ""
    backup_id: int | None = None


@dataclass
class IntegrityReport:
    """Every file checked, the problems among them, and the orphans."""

    checks: list[FileCheck] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    scanned_for_orphans: bool = True

    @property
    def missing(self) -> list[FileCheck]:
        return [c for c in self.checks if c.status == "missing"]

    @property
    def corrupt(self) -> list[FileCheck]:
        return [c for c in self.checks if c.status == "corrupt"]

    @property
    def ok(self) -> bool:
        """True when no known file is missing or corrupt (orphans don't count)."""
        return not self.missing and not self.corrupt

    def summary_message(self) -> dict:
        """The summary as a stored message: the audit trail renders it per reader."""
        return message(
            "verify.summary",
            checked=len(self.checks),
            ok=len(self.checks) - len(self.missing) - len(self.corrupt),
            missing=len(self.missing),
            corrupt=len(self.corrupt),
            orphans=len(self.orphans),
        )

    def summary(self) -> str:
        return render(self.summary_message())

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "summary": self.summary(),
            "checks": [asdict(c) for c in self.checks],
            "orphans": self.orphans,
        }


def is_foreign_file(path: str) -> bool:
    """True for files under the registry's folders that another service owns."""
    return path in FOREIGN_FILES or path.startswith(FOREIGN_PREFIXES)


def registry_known_paths() -> set[str]:
    """Every path a version or backup row names (deleted ones included)."""
    known: set[str] = set()
    for file_path, metadata_path in ModelVersion.objects.values_list(
        "file_path", "metadata_path"
    ):
        known.update(p for p in (file_path, metadata_path) if p)
    for file_path, metadata_path in ModelBackup.objects.values_list(
        "file_path", "metadata_path"
    ):
        known.update(p for p in (file_path, metadata_path) if p)
    return known


def registry_orphans() -> list[str]:
    """Files under trained/, metadata/ and backups/ that no row knows."""
    storage = get_storage()
    known = registry_known_paths()
    on_disk = [path for folder in REGISTRY_DIRS for path in storage.list_files(folder)]
    return sorted(p for p in on_disk if p not in known and not is_foreign_file(p))


def _check_file(path: str, sha256: str) -> tuple[str, str]:
    storage = get_storage()
    try:
        data = storage.read_bytes(path)
    except (FileNotFoundError, IsADirectoryError):
        return "missing", _("not on disk")
    except ValueError as exc:  # UnsafePathError: a row pointing outside the root
        return "missing", str(exc)
    actual = sha256_bytes(data)
    if actual != sha256:
        return "corrupt", _("sha256 %(actual)s… instead of %(expected)s…") % {
            "actual": actual[:12],
            "expected": sha256[:12],
        }
    return "ok", ""


def _check_metadata(path: str, sha256: str) -> tuple[str, str]:
    """Metadata has no checksum of its own; it must parse and name the model's."""
    storage = get_storage()
    try:
        payload = json.loads(storage.read_bytes(path))
    except (FileNotFoundError, IsADirectoryError):
        return "missing", _("not on disk")
    except (ValueError, UnicodeDecodeError) as exc:
        return "corrupt", _("not valid JSON: %s") % exc
    if not isinstance(payload, dict) or payload.get("sha256") != sha256:
        return "corrupt", _("does not describe this model file (sha256 differs)")
    return "ok", ""


def _version_checks(version: ModelVersion) -> list[FileCheck]:
    checks = []
    status, detail = _check_file(version.file_path, version.sha256)
    checks.append(
        FileCheck(version.file_path, "model", version.version, status, detail)
    )
    if version.metadata_path:
        status, detail = _check_metadata(version.metadata_path, version.sha256)
        checks.append(
            FileCheck(
                version.metadata_path, "metadata", version.version, status, detail
            )
        )
    return checks


def _backup_checks(backup: ModelBackup) -> list[FileCheck]:
    label = backup.model_version.version
    expected = backup.model_version.sha256
    status, detail = _check_file(backup.file_path, backup.sha256)
    if status == "ok" and backup.sha256 != expected:
        status, detail = "corrupt", _("backup checksum differs from the version's")
    checks = [FileCheck(backup.file_path, "backup", label, status, detail, backup.pk)]
    if backup.metadata_path:
        status, detail = _check_metadata(backup.metadata_path, expected)
        checks.append(
            FileCheck(
                backup.metadata_path,
                "backup_metadata",
                label,
                status,
                detail,
                backup.pk,
            )
        )
    return checks


def models_verify(
    *,
    actor: Actor | None = None,
    versions: Iterable[ModelVersion] | None = None,
) -> IntegrityReport:
    """Check every model, metadata and backup file; list orphans.

    `versions` narrows the check to those versions (and skips the orphan scan).
    Deleted versions have no files to check; their live backups are checked.
    Records a "verify" audit event when a person ran it (`actor` given).
    """
    if versions is None:
        selected = ModelVersion.objects.all()
    else:
        selected = ModelVersion.objects.filter(pk__in=[v.pk for v in versions])
    report = IntegrityReport(scanned_for_orphans=versions is None)
    for version in selected.order_by("created_at", "id"):
        if version.state != ModelVersion.State.DELETED:
            report.checks.extend(_version_checks(version))
    backups = (
        ModelBackup.objects.filter(deleted_at__isnull=True, model_version__in=selected)
        .select_related("model_version")
        .order_by("created_at", "id")
    )
    for backup in backups:
        report.checks.extend(_backup_checks(backup))
    if versions is None:
        report.orphans = registry_orphans()
    good_backups = {
        c.backup_id for c in report.checks if c.kind == "backup" and c.status == "ok"
    }
    ModelBackup.objects.filter(pk__in=good_backups).update(verified_at=timezone.now())
    for problem in report.missing + report.corrupt:
        logger.error(
            "Integrity: %s %s of %s is %s (%s)",
            problem.kind,
            problem.path,
            problem.version,
            problem.status,
            problem.detail,
        )
    for orphan in report.orphans:
        logger.warning("Integrity: orphan file %s (no registry row knows it)", orphan)
    if actor is not None:
        _audit_verify(actor, report, versions)
    return report


def _audit_verify(actor: Actor, report: IntegrityReport, versions) -> None:
    selected = list(versions) if versions is not None else []
    audit_record(
        actor=actor,
        action="verify",
        obj=selected[0] if len(selected) == 1 else None,
        details={
            "ok": report.ok,
            "summary": render_english(report.summary_message()),
            "summary_message": report.summary_message(),
            "versions": [v.version for v in selected] or "all",
            "missing": [c.path for c in report.missing][:AUDIT_PATH_LIMIT],
            "corrupt": [c.path for c in report.corrupt][:AUDIT_PATH_LIMIT],
            "orphans": report.orphans[:AUDIT_PATH_LIMIT],
        },
    )


# --- The draw history's trail ------------------------------------------------------


def draw_import_actor(source: str) -> Actor:
    """Who stored draws, from the import's source label."""
    if source.startswith("file:"):
        return Actor.cli()  # import_draws reads a file named on the command line
    # "sync" runs on the scheduler or by hand; "system" is never wrong.
    return Actor.system()


@receiver(draws_imported, dispatch_uid="mlops.integrity.audit_draws_imported")
def audit_draws_imported(sender, draw_nos, source, **kwargs):
    """Record each committed draw import in the audit trail."""
    try:
        numbers = sorted(int(n) for n in draw_nos)
        if not numbers:
            return
        audit_record(
            actor=draw_import_actor(source or ""),
            action="draw_imported",
            details={
                "source": source,
                "count": len(numbers),
                "first": numbers[0],
                "last": numbers[-1],
                "draw_nos": numbers if len(numbers) <= AUDIT_PATH_LIMIT else None,
            },
        )
    except Exception:
        # Sent after the import committed; the import itself must not fail now.
        logger.exception("Could not record the import of draws %s", draw_nos)
