"""Falling back to statistical mode: the error that says why, and the audit of
this process's fallback state.

A `FallbackError` carries why the model was not used (`reason`, a
`FallbackReason`: an unknown reason can't be raised) and what happened
(`detail`). The audit trail records the changes of fallback state, not every
request served in one (see `fallback_note_outcome`).
"""

import logging
import os

from mlops.fallback_reasons import FallbackReason
from mlops.messages import stored_text
from mlops.models import AuditEvent
from mlops.services.registry.audit import SYSTEM, audit_record
from recommendations.services.forecast_cache import forecast_cache_outcome_changed

logger = logging.getLogger(__name__)


class FallbackError(Exception):
    """The model can't serve this forecast; statistical mode will."""

    def __init__(
        self, reason: FallbackReason | str, detail: str | dict = "", version=None
    ):
        self.reason = FallbackReason(reason)  # ValueError for a reason not listed
        # `detail` in English (logs); `detail_message` the stored message that
        # the audit trail renders in its reader's language.
        self.detail, self.detail_message = stored_text(detail)
        self.version = version
        super().__init__(f"{self.reason.value}: {self.detail}")


def fallback_note_outcome(
    reason: str | None, detail: str, version, detail_message: dict | None = None
) -> None:
    """Audit a change of fallback state (entering, changing reason, recovering).

    Per process, the engine remembers the outcome of its last ML-wanted
    computation; only when it differs does it read the latest "fallback" event
    of the audit trail, and it records one only if that event says otherwise.
    So N web workers that see the same change record it once (barring a race
    between two of them, which records it twice), and a steady state records
    nothing, however many requests it serves.
    """
    if not forecast_cache_outcome_changed(reason):
        return
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
                "detail_message": detail_message,
                "model_version": getattr(version, "version", None),
                "pid": os.getpid(),
            },
        )
    except Exception:
        logger.exception("Could not audit the fallback state change to %s", reason)
