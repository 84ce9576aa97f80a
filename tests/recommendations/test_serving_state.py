"""mlops reads what this process serves through the provider serving registers
(/readyz, /metrics, the operations page); it never imports serving."""

import pytest

from mlops.serving_state import ServingState, serving_state
from recommendations.services.recommendation import recommendation_generate
from tests.factories import store_draws

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_forecast_cache")]


def test_before_any_forecast_the_process_serves_nothing_yet(model_root):
    assert serving_state() == ServingState()


def test_the_provider_reports_the_model_this_process_serves(trained):
    recommendation_generate(count=1, seed=1)

    assert serving_state() == ServingState(
        mode="ml",
        model_version=trained.version,
        model_version_id=trained.pk,
        model_sha256=trained.sha256,
        fallback_reason=None,
        target_draw_no=521,
    )
    assert serving_state().holds(trained)


def test_readyz_says_what_this_process_serves(client, model_root):
    store_draws(60)  # too few for the model: statistical mode
    recommendation_generate(count=1, seed=1)

    body = client.get("/readyz").json()

    assert body["serving"] == {
        "mode": "statistical",
        "model_version": None,
        "model_version_id": None,
        "model_sha256": None,
        "fallback_reason": "insufficient_draws",
        "target_draw_no": 61,
    }


def test_metrics_show_the_mode_this_process_serves(client, trained):
    recommendation_generate(count=1, seed=1)

    response = client.get("/metrics")  # from 127.0.0.1, which needs no token
    assert response.status_code == 200
    body = response.content.decode()

    assert 'ml_process_serving_mode{mode="ml"} 1.0' in body
    assert 'ml_process_serving_mode{mode="statistical"} 0.0' in body
