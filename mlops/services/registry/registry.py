"""The model registry: versions on disk with checksums, activation, loading.

Every model file is written by `model_version_register` and read by
`model_version_load`, which checks the sha256 recorded in the database before it
unpickles anything: a pickle runs code, so a file the registry did not write (or
one that changed since) is never loaded.
"""

import contextvars
import datetime as dt
import json
import logging
import platform
from contextlib import contextmanager
from pathlib import Path

import joblib
import numpy
import sklearn
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from draws.timefmt import iso_kst
from mlops.fallback_reasons import FallbackReason
from mlops.messages import message, render_english, stored_text
from mlops.ml import pipeline
from mlops.models import ModelActivation, ModelVersion
from mlops.observability.metrics import record_model_download
from mlops.services.registry.audit import SYSTEM, Actor, audit_record
from mlops.services.registry.storage import (
    METADATA_DIR,
    TRAINED_DIR,
    StorageUnavailableError,
    UnsafePathError,
    get_storage,
    sha256_bytes,
)
from mlops.signals import model_activated

logger = logging.getLogger(__name__)
# Who is downloading a model, for ml_model_downloads_total: the serving path
# sets "request", the prefetch "prefetch"; everything else counts as "other".
_download_context = contextvars.ContextVar("model_download_context", default=None)
VERSION_PREFIX = "lotto_model_"
ACTIVATE_ATTEMPTS = 3


class ModelIntegrityError(Exception):
    """A version's file is missing, differs from its checksum, or won't load."""

    def __init__(
        self,
        version: ModelVersion,
        reason: FallbackReason | str,
        detail: str | dict = "",
    ):
        # file_missing | checksum_mismatch | load_failed; ValueError if not listed
        self.reason = FallbackReason(reason).value
        self.version = version
        # storage_unavailable: the store did not answer; nothing is known to be
        # wrong with the file. `detail` is English (logs, text columns);
        # `detail_message` the same as a stored message (mlops.messages).
        self.detail, self.detail_message = stored_text(detail)
        super().__init__(f"Model {version.version}: {reason}. {detail}".strip())


def _missing(exc: Exception) -> dict:
    return message("integrity.file_missing", error=str(exc))


def _unavailable(exc: Exception) -> dict:
    return message("integrity.storage_unavailable", error=str(exc))


def library_versions() -> dict:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "joblib": joblib.__version__,
        "numpy": numpy.__version__,
    }


def model_version_active() -> ModelVersion | None:
    """The active version, or None."""
    return ModelVersion.objects.filter(state=ModelVersion.State.ACTIVE).first()


def get_latest_model_path() -> Path | None:
    """The active model's verified file on this machine, or None if none is active.

    Local storage: the file under MODEL_ROOT. S3: this host's cached copy
    (downloaded and checked against its sha256 first if it isn't cached yet).
    """
    version = model_version_active()
    if version is None:
        return None
    store = get_storage()
    if not store.is_remote:
        return store.path(version.file_path)
    model_version_bytes(version)
    return store.cache_path(version.sha256)


def model_version_get(*, version: str) -> ModelVersion:
    """The version with this label (or primary key); ValidationError if unknown."""
    found = ModelVersion.objects.filter(version=version).first()
    if found is None and str(version).isdigit():
        found = ModelVersion.objects.filter(pk=int(version)).first()
    if found is None:
        raise ValidationError(
            _("Unknown model version %(version)s.") % {"version": repr(version)}
        )
    return found


def _next_version_label(day: dt.date) -> str:
    """lotto_model_YYYYMMDD, then _2, _3 ...: a second model never overwrites."""
    base = f"{VERSION_PREFIX}{day:%Y%m%d}"
    storage = get_storage()
    label, suffix = base, 1
    while ModelVersion.objects.filter(version=label).exists() or storage.exists(
        f"{TRAINED_DIR}/{label}.pkl"
    ):
        suffix += 1
        label = f"{base}_{suffix}"
    return label


def model_version_metadata(version: ModelVersion) -> dict:
    """The facts of the row, as written next to the file for humans."""
    return {
        "version": version.version,
        "file_path": version.file_path,
        "sha256": version.sha256,
        "size_bytes": version.size_bytes,
        "created_at": iso_kst(version.created_at),
        "state": version.state,
        "draw_range": [version.draw_from, version.draw_to],
        "draw_count": version.draw_count,
        "training_data_hash": version.training_data_hash,
        "feature_set_version": version.feature_set_version,
        "hyperparameters": version.hyperparameters,
        "seed": version.seed,
        "library_versions": version.library_versions,
        "training_seconds": version.training_seconds,
        "validation_metrics": version.validation_metrics,
        "training_info": version.training_info,
    }


def model_version_write_metadata(version: ModelVersion) -> None:
    """Rewrite the version's metadata JSON (atomically)."""
    payload = json.dumps(model_version_metadata(version), indent=2, default=str)
    get_storage().write_bytes(version.metadata_path, payload.encode())


