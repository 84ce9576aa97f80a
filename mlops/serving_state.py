"""What this process serves, and whether the model file behind it still holds.

mlops never imports serving (the recommendations app), yet /readyz, /metrics and
the operations page must say what a process serves: a warm process keeps serving
the model it loaded even when the file on disk has gone. Serving registers the
one provider here in its AppConfig.ready() and mlops calls `serving_state()`.

`model_file_status()` is the one answer to "does the served model's file still
hold?" in this process: /readyz, the recommendation response and the operations
page all read it, so the three never disagree (docs/OPERATIONS.md, "Corrupt or
missing model file").
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.conf import settings

from mlops.fallback_reasons import FallbackReason
from mlops.models import ModelVersion
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_version_check_stored,
    model_version_load,
)

logger = logging.getLogger(__name__)

MODEL_FILE_OK = "ok"


@dataclass(frozen=True)
class ServingState:
    """The forecast this process serves now; all None before it computed one."""

    mode: str | None = None  # "ml" | "statistical"
    model_version: str | None = None
    model_version_id: int | None = None
    model_sha256: str | None = None  # of the model held in memory (ml mode)
    fallback_reason: str | None = None
    target_draw_no: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def holds(self, version: ModelVersion) -> bool:
        """This process serves `version` (those bytes) from its memory."""
        return (
            self.mode == "ml"
            and self.model_version_id == version.pk
            and self.model_sha256 == version.sha256
        )


class _Registry:
    """The registered provider (one: the serving app's) and the file checks."""

    provider: Callable[[], ServingState] | None = None
    lock = threading.Lock()
    # pk -> (checked at (monotonic), sha256 checked, status)
    file_checks: dict[int, tuple[float, str, str]] = {}


def serving_state_provider_register(provider: Callable[[], ServingState]) -> None:
    """Make `provider` the source of `serving_state()` (serving's AppConfig.ready)."""
    _Registry.provider = provider


def serving_state() -> ServingState:
    """This process's serving state; empty when no provider answers."""
    provider = _Registry.provider
    if provider is None:
        return ServingState()
    try:
        return provider()
    except Exception:
        logger.exception("The serving state provider failed")
        return ServingState()


def model_file_status(version: ModelVersion) -> str:
    """ "ok", or the reason code why `version`'s stored file could not serve.

    Checked at most every ML_MODEL_FILE_RECHECK_SECONDS per version, the answer
    shared by every caller in this process. A process that holds the version in
    memory checks the stored bytes (local: sha256; S3: HEAD and size); one that
    does not must prove it could load them, so it loads them.
    """
    now = time.monotonic()
    checked = _Registry.file_checks.get(version.pk)
    if (
        checked is not None
        and checked[1] == version.sha256
        and now - checked[0] < settings.ML_MODEL_FILE_RECHECK_SECONDS
    ):
        return checked[2]
    status = _check_file(version, held=serving_state().holds(version))
    with _Registry.lock:
        _Registry.file_checks = {
            **_Registry.file_checks,
            version.pk: (now, version.sha256, status),
        }
    return status


def served_model_file_status(*, model_version_id: int | None) -> str | None:
    """The file status of the model a response was served from; None without one."""
    if model_version_id is None:
        return None
    checked = _Registry.file_checks.get(model_version_id)
    if (
        checked is not None
        and time.monotonic() - checked[0] < settings.ML_MODEL_FILE_RECHECK_SECONDS
    ):
        return checked[2]  # no query on the hot path while the check is fresh
    version = ModelVersion.objects.filter(pk=model_version_id).first()
    if version is None:
        return FallbackReason.FILE_MISSING.value  # the row (and its file) went
    return model_file_status(version)


def model_file_checks_forget() -> None:
    """Forget every file check: the next caller checks again (a new process, tests)."""
    with _Registry.lock:
        _Registry.file_checks = {}


def _check_file(version: ModelVersion, *, held: bool) -> str:
    try:
        if held:
            model_version_check_stored(version)
        else:
            model_version_load(version)
    except ModelIntegrityError as error:
        return error.reason
    except MemoryError:
        return FallbackReason.MEMORY_ERROR.value
    return MODEL_FILE_OK
