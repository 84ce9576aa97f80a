"""Falling back to statistical mode: the reasons, and the audit of state changes.

A `_Fallback` carries why the model was not used (`reason`, e.g. `file_missing`)
and what happened (`detail`); RETRYABLE_FALLBACKS are the reasons a retry can
cure. The audit trail records the changes of fallback state, not every request
served in one (see `_note_outcome`).
"""

import logging
import os

from mlops.models import AuditEvent
from mlops.services.registry.audit import SYSTEM, audit_record

# The cache is read through its module: forecast_cache_clear replaces it.
from recommendations.services import forecast_cache
from recommendations.services.forecast_cache import _UNSET

logger = logging.getLogger(__name__)

# Fallbacks that a retry can cure without a new draw or a new activation (a file
# put back, a transient error): a process tries the model again after this long.
RETRYABLE_FALLBACKS = frozenset(
    {"file_missing", "checksum_mismatch", "load_failed", "inference_error"}
    | {"memory_error", "storage_unavailable"}
)


class _Fallback(Exception):
    def __init__(self, reason: str, detail: str = "", version=None):
        self.reason, self.detail, self.version = reason, detail, version
        super().__init__(f"{reason}: {detail}")


def _note_outcome(reason: str | None, detail: str, version) -> None:
    """Audit a change of fallback state (entering, changing reason, recovering).

    Per process, the engine remembers the outcome of its last ML-wanted
    computation; only when it differs does it read the latest "fallback" event
    of the audit trail, and it records one only if that event says otherwise.
    So N web workers that see the same change record it once (barring a race
    between two of them, which records it twice), and a steady state records
    nothing, however many requests it serves.
    """
    cache = forecast_cache._cache
    if cache.last_outcome is not _UNSET and cache.last_outcome == reason:
        return
    cache.last_outcome = reason
    try:
        last = (
            AuditEvent.objects.filter(action=AuditEvent.Action.FALLBACK)
            .values_list("details", flat=True)
            .first()
        )
        if (last or {}).get("reason") == reason:
            return
        audit_record(
            actor=SYSTEM,
            action=AuditEvent.Action.FALLBACK,
            obj=version,
            details={
                "state": "fallback" if reason else "recovered",
                "reason": reason,
                "previous_reason": (last or {}).get("reason"),
                "detail": detail,
                "model_version": getattr(version, "version", None),
                "pid": os.getpid(),
            },
        )
    except Exception:
        logger.exception("Could not audit the fallback state change to %s", reason)
