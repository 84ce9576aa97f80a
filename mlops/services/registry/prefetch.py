"""Prefetch: a web process downloads the active model before a request needs it.

With model files on S3 every host keeps the bytes in its read cache
(MODEL_CACHE_DIR, by sha256). Without a prefetch, the first forecast after an
activation would download the model inside a request. So each gunicorn worker
(`post_worker_init` in deploy/gunicorn.conf.py) calls `model_prefetch_start()`:

- at start, before it accepts a request, it downloads the active version if this
  host has not cached it yet (waiting at most START_WAIT_SECONDS; a failure is
  logged and the worker starts anyway);
- then a daemon thread asks PostgreSQL for the active version's sha256 every
  ML_PREFETCH_SECONDS and downloads a version it has not cached. That is how a
  web host learns of a version another host activated (the worker's retrain).
  A `model_activated` signal in this process, and a request that saw a new
  active version first (`model_prefetch_ready`), wake it at once.

Until the prefetch has the new version's bytes, `model_prefetch_ready()` says
so and the serving path keeps serving the model it holds; after
ML_PREFETCH_GRACE_SECONDS, or once the prefetch failed for that version (object
missing, corrupt), the serving path loads it itself, which is also what starts
self-heal. On the local backend nothing is downloaded and everything is ready.
Downloads are counted in ml_model_downloads_total{context}.
"""

import logging
import os
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.dispatch import receiver

from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_download_context,
    model_version_active,
    model_version_bytes,
)
from mlops.services.registry.storage import get_storage
from mlops.signals import model_activated

logger = logging.getLogger(__name__)
# How long a starting worker waits for its first prefetch (gunicorn's default
# worker timeout is 30 s).
START_WAIT_SECONDS = 15.0


class _Prefetcher:
    """This process's prefetch thread and what it learned (one per process)."""

    def __init__(self):
        self.pid = os.getpid()
        self.thread: threading.Thread | None = None
        self.wake = threading.Event()
        self.halt = threading.Event()
        self.started = threading.Event()  # the first prefetch is over
        self.lock = threading.Lock()
        self.waiting: dict[str, float] = {}  # sha256 -> monotonic time first seen
        self.failed: set[str] = set()  # sha256s the prefetch could not fetch

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


_prefetcher = _Prefetcher()


def _current() -> _Prefetcher:
    """This process's prefetcher; a forked child starts with a fresh one."""
    global _prefetcher
    if _prefetcher.pid != os.getpid():
        _prefetcher = _Prefetcher()
    return _prefetcher


def model_prefetch_active() -> str | None:
    """Download the active model into this host's read cache unless it is there.

    Returns the active version's sha256 once its bytes are cached, None on the
    local backend or when no version is active. Raises ModelIntegrityError when
    the stored object is missing or corrupt (self-heal is the serving path's or
    the integrity job's business, not the prefetch's).
    """
    store = get_storage()
    if not store.is_remote:
        return None
    version = model_version_active()
    if version is None:
        return None
    if not store.cache_path(version.sha256).is_file():
        with model_download_context("prefetch"):
            model_version_bytes(version)  # verified against its sha256, cached
    return version.sha256


def _prefetch_once(prefetcher: _Prefetcher) -> None:
    try:
        sha256 = model_prefetch_active()
    except ModelIntegrityError as error:
        prefetcher.failed.add(error.version.sha256)
        logger.warning("Prefetch of the active model failed: %s", error)
    except Exception:
        logger.exception("Prefetch of the active model failed")
    else:
        if sha256:
            prefetcher.waiting.pop(sha256, None)
            prefetcher.failed.discard(sha256)
    finally:
        close_old_connections()


def _loop(prefetcher: _Prefetcher) -> None:
    _prefetch_once(prefetcher)
    prefetcher.started.set()
    while not prefetcher.halt.is_set():
        prefetcher.wake.wait(settings.ML_PREFETCH_SECONDS)
        prefetcher.wake.clear()
        if not prefetcher.halt.is_set():
            _prefetch_once(prefetcher)


def model_prefetch_start() -> bool:
    """Prefetch the active model now, then keep prefetching in a daemon thread.

    For a web worker that is about to accept requests; idempotent per process.
    Returns False when there is nothing to prefetch (local backend, or
    ML_PREFETCH_SECONDS is 0).
    """
    prefetcher = _current()
    if not get_storage().is_remote or settings.ML_PREFETCH_SECONDS <= 0:
        return False
    with prefetcher.lock:
        if prefetcher.running:
            return True
        prefetcher.thread = threading.Thread(
            target=_loop, args=(prefetcher,), name="model-prefetch", daemon=True
        )
        prefetcher.thread.start()
    # Bounded: with S3 unreachable, boto3 retries for longer than gunicorn lets
    # a booting worker stay silent (its timeout); the thread carries on alone.
    if not prefetcher.started.wait(START_WAIT_SECONDS):
        logger.warning(
            "The model prefetch did not finish in %s s; serving starts anyway",
            START_WAIT_SECONDS,
        )
    return True


def model_prefetch_stop(timeout: float = 10.0) -> None:
    """Stop this process's prefetch thread (tests; a worker just exits)."""
    prefetcher = _current()
    prefetcher.halt.set()
    prefetcher.wake.set()
    if prefetcher.thread is not None:
        prefetcher.thread.join(timeout)
    global _prefetcher
    _prefetcher = _Prefetcher()


def model_prefetch_ready(sha256: str) -> bool:
    """May the serving path load this version now without downloading it?

    False only while this process's prefetch is running and has not cached it
    yet (for at most ML_PREFETCH_GRACE_SECONDS); then the prefetch is woken.
    """
    prefetcher = _current()
    if not sha256 or not prefetcher.running or sha256 in prefetcher.failed:
        return True
    store = get_storage()
    if not store.is_remote or store.cache_path(sha256).is_file():
        return True
    first_seen = prefetcher.waiting.setdefault(sha256, time.monotonic())
    if time.monotonic() - first_seen > settings.ML_PREFETCH_GRACE_SECONDS:
        return True
    prefetcher.wake.set()
    return False


@receiver(model_activated, dispatch_uid="mlops.prefetch.model_activated")
def prefetch_on_activation(sender, **kwargs) -> None:
    """An activation in this process (rollback, self-heal): prefetch at once."""
    prefetcher = _current()
    if prefetcher.running:
        prefetcher.wake.set()
