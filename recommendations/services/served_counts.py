"""How often each recorded forecast was served: counted per process, written in batches."""

import atexit
import logging
import threading
import time

from django.conf import settings

from mlops.services.monitoring.predictions import forecast_note_served

logger = logging.getLogger(__name__)


class _ServedCounts:
    """Servings per recorded forecast, written at most every ML_SERVED_FLUSH_SECONDS.

    One UPDATE per response made every response a write transaction: on SQLite
    that is an fsync (~15 ms, 14x a trivial endpoint) and a lock the Q2 worker
    waits on; on PostgreSQL every worker queues on the same row. So each
    process adds its servings up and writes them with one F() update per
    forecast when the interval has passed (0 = every response, exact at once),
    when the served forecast changes, and at exit. A crash loses at most the
    last interval's count, which only informs; the forecast itself is recorded
    when it is computed.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: dict[int, int] = {}
        self.flushed_at = float("-inf")

    def add(self, prediction_id: int) -> None:
        with self.lock:
            changed = bool(self.pending) and prediction_id not in self.pending
            self.pending[prediction_id] = self.pending.get(prediction_id, 0) + 1
            elapsed = time.monotonic() - self.flushed_at
            due = changed or elapsed >= settings.ML_SERVED_FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, {}
            self.flushed_at = time.monotonic()
        if not pending:
            return
        for prediction_id, count in pending.items():
            try:
                forecast_note_served(prediction_id, count=count)
            except Exception:
                logger.exception(
                    "Could not add %d serving(s) to forecast %d", count, prediction_id
                )


_served = _ServedCounts()


@atexit.register
def _flush_served_at_exit() -> None:
    try:
        _served.flush()
    except Exception:  # the database may already be gone at interpreter exit
        logger.warning("Served counts lost at exit", exc_info=True)


def forecast_served_flush() -> None:
    """Write this process's pending served counts now."""
    _served.flush()


def forecast_served_add(prediction_id: int) -> None:
    """Count one serving of a recorded forecast; written with the next flush."""
    _served.add(prediction_id)


def forecast_served_forget() -> None:
    """Drop this process's unwritten served counts (tests; see forecast_cache_clear)."""
    global _served
    _served = _ServedCounts()
