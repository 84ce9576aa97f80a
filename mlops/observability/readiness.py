"""GET /readyz: can this process serve recommendations right now?"""

import logging
import time

from django.db import DatabaseError, connection

from draws.freshness import draw_freshness
from draws.models import LottoDraw
from mlops.fallback_reasons import FallbackReason
from mlops.models import ModelVersion
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_version_active,
    model_version_load,
)
from mlops.serving_state import serving_state as serving_mode

from .serving import serving_state

logger = logging.getLogger(__name__)

# Unpickling the forest on every probe would cost more than serving; a version
# that loaded once is trusted for this long, then checked again (its file may go).
MODEL_RECHECK_SECONDS = 60.0
_loaded_at: dict[tuple[int, str], float] = {}


def _model_loadable(version: ModelVersion) -> None:
    key = (version.pk, version.sha256)
    checked = _loaded_at.get(key)
    if checked is not None and time.monotonic() - checked < MODEL_RECHECK_SECONDS:
        return
    model_version_load(version)  # raises ModelIntegrityError
    _loaded_at.clear()
    _loaded_at[key] = time.monotonic()


def _serves_from_memory(active: ModelVersion) -> bool:
    state = serving_state()
    return bool(
        state
        and state["mode"] == "ml"
        and state["model_version_id"] == active.pk
        and state["model_sha256"] == active.sha256
    )


def readiness_check() -> tuple[bool, dict]:
    """(ready, report): the database answers, and the model or statistics can serve.

    `report["draws"]` is "ok", "stale" or "empty" (see draws.freshness).
    """
    report: dict = {"database": "ok", "model": "unavailable"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        active = model_version_active()
        draws = LottoDraw.objects.count()
        freshness = draw_freshness()
    except DatabaseError as exc:
        logger.warning("Readiness: database unreachable: %s", exc)
        return False, {"database": "error", "model": "unknown"}
    # A stale history is reported, never a reason to be unready: an outage of the
    # official site must not pull every replica out of the load balancer.
    report["draws"] = freshness.status
    report["draws_stored"] = draws
    report["latest_draw"] = freshness.latest_draw_no
    # What this process serves now (null fields before its first forecast).
    report["serving"] = serving_mode().as_dict()
    if active is not None:
        report["model_version"] = active.version
        try:
            _model_loadable(active)
        except ModelIntegrityError as exc:
            report["model_error"] = exc.reason
        except MemoryError:
            report["model_error"] = FallbackReason.MEMORY_ERROR.value
        else:
            report["model"] = "ml"
            report["model_source"] = "file"
            return True, report
        if _serves_from_memory(active):
            # This warm process still serves the model it loaded before the
            # file went: say that, not what a fresh process would serve.
            report["model"] = "ml"
            report["model_source"] = "memory"
            return True, report
    if draws > 0:
        report["model"] = "statistical"
        return True, report
    return False, report