def model_version_register(
    *,
    model_bytes: bytes,
    draw_from: int,
    draw_to: int,
    draw_count: int,
    training_data_hash: str,
    feature_set_version: str,
    hyperparameters: dict,
    seed: int,
    training_seconds: float,
    validation_metrics: dict,
    training_info: dict | None = None,
) -> ModelVersion:
    """Write a trained model and its metadata; record it as an archived version."""
    storage = get_storage()
    label = _next_version_label(timezone.localdate())
    file_path = f"{TRAINED_DIR}/{label}.pkl"
    storage.write_bytes(file_path, model_bytes)
    version = ModelVersion.objects.create(
        version=label,
        file_path=file_path,
        metadata_path=f"{METADATA_DIR}/{label}_metadata.json",
        sha256=sha256_bytes(model_bytes),
        size_bytes=len(model_bytes),
        state=ModelVersion.State.ARCHIVED,
        state_changed_at=timezone.now(),
        draw_from=draw_from,
        draw_to=draw_to,
        draw_count=draw_count,
        training_data_hash=training_data_hash,
        feature_set_version=feature_set_version,
        hyperparameters=hyperparameters,
        seed=seed,
        library_versions=library_versions(),
        training_seconds=training_seconds,
        validation_metrics=validation_metrics,
        training_info=training_info or {},
    )
    model_version_write_metadata(version)
    logger.info("Registered model version %s (%d bytes)", label, len(model_bytes))
    return version


def model_version_read_verified(version: ModelVersion) -> bytes:
    """The version's file bytes, after checking them against the recorded sha256."""
    storage = get_storage()
    try:
        data = storage.read_bytes(version.file_path)
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise ModelIntegrityError(
            version, FallbackReason.FILE_MISSING, _missing(exc)
        ) from exc
    except UnsafePathError as exc:
        raise ModelIntegrityError(
            version, FallbackReason.FILE_MISSING, _missing(exc)
        ) from exc
    except StorageUnavailableError as exc:
        raise ModelIntegrityError(
            version, FallbackReason.STORAGE_UNAVAILABLE, _unavailable(exc)
        ) from exc
    actual = sha256_bytes(data)
    if actual != version.sha256:
        raise ModelIntegrityError(
            version,
            FallbackReason.CHECKSUM_MISMATCH,
            message(
                "integrity.checksum_mismatch",
                recorded=version.sha256[:12],
                actual=actual[:12],
            ),
        )
    return data


def model_version_check_stored(version: ModelVersion) -> None:
    """Raise ModelIntegrityError unless the version's stored file is still good.

    Local storage: the whole file is read and hashed (a few ms). S3: one HEAD
    request: the object exists with the recorded size. Downloading it on every
    check would cost what the read cache saves; `models_verify` hashes it.
    """
    storage = get_storage()
    if not storage.is_remote:
        model_version_read_verified(version)
        return
    try:
        size = storage.size(version.file_path)
    except (FileNotFoundError, UnsafePathError) as exc:
        raise ModelIntegrityError(
            version, FallbackReason.FILE_MISSING, _missing(exc)
        ) from exc
    except StorageUnavailableError as exc:
        raise ModelIntegrityError(
            version, FallbackReason.STORAGE_UNAVAILABLE, _unavailable(exc)
        ) from exc
    if size != version.size_bytes:
        raise ModelIntegrityError(
            version,
            FallbackReason.CHECKSUM_MISMATCH,
            message(
                "integrity.size_mismatch",
                recorded=version.size_bytes,
                actual=size,
            ),
        )


@contextmanager
def model_download_context(context: str, *, unless_set: bool = False):
    """Count the model downloads made inside the block under `context`.

    `unless_set`: keep the context an outer block chose (the forecast an
    activation records in the worker is not a request's).
    """
    if unless_set and _download_context.get() is not None:
        yield
        return
    token = _download_context.set(context)
    try:
        yield
    finally:
        _download_context.reset(token)


def model_version_bytes(version: ModelVersion) -> bytes:
    """The version's bytes, checked against its sha256, for loading.

    On S3 they come from this host's read cache (MODEL_CACHE_DIR, keyed by
    sha256, re-hashed on every read) after a HEAD says the object is still
    there; a version not cached yet is downloaded once and cached.
    """
    storage = get_storage()
    if not storage.is_remote:
        return model_version_read_verified(version)
    data = storage.cached(version.sha256)
    if data is None:
        data = model_version_read_verified(version)
        record_model_download(_download_context.get() or "other")
        try:
            storage.remember(version.sha256, data)
        except OSError:
            logger.warning("Could not cache model %s locally", version.version)
        return data
    model_version_check_stored(version)
    return data


def model_version_load(version: ModelVersion):
    """Load the fitted model, verifying the checksum before unpickling."""
    data = model_version_bytes(version)
    try:
        return pipeline.load_model_bytes(data)
    except MemoryError:
        raise
    except Exception as exc:  # any unpickling failure means corrupt
        raise ModelIntegrityError(
            version,
            FallbackReason.LOAD_FAILED,
            message("integrity.load_failed", error=repr(exc)),
        ) from exc


