"""Fixtures shared by the mlops tests."""

import numpy as np
import pytest

from tests.mlops.ml_helpers import read_real_draws


@pytest.fixture(scope="module")
def real_draws() -> np.ndarray:
    """The shipped history as an array, read once per test module."""
    return read_real_draws()


_SHIPPED_ROWS: list[dict] = []  # the shipped history as LottoDraw fields, once


@pytest.fixture
def shipped_history(db):
    """The real 1,220-draw history stored in one bulk insert.

    For tests of model files (backups, restore, cleanup, self-heal), which need
    the history to train on but test nothing about importing it: that is
    `shipped_draws` (the import service, its validation and signals). The rows
    are validated by the import's own checks once per session.
    """
    from django.conf import settings

    from draws.models import LottoDraw
    from draws.services import read_draw_rows, validate_draws

    if not _SHIPPED_ROWS:
        records, errors = validate_draws(read_draw_rows(settings.DRAWS_SHIPPED_CSV))
        assert not errors
        _SHIPPED_ROWS.extend(record.as_model_fields() for record in records)
    LottoDraw.objects.bulk_create(
        [LottoDraw(source="test:shipped", **row) for row in _SHIPPED_ROWS]
    )
    return LottoDraw.objects.order_by("draw_no")
