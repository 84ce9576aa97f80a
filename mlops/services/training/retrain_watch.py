"""Watching a retrain run: its heartbeat and its peak memory, from a background thread."""

import logging
import threading
import time

import psutil
from django.conf import settings
from django.db import connection
from django.utils import timezone

from mlops.models import RetrainRun

logger = logging.getLogger(__name__)


class RunWatch:
    """Heartbeat and peak memory of one run, from a background thread.

    Peak memory: the kernel's RSS high-water mark of this process (VmHWM, reset
    at the start of the run through /proc/self/clear_refs where Linux allows
    it), and psutil samples of this process plus its children every
    SAMPLE_SECONDS (GridSearchCV's workers are children). The larger wins.
    """

    SAMPLE_SECONDS = 0.2

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.peak = 0
        self._stop = threading.Event()
        self._process = psutil.Process()
        self._hwm_reset = self._reset_high_water()
        # Six beats per timeout: a few missed beats (a slow database) are no death.
        self._beat_every = max(
            1.0, min(60.0, settings.RETRAIN_HEARTBEAT_TIMEOUT_SECONDS / 6)
        )
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _reset_high_water() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
            return True
        except OSError:
            return False

    def _sample(self) -> None:
        try:
            rss = self._process.memory_info().rss
            for child in self._process.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            return
        self.peak = max(self.peak, rss)

    def _loop(self) -> None:
        last_beat = time.monotonic()
        try:
            while not self._stop.wait(self.SAMPLE_SECONDS):
                self._sample()
                if time.monotonic() - last_beat >= self._beat_every:
                    last_beat = time.monotonic()
                    self._beat()
        finally:
            connection.close()

    def _beat(self) -> None:
        try:
            RetrainRun.objects.filter(
                pk=self.run_id, status=RetrainRun.Status.RUNNING
            ).update(heartbeat_at=timezone.now())
        except Exception:  # a missed beat is not worth failing the run for
            logger.warning(
                "Retrain run %s: heartbeat failed", self.run_id, exc_info=True
            )

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()
        if self._hwm_reset:
            self.peak = max(self.peak, _vm_hwm_bytes())
        return False


def _vm_hwm_bytes() -> int:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
