"""Rows and versions the tests build again and again, in one place.

Plain functions rather than factory_boy classes: the draws are stored in one
bulk insert from one seeded generator, so a seed names the same history in
every test that uses it.
"""

import numpy as np

from draws.models import LottoDraw, expected_draw_date
from draws.validation import DrawRecord
from mlops.models import ModelVersion
from mlops.services.operations.backups import model_version_backup
from mlops.services.registry.audit import Actor
from mlops.services.training.training import model_version_train


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


def backed_up_then_replaced() -> tuple[ModelVersion, ModelVersion]:
    """v1 was active and backed up; v2 replaced it (needs stored draws)."""
    v1 = train(1, activate=True)
    model_version_backup(version=v1, actor=Actor.system())
    v2 = train(2, activate=True)
    v1.refresh_from_db()
    return v1, v2
