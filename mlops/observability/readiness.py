"""GET /readyz: can this process serve recommendations right now?"""

import logging

from django.db import DatabaseError, connection

from draws.freshness import draw_freshness
from draws.models import LottoDraw
from mlops.services.registry.registry import model_version_active
from mlops.serving_state import MODEL_FILE_OK, model_file_status, serving_state

logger = logging.getLogger(__name__)


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
    serving = serving_state()
    report["serving"] = serving.as_dict()
    if active is not None:
        report["model_version"] = active.version
        # The one file check this process shares with the recommendation
        # response and the operations page (mlops.serving_state).
        report["model_file"] = model_file_status(active)
        if report["model_file"] == MODEL_FILE_OK:
            report["model"] = "ml"
            report["model_source"] = "file"
            return True, report
        report["model_error"] = report["model_file"]
        if serving.holds(active):
            # This warm process still serves the model it loaded before the
            # file went: say that, not what a fresh process would serve.
            report["model"] = "ml"
            report["model_source"] = "memory"
            return True, report
    if draws > 0:
        report["model"] = "statistical"
        return True, report
    return False, report
