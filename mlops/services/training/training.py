"""Train a model version on the stored draw history."""

import hashlib
import logging

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError

from draws.models import LottoDraw
from mlops.messages import message, render
from mlops.ml import features, pipeline
from mlops.models import ModelVersion
from mlops.services.registry.audit import SYSTEM, Actor, audit_record
from mlops.services.registry.registry import (
    model_version_activate,
    model_version_register,
)

logger = logging.getLogger(__name__)


class InsufficientDrawsError(ValidationError):
    """Fewer draws are stored than a trustworthy model needs (ML_MIN_DRAWS)."""

    def __init__(self, count: int, minimum: int):
        self.count, self.minimum = count, minimum
        stored = message("run.insufficient_draws", count=count, minimum=minimum)
        super().__init__(render(stored), code="insufficient_draws")


def training_params(overrides: dict | None = None) -> dict:
    """The hyper-parameters from settings, on top of the pipeline's defaults."""
    params = dict(pipeline.DEFAULT_PARAMS)
    from_settings = {
        "n_estimators": settings.ML_N_ESTIMATORS,
        "max_depth": settings.ML_MAX_DEPTH,
        "min_samples_leaf": settings.ML_MIN_SAMPLES_LEAF,
        "seed": settings.ML_SEED,
        "training_window": settings.ML_TRAINING_WINDOW,
        "n_jobs": settings.ML_N_JOBS,
    }
    # None in settings means "the pipeline's default", except max_depth, where
    # None is itself the default (no limit).
    params.update({k: v for k, v in from_settings.items() if v is not None})
    params.update(overrides or {})
    return params


def training_history() -> tuple[list[int], np.ndarray, str]:
    """The stored draws as (draw numbers, (n, 6) winning numbers, data hash)."""
    rows = list(
        LottoDraw.objects.order_by("draw_no").values_list(
            "draw_no", "n1", "n2", "n3", "n4", "n5", "n6", "bonus"
        )
    )
    draw_nos = [row[0] for row in rows]
    numbers = np.array([row[1:7] for row in rows], dtype=np.int16).reshape(-1, 6)
    digest = hashlib.sha256(
        "\n".join(",".join(map(str, row)) for row in rows).encode()
    ).hexdigest()
    return draw_nos, numbers, digest


def ensure_enough_draws(count: int) -> None:
    if count < settings.ML_MIN_DRAWS:
        raise InsufficientDrawsError(count, settings.ML_MIN_DRAWS)


def model_version_train(
    *,
    params: dict | None = None,
    activate: bool = True,
    actor: Actor = SYSTEM,
    reason: str | dict = "",
    retrain_run=None,
    validation_draws: int | None = None,
) -> ModelVersion:
    """Fit the recommender on all stored draws, register it, and optionally activate.

    Raises InsufficientDrawsError below ML_MIN_DRAWS; MemoryError and any error
    in features, fitting or saving propagate, and nothing is registered then.
    """
    draw_nos, numbers, data_hash = training_history()
    ensure_enough_draws(len(draw_nos))
    model_params = training_params(params)
    model, validation_metrics, info = pipeline.train_and_validate(
        numbers,
        params=model_params,
        validation_draws=validation_draws or pipeline.VALIDATION_DRAWS,
    )
    version = model_version_register_trained(
        model=model,
        draw_nos=draw_nos,
        data_hash=data_hash,
        params=model_params,
        validation_metrics=validation_metrics,
        info=info,
        actor=actor,
        details={"params": model_params},
    )
    if activate:
        model_version_activate(
            version=version,
            actor=actor,
            reason=reason or message("activation.trained"),
            activated_by="retrain" if retrain_run else None,
            retrain_run=retrain_run,
        )
        version.refresh_from_db()
    return version


def model_version_register_trained(
    *,
    model,
    draw_nos: list[int],
    data_hash: str,
    params: dict,
    validation_metrics: dict,
    info: dict,
    actor: Actor,
    details: dict,
) -> ModelVersion:
    """Register a model fitted on the stored draws and audit that it was trained.

    Full training and retraining's warm start both end here; `details` adds to
    the audit event what only the caller knows (the parameters, the warm start).
    """
    version = model_version_register(
        model_bytes=pipeline.save_model_bytes(model),
        draw_from=draw_nos[0],
        draw_to=draw_nos[-1],
        draw_count=len(draw_nos),
        training_data_hash=data_hash,
        feature_set_version=features.FEATURE_SET_VERSION,
        hyperparameters=params,
        seed=params["seed"],
        training_seconds=info["training_seconds"],
        validation_metrics=validation_metrics,
        training_info=info,
    )
    audit_record(
        actor=actor,
        action="model_trained",
        obj=version,
        details={"draw_to": draw_nos[-1], **details},
    )
    return version
