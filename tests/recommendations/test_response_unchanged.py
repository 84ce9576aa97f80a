"""A seeded GET /api/recommendations/ answers byte for byte as it did before the
architecture change (issue 10) moved serving into the recommendations app.

The files under golden/ were captured from the code *before* the move. A
deliberate change to the response replaces them in the same commit, and says so.
"""

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from mlops.models import ModelVersion
from mlops.services.registry.registry import model_version_activate
from tests.factories import store_draws, train

GOLDEN = Path(__file__).parent / "golden"
# The label is dated by the day of training: pinned so the bytes don't age.
PINNED_LABEL = "lotto_model_20260101"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_forecast_cache")]


def _ml_response() -> bytes:
    store_draws(520)
    version = train(0)
    ModelVersion.objects.filter(pk=version.pk).update(version=PINNED_LABEL)
    version.refresh_from_db()
    model_version_activate(version=version)
    return (
        APIClient()
        .get("/api/recommendations/?count=5&seed=7", HTTP_ACCEPT_LANGUAGE="en")
        .content
    )


def _statistical_response() -> bytes:
    store_draws(60)
    return (
        APIClient()
        .get(
            "/api/recommendations/?count=3&seed=11&include=3&exclude=4,5",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        .content
    )


def test_it_answers_a_seeded_ml_request_byte_for_byte_as_before(model_root):
    golden = (GOLDEN / "recommendations_ml.json").read_bytes()

    assert _ml_response() == golden


def test_it_answers_a_seeded_statistical_request_byte_for_byte_as_before(model_root):
    golden = (GOLDEN / "recommendations_statistical.json").read_bytes()

    assert _statistical_response() == golden
