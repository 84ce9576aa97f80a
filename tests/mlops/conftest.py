"""Fixtures shared by the mlops tests."""

import numpy as np
import pytest

from tests.mlops.ml_helpers import read_real_draws


@pytest.fixture(scope="module")
def real_draws() -> np.ndarray:
    """The shipped history as an array, read once per test module."""
    return read_real_draws()