def _refuse_unusable(version: ModelVersion, state: str) -> None:
    if state in (ModelVersion.State.CORRUPT, ModelVersion.State.DELETED):
        raise ValidationError(
            _(
                "Model %(version)s is %(state)s; restore it from a backup before "
                "activating it."
            )
            % {"version": version.version, "state": state}
        )


def model_version_activate(
    *,
    version: ModelVersion,
    actor: Actor = SYSTEM,
    reason: str | dict = "",
    activated_by: str | None = None,
    retrain_run=None,
) -> ModelVersion:
    """Make `version` the one active model and record the activation period.

    The file must be present and match its checksum. `activated_by` says who or
    what in the activation history ("retrain", "self-heal", "rollback", ...);
    it defaults to the actor's label. `reason` is a person's text or a stored
    message (mlops.messages), which every reader sees in their own language.
    """
    reason, reason_message = stored_text(reason)
    _refuse_unusable(version, version.state)
    model_version_read_verified(version)
    # The row lock below can't serialise two activations fully: the second one
    # waits on the old active row, then finds it archived (no active row to
    # lock) and its own update hits the "one active" index. It then tries again
    # and sees the first one's version: the later activation wins, cleanly.
    for attempt in range(ACTIVATE_ATTEMPTS):
        now = timezone.now()
        try:
            with transaction.atomic():
                # Re-read under a lock (the target, then the active row, the
                # order restore and rollback use): a cleanup may have deleted
                # its file since the check above, with `version` still archived.
                _refuse_unusable(
                    version,
                    ModelVersion.objects.select_for_update()
                    .values_list("state", flat=True)
                    .get(pk=version.pk),
                )
                # A concurrent activation waits here for this one to commit.
                previous = (
                    ModelVersion.objects.select_for_update()
                    .filter(state=ModelVersion.State.ACTIVE)
                    .first()
                )
                if previous is not None and previous.pk == version.pk:
                    return version
                if previous is not None:
                    previous.state = ModelVersion.State.ARCHIVED
                    previous.state_changed_at = now
                    previous.save(update_fields=["state", "state_changed_at"])
                replaced = message("activation.replaced_by", version=version.version)
                ModelActivation.objects.select_for_update().filter(
                    is_current=True
                ).update(
                    is_current=False,
                    deactivated_at=now,
                    deactivation_reason=render_english(replaced),
                    deactivation_reason_message=replaced,
                )
                version.state = ModelVersion.State.ACTIVE
                version.state_changed_at = now
                version.save(update_fields=["state", "state_changed_at"])
                ModelActivation.objects.create(
                    model_version=version,
                    activated_at=now,
                    activated_by=activated_by or actor.label,
                    user=actor.user if actor.type == "user" else None,
                    retrain_run=retrain_run,
                    reason=reason,
                    reason_message=reason_message,
                )
                audit_record(
                    actor=actor,
                    action="activate",
                    obj=version,
                    details={
                        "previous": previous.version if previous else None,
                        "reason": reason,
                        "reason_message": reason_message,
                        "activated_by": activated_by or actor.label,
                    },
                )
                transaction.on_commit(
                    lambda previous=previous: model_activated.send(
                        sender=ModelVersion,
                        version=version,
                        previous=previous,
                        actor=actor,
                    )
                )
            break
        except IntegrityError:
            if attempt == ACTIVATE_ATTEMPTS - 1:
                raise
            logger.warning(
                "Activating %s raced another activation; trying again",
                version.version,
            )
    model_version_write_metadata(version)
    if previous is not None:
        model_version_write_metadata(previous)
    logger.info(
        "Activated model version %s (previous: %s; by %s)",
        version.version,
        previous.version if previous else "none",
        activated_by or actor.label,
    )
    return version


def model_version_mark_corrupt(
    *, version: ModelVersion, reason: str | dict, actor: Actor = SYSTEM
) -> ModelVersion:
    """Mark a version corrupt; if it was active, close its activation period.

    `reason`: a stored message (mlops.messages) or a person's text.
    """
    now = timezone.now()
    reason, reason_message = stored_text(reason)
    with transaction.atomic():
        was_active = version.state == ModelVersion.State.ACTIVE
        version.state = ModelVersion.State.CORRUPT
        version.state_changed_at = now
        version.save(update_fields=["state", "state_changed_at"])
        if was_active:
            ModelActivation.objects.filter(
                model_version=version, is_current=True
            ).update(
                is_current=False,
                deactivated_at=now,
                deactivation_reason=f"corrupt: {reason}",
                deactivation_reason_message=message(
                    "activation.corrupt", reason=reason_message or reason
                ),
            )
        audit_record(
            actor=actor,
            action="mark_corrupt",
            obj=version,
            details={
                "reason": reason,
                "reason_message": reason_message,
                "was_active": was_active,
            },
        )
    logger.error("Model version %s marked corrupt: %s", version.version, reason)
    return version
