"""Serving's tests run on a clock that sits in their synthetic history's week."""

import pytest


@pytest.fixture(autouse=True)
def _clock_follows_history(clock_follows_history):
    """The next draw is the one after the newest stored draw (see conftest.py)."""
