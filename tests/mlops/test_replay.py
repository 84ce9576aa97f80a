"""The monitor's warm-up: a replayed series from a walk-forward replay, kept apart."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from mlops.ml import metrics
from mlops.models import Prediction, ReplayRun, RetrainRun
from mlops.services.monitoring.monitoring import (
    get_monitor_status,
    monitor_check,
    window_figures,
)
from mlops.services.monitoring.replay import (
    replay_ensure,
    replay_request,
    replayed_status,
)
from mlops.services.registry.audit import Actor
from tests.factories import store_draws
from tests.observability.helpers import parse_metrics, sample

pytestmark = pytest.mark.django_db
REPLAYED = 12


@pytest.fixture
def small_engine(settings, model_root):
    settings.ML_MIN_DRAWS = 60
    settings.MONITOR_REPLAY_DRAWS = REPLAYED
    store_draws(80, seed=41)


def replayed_run() -> ReplayRun:
    return replay_request(
        trigger=ReplayRun.Trigger.MANUAL, actor=Actor.cli(), run_async=False
    )


def test_a_replay_fills_the_replayed_series_and_leaves_live_health_alone(
    small_engine,
):
    run = replayed_run()
    assert run.status == ReplayRun.Status.SUCCESS
    assert (run.first_draw, run.last_draw) == (69, 80)
    assert [row["draw"] for row in run.per_draw] == list(range(69, 81))
    replayed = replayed_status()
    assert replayed["series"] == "replayed"
    assert replayed["sample_size"] == REPLAYED
    hits = [row["hits"] for row in run.per_draw]
    assert replayed["accuracy"] == pytest.approx(
        100 * sum(h >= 1 for h in hits) / REPLAYED
    )
    assert replayed["mean_hits"]["value"] == pytest.approx(sum(hits) / REPLAYED)
    assert replayed["verdict_code"] in {
        metrics.BETTER,
        metrics.NO_EVIDENCE,
        metrics.WORSE,
    }
    assert replayed["prize_rate"]["sample_size"] == REPLAYED * 5
    assert "emergency_retrain" not in replayed
    # Live health is untouched: no forecast recorded, still insufficient data.
    live = get_monitor_status()
    assert live["series"] == "live"
    assert live["sample_size"] == 0
    assert live["status"] == "insufficient_data"
    assert not Prediction.objects.exists()
    assert not RetrainRun.objects.exists()


def test_the_first_deploy_queues_one_replay_and_only_once(
    small_engine, django_capture_on_commit_callbacks
):
    out = io.StringIO()
    # Q2 runs in sync mode in the tests: the queued replay runs on commit.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_forecasts", "--if-missing", stdout=out)
    assert "queued" in out.getvalue()
    run = ReplayRun.objects.get()
    assert run.trigger == ReplayRun.Trigger.DEPLOY
    assert run.status == ReplayRun.Status.SUCCESS
    again = io.StringIO()
    call_command("replay_forecasts", "--if-missing", stdout=again)
    assert "nothing to do" in again.getvalue()
    assert ReplayRun.objects.count() == 1


def test_too_short_a_history_queues_no_replay(settings, model_root):
    settings.ML_MIN_DRAWS = 60
    store_draws(70, seed=42)  # 70 < 52 + 60
    assert replay_ensure(actor=Actor.cli()) is None
    assert not ReplayRun.objects.exists()


def test_a_failed_replay_is_recorded_with_its_error(small_engine):
    run = replay_request(
        trigger=ReplayRun.Trigger.MANUAL, actor=Actor.cli(), draws=70, run_async=False
    )
    assert run.status == ReplayRun.Status.FAILED
    assert "ML_MIN_DRAWS" in run.error
    status = replayed_status()
    assert status["sample_size"] == 0
    assert status["latest_run"]["status"] == "failed"


def test_the_command_prints_the_replayed_figures_labelled(small_engine):
    out = io.StringIO()
    with translation.override("en"):
        call_command("replay_forecasts", stdout=out)
    text = out.getvalue()
    assert "replayed, not live" in text
    assert "draws 69-80" in text


def test_the_command_refuses_a_second_replay_while_one_is_queued(small_engine):
    ReplayRun.objects.create(trigger="manual", draws=12)
    with pytest.raises(CommandError, match="already queued or running"):
        call_command("replay_forecasts", stdout=io.StringIO())


@pytest.fixture
def staff():
    user = get_user_model().objects.create_user("ops", password="pw", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def superuser():
    user = get_user_model().objects.create_superuser("root", password="pw")
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_monitor_api_shows_the_replayed_series_beside_the_live_one(
    small_engine, staff
):
    replayed_run()
    body = staff.get("/api/admin/monitor-status").json()
    assert body["series"] == "live"
    assert body["sample_size"] == 0
    assert body["replayed"]["series"] == "replayed"
    assert body["replayed"]["sample_size"] == REPLAYED
    assert staff.get("/api/admin/replay").json()["sample_size"] == REPLAYED


def test_queueing_a_replay_needs_the_retrain_permission(small_engine, staff, superuser):
    assert staff.post("/api/admin/replay", {}, format="json").status_code == 403
    accepted = superuser.post("/api/admin/replay", {"draws": 12}, format="json")
    assert accepted.status_code == 202
    assert accepted.json()["draws"] == 12
    again = superuser.post("/api/admin/replay", {}, format="json")
    assert again.status_code == 409
    bad = superuser.post("/api/admin/replay", {"draws": 0}, format="json")
    assert bad.status_code == 400


def test_metrics_export_the_replayed_series_under_its_own_names(small_engine, client):
    replayed_run()
    samples = parse_metrics(client.get("/metrics").content.decode())
    replayed = replayed_status()
    assert sample(samples, "ml_replayed_accuracy") == pytest.approx(
        replayed["accuracy"]
    )
    assert sample(samples, "ml_replayed_accuracy_sample_size") == REPLAYED
    code = replayed["verdict_code"]
    assert sample(samples, "ml_accuracy_verdict", series="replayed", verdict=code) == 1
    # Live: no forecast, so no accuracy and an insufficient-data verdict.
    assert sample(samples, "ml_accuracy") is None
    assert (
        sample(
            samples,
            "ml_accuracy_verdict",
            series="live",
            verdict="insufficient_data",
        )
        == 1
    )


def test_the_operations_page_shows_live_replayed_and_fairness(
    small_engine, admin_client
):
    replayed_run()
    page = admin_client.get(
        reverse("operations_dashboard"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'id="honest-statistics"' in page
    assert 'id="series-replayed"' in page
    assert "made after the fact" in page
    assert replayed_status()["verdict_code"] in page
    assert 'id="draw-fairness"' in page
    # Percentages to one decimal, as everywhere on the page.
    row = re.search(r'<tr id="series-replayed">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r"<td>\d+\.\d%</td>", row), row
    assert not re.search(r"\d\.\d\d%", row), row


def test_a_bad_replayed_series_never_triggers_an_emergency_retrain(
    model_root, django_capture_on_commit_callbacks
):
    rows = [
        {
            "hits": 0,
            "brier_score": 0.12,
            "combination_results": [],
            "probabilities": [6 / 45] * 45,
        }
        for _ in range(52)
    ]
    figures = window_figures(rows)
    assert figures["verdict_code"] == metrics.WORSE
    ReplayRun.objects.create(
        trigger="deploy",
        status=ReplayRun.Status.SUCCESS,
        draws=52,
        figures={**figures, "status": "critical"},
    )
    assert replayed_status()["status"] == "critical"
    with django_capture_on_commit_callbacks(execute=True):
        result = monitor_check(actor=Actor.scheduler())
    assert result["status"] == "insufficient_data"  # live: nothing scored
    assert result["action"] == "none"
    assert not RetrainRun.objects.exists()
