"""Scheduled integrity checks: the active model's file every few minutes, every file daily.

A missing or corrupt active file starts self-heal at once (restore from the
newest good backup, or statistical mode and a forced emergency retrain), instead
of waiting for the next process that tries to load it. Each scope's latest
result is kept in one `IntegrityCheck` row, which the operations page shows.
"""

import logging

from django.utils import timezone

from mlops.messages import code_of, message, render, render_english
from mlops.models import AuditEvent, IntegrityCheck
from mlops.services.operations.integrity import models_verify
from mlops.services.operations.self_heal import model_self_heal
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_version_active,
    model_version_read_verified,
)

logger = logging.getLogger(__name__)


def _record(scope: str, *, ok: bool, summary: dict, details: dict) -> IntegrityCheck:
    """Keep the scope's latest result; the summary is a stored message whose
    English stays in the text column (`details.summary_message` is read)."""
    check, _created = IntegrityCheck.objects.update_or_create(
        scope=scope,
        defaults={
            "checked_at": timezone.now(),
            "ok": ok,
            "summary": render_english(summary)[:500],
            "details": {**details, "summary_message": summary},
        },
    )
    return check


def _heal(error: ModelIntegrityError) -> dict:
    """Self-heal the active version now; what came of it, for the record."""
    logger.error(
        "Integrity: the active model %s is %s (%s); self-healing now",
        error.version.version,
        error.reason,
        error.detail,
    )
    healed = model_self_heal(version=error.version, error=error)
    return {
        "version": error.version.version,
        "problem": error.reason,
        "detail": error.detail,
        "detail_message": error.detail_message,
        "healed": healed is not None,
        "active_now": healed.version if healed is not None else None,
    }


def model_active_verify() -> IntegrityCheck:
    """Check the active model's file against its sha256; self-heal it if it fails."""
    active = model_version_active()
    if active is None:
        return _record(
            IntegrityCheck.Scope.ACTIVE,
            ok=True,
            summary=message("integrity.no_active"),
            details={"version": None},
        )
    try:
        model_version_read_verified(active)
    except ModelIntegrityError as error:
        details = _heal(error)
        outcome = "restored" if details["healed"] else "not_restored"
        return _record(
            IntegrityCheck.Scope.ACTIVE,
            ok=False,
            summary=message(
                "integrity.active_failed",
                version=active.version,
                problem=error.reason,
                outcome=message(f"integrity.{outcome}"),
            ),
            details=details,
        )
    return _record(
        IntegrityCheck.Scope.ACTIVE,
        ok=True,
        summary=message("integrity.active_ok", version=active.version),
        details={"version": active.version},
    )


def models_verify_scheduled() -> IntegrityCheck:
    """Check every file (audited as the scheduler); heal the active one if it fails."""
    report = models_verify(actor=Actor.scheduler())
    active = model_version_active()
    failed_active = active is not None and any(
        check.version == active.version and check.kind == "model"
        for check in report.missing + report.corrupt
    )
    details = {
        "missing": [c.path for c in report.missing][:50],
        "corrupt": [c.path for c in report.corrupt][:50],
        "orphans": report.orphans[:50],
    }
    if failed_active:
        model_active_verify()  # heals now and records the active scope too
    return _record(
        IntegrityCheck.Scope.ALL,
        ok=report.ok,
        summary=report.summary_message(),
        details=details,
    )


def integrity_last_check() -> dict | None:
    """The latest integrity check, scheduled or by a person; a failed one first.

    {"at", "ok", "summary", "summary_code", "by", "scope"}, or None when no check
    ever ran; the summary is in the reader's language (older rows as stored).
    """
    found = [
        {
            "at": check.checked_at,
            "ok": check.ok,
            "summary": render(
                (check.details or {}).get("summary_message"), fallback=check.summary
            ),
            "summary_code": code_of((check.details or {}).get("summary_message")),
            "by": "scheduler",
            "scope": check.scope,
        }
        for check in IntegrityCheck.objects.all()
    ]
    event = AuditEvent.objects.filter(action=AuditEvent.Action.VERIFY).first()
    if event is not None:
        details = event.details or {}
        found.append(
            {
                "at": event.created_at,
                "ok": bool(details.get("ok", True)),
                "summary": render(
                    details.get("summary_message"), fallback=details.get("summary", "")
                ),
                "summary_code": code_of(details.get("summary_message")),
                "by": event.actor,
                "scope": "all",
            }
        )
    if not found:
        return None
    return max(found, key=lambda item: (not item["ok"], item["at"]))
