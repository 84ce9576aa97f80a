"""Rows and versions the tests build again and again, in one place.

Plain functions rather than factory_boy classes: the draws are stored in one
bulk insert from one seeded generator, so a seed names the same history in
every test that uses it.
"""

import numpy as np

from draws.models import LottoDraw, expected_draw_date
from draws.validation import DrawRecord
from mlops.messages import message
from mlops.ml import pipeline
from mlops.models import ModelVersion
from mlops.services.operations.backups import model_version_backup
from mlops.services.registry.audit import SYSTEM, Actor
from mlops.services.registry.registry import (
    model_version_activate,
    model_version_read_verified,
)
from mlops.services.training.training import (
    model_version_register_trained,
    model_version_train,
    training_history,
    training_params,
)


def store_draws(count: int, *, seed: int = 0, first: int = 1) -> np.ndarray:
    """Store `count` seeded synthetic draws numbered first..first+count-1.

    Returns their sorted winning numbers, one row a draw.
    """
    rng = np.random.default_rng(seed)
    draws, rows = [], []
    for draw_no in range(first, first + count):
        picked = (rng.choice(45, size=7, replace=False) + 1).tolist()
        numbers = sorted(picked[:6])
        draws.append(numbers)
        rows.append(
            LottoDraw(
                draw_no=draw_no,
                draw_date=expected_draw_date(draw_no),
                bonus=picked[6],
                **{f"n{i}": n for i, n in enumerate(numbers, 1)},
            )
        )
    LottoDraw.objects.bulk_create(rows)
    return np.array(draws)


def draw_record(draw_no: int, numbers: tuple[int, ...], bonus: int) -> DrawRecord:
    """A valid record for draw `draw_no` on its scheduled date, ready to import."""
    return DrawRecord(
        draw_no=draw_no,
        draw_date=expected_draw_date(draw_no),
        numbers=numbers,
        bonus=bonus,
    )


def train(seed: int, *, activate: bool = False, **options) -> ModelVersion:
    """Train a version on the stored draws with `seed`; inactive unless asked."""
    return model_version_train(params={"seed": seed}, activate=activate, **options)


# (history hash, parameters) -> what the training service produced for them.
_FITTED: dict[tuple, tuple] = {}


def registered(
    seed: int,
    *,
    activate: bool = False,
    actor: Actor = SYSTEM,
    reason: str = "",
    retrain_run=None,
) -> ModelVersion:
    """A version as `train(seed)` makes it, fitted once per test session.

    For the tests of what happens to model files (cleanup, backups, restore,
    integrity): the first call for a history and seed runs the training service;
    later calls register that same fitted model again through the registry (a
    new version, a new file: what those tests look at) without fitting it again.
    """
    draw_nos, _, data_hash = training_history()
    params = training_params({"seed": seed})
    key = (data_hash, tuple(sorted(params.items())))
    if key not in _FITTED:
        version = train(
            seed, activate=activate, actor=actor, reason=reason, retrain_run=retrain_run
        )
        model = pipeline.load_model_bytes(model_version_read_verified(version))
        _FITTED[key] = (model, version.validation_metrics, version.training_info)
        return version
    model, validation_metrics, info = _FITTED[key]
    version = model_version_register_trained(
        model=model,
        draw_nos=draw_nos,
        data_hash=data_hash,
        params=params,
        validation_metrics=validation_metrics,
        info=info,
        actor=actor,
        details={"params": params},
    )
    if activate:  # as model_version_train activates a fresh version
        model_version_activate(
            version=version,
            actor=actor,
            reason=reason or message("activation.trained"),
            activated_by="retrain" if retrain_run else None,
            retrain_run=retrain_run,
        )
        version.refresh_from_db()
    return version


def backed_up_then_replaced() -> tuple[ModelVersion, ModelVersion]:
    """v1 was active and backed up; v2 replaced it (needs stored draws)."""
    v1 = registered(1, activate=True)
    model_version_backup(version=v1, actor=Actor.system())
    v2 = registered(2, activate=True)
    v1.refresh_from_db()
    return v1, v2
