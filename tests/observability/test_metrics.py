"""GET /metrics: exposition, protection, and each metric's value after real events."""

import datetime as dt

import pytest
from django.db import DatabaseError
from prometheus_client import REGISTRY

from draws.models import LottoDraw
from draws.services import draw_import_records
from draws.validation import DrawRecord
from mlops.models import Prediction, RetrainRun
from mlops.observability import collectors
from mlops.observability.metrics import (
    observe_inference,
    record_fallback,
    record_served,
)
from mlops.services.monitoring.monitoring import get_monitor_status
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import retrain_run_now
from recommendations.services.forecast_cache import forecast_cache_clear
from tests.observability.helpers import (
    make_prediction,
    make_run,
    make_version,
    sample,
)

pytestmark = pytest.mark.django_db


def in_process(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_it_serves_the_prometheus_text_format(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"# TYPE ml_fallback_total counter" in response.content


def test_it_serves_openmetrics_when_prometheus_asks_for_it(client):
    response = client.get(
        "/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0"
    )
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


def test_it_requires_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_BEARER_TOKEN = "s3cret-token"
    missing = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert right.status_code == 200


def test_the_token_is_required_even_from_an_internal_address(client, settings):
    settings.METRICS_BEARER_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.7").status_code == 401


def test_without_a_token_it_answers_the_configured_networks_only(client, settings):
    settings.METRICS_BEARER_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8", "172.16.0.0/12"]
    assert client.get("/metrics", REMOTE_ADDR="172.18.0.5").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403


def test_without_a_token_or_networks_it_answers_loopback_only(client, settings):
    # The default fails closed: a private address may be a proxy's or a neighbour's.
    assert settings.METRICS_ALLOWED_NETWORKS == ["127.0.0.0/8", "::1/128"]
    settings.METRICS_BEARER_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    for private in ("10.0.0.7", "172.18.0.5", "192.168.1.9"):
        assert client.get("/metrics", REMOTE_ADDR=private).status_code == 403


@pytest.mark.parametrize(
    "proxy_header",
    [
        {"HTTP_X_FORWARDED_FOR": "198.51.100.4"},
        {"HTTP_X_FORWARDED_HOST": "lotto.example.com"},
        {"HTTP_X_REAL_IP": "198.51.100.4"},
        {"HTTP_FORWARDED": "for=198.51.100.4;proto=https"},
        # Proxies and CDNs that send none of the above (found by an attack run).
        {"HTTP_X_FORWARDED_PROTO": "https"},
        {"HTTP_VIA": "1.1 proxy.example.net"},
        {"HTTP_TRUE_CLIENT_IP": "198.51.100.4"},
        {"HTTP_CF_CONNECTING_IP": "198.51.100.4"},
    ],
)
def test_without_a_token_it_refuses_requests_that_came_through_a_proxy(
    client, settings, proxy_header
):
    settings.METRICS_BEARER_TOKEN = ""
    proxied = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **proxy_header)
    assert proxied.status_code == 403


def test_it_counts_retrain_runs_by_trigger_and_status(scrape):
    make_run("scheduled", "success", finished_ago=dt.timedelta(days=3))
    make_run("scheduled", "success", finished_ago=dt.timedelta(days=2))
    make_run("manual", "failed", finished_ago=dt.timedelta(hours=1))
    make_run("emergency", "skipped", finished_ago=dt.timedelta(minutes=5))
    make_run("cli", "running", in_flight="retrain")
    samples = scrape()
    assert (
        sample(samples, "ml_retrains_total", trigger="scheduled", status="success") == 2
    )
    assert sample(samples, "ml_retrains_total", trigger="manual", status="failed") == 1
    assert (
        sample(samples, "ml_retrains_total", trigger="emergency", status="skipped") == 1
    )
    # Every known combination is exported, so increase() sees the first failure.
    assert sample(samples, "ml_retrains_total", trigger="cli", status="failed") == 0
    assert sample(samples, "ml_retrains_in_flight", status="running") == 1
    assert sample(samples, "ml_retrains_in_flight", status="queued") == 0


def test_the_last_retrain_status_ignores_skipped_runs(scrape):
    make_run("scheduled", "success", finished_ago=dt.timedelta(days=1))
    make_run("manual", "failed", finished_ago=dt.timedelta(hours=2))
    make_run("manual", "skipped", finished_ago=dt.timedelta(hours=1))
    samples = scrape()
    assert sample(samples, "ml_retrain_last_status", status="failed") == 1
    assert sample(samples, "ml_retrain_last_status", status="success") == 0


def test_a_later_success_clears_the_failed_status(scrape):
    make_run("manual", "failed", finished_ago=dt.timedelta(hours=2))
    success = make_run("manual", "success", finished_ago=dt.timedelta(hours=1))
    samples = scrape()
    assert sample(samples, "ml_retrain_last_status", status="failed") == 0
    assert sample(samples, "ml_retrain_last_status", status="success") == 1
    last = sample(samples, "ml_retrain_last_success_timestamp_seconds")
    assert last == pytest.approx(success.finished_at.timestamp())


def test_a_success_and_a_failure_finished_at_once_the_later_run_decides(scrape):
    failed = make_run("manual", "failed", finished_ago=dt.timedelta(hours=1))
    success = make_run("scheduled", "success", finished_ago=dt.timedelta(hours=2))
    RetrainRun.objects.filter(pk=success.pk).update(finished_at=failed.finished_at)
    samples = scrape()
    assert sample(samples, "ml_retrain_last_status", status="success") == 1
    assert sample(samples, "ml_retrain_last_status", status="failed") == 0


def test_no_retrain_yet_exports_zero_counts_and_no_timestamps(scrape):
    samples = scrape()
    assert sample(samples, "ml_retrains_total", trigger="manual", status="success") == 0
    assert sample(samples, "ml_retrain_last_success_timestamp_seconds") is None
    assert sample(samples, "ml_retrain_last_status", status="failed") is None


def test_it_reports_the_active_model_and_its_age(scrape):
    make_version("lotto_model_20260101", age=dt.timedelta(days=9))
    make_version(
        "lotto_model_20260110",
        state="active",
        age=dt.timedelta(hours=3),
        feature_set_version="fs-145-v2",
    )
    make_version("lotto_model_20251201", state="corrupt", age=dt.timedelta(days=40))
    samples = scrape()
    age = sample(samples, "ml_model_age_seconds")
    assert age == pytest.approx(3 * 3600, abs=60)
    info = sample(
        samples,
        "ml_active_model_info",
        version="lotto_model_20260110",
        feature_set="fs-145-v2",
    )
    assert info == 1
    assert sample(samples, "ml_model_versions", state="archived") == 1
    assert sample(samples, "ml_model_versions", state="corrupt") == 1


def test_without_an_active_model_there_is_no_age_and_no_info(scrape):
    make_version("lotto_model_20260101", state="archived")
    samples = scrape()
    assert sample(samples, "ml_model_age_seconds") is None
    assert not any(name == "ml_active_model_info" for name, _ in samples)


def test_it_counts_scored_predictions_only(scrape):
    for draw_no in (1201, 1202, 1203):
        make_prediction(draw_no, scored=True, hits=1)
    make_prediction(1204, scored=False)
    assert sample(scrape(), "ml_predictions_scored_total") == 3


def test_it_reports_the_stored_draw_history(scrape):
    LottoDraw.objects.create(
        draw_no=1, draw_date=dt.date(2002, 12, 7), n1=10, n2=23, n3=29, n4=33,
        n5=37, n6=40, bonus=16,
    )  # fmt: skip
    samples = scrape()
    assert sample(samples, "ml_draws_stored") == 1
    assert sample(samples, "ml_latest_draw_number") == 1


def test_it_exports_the_accuracy_thresholds_from_settings(scrape, settings):
    settings.MONITOR_GOOD_THRESHOLD = 71.5
    settings.MONITOR_CRITICAL_THRESHOLD = 48.0
    samples = scrape()
    assert sample(samples, "ml_accuracy_threshold", level="good") == 71.5
    assert sample(samples, "ml_accuracy_threshold", level="critical") == 48.0


def test_a_fallback_is_counted_by_reason(scrape):
    before = in_process("ml_fallback_total", reason="checksum_mismatch")
    scraped_before = sample(scrape(), "ml_fallback_total", reason="checksum_mismatch")
    record_fallback("checksum_mismatch")
    assert in_process("ml_fallback_total", reason="checksum_mismatch") == before + 1
    scraped = sample(scrape(), "ml_fallback_total", reason="checksum_mismatch")
    assert scraped == scraped_before + 1


def test_every_fallback_reason_is_exported_before_it_happens(scrape):
    samples = scrape()
    for reason in ("no_model", "file_missing", "load_failed", "forced"):
        assert sample(samples, "ml_fallback_total", reason=reason) is not None


def test_an_unknown_fallback_reason_is_counted_as_other():
    before = in_process("ml_fallback_total", reason="other")
    record_fallback("a reason nobody declared")
    assert in_process("ml_fallback_total", reason="other") == before + 1
    assert REGISTRY.get_sample_value(
        "ml_fallback_total", {"reason": "a reason nobody declared"}
    ) is None  # fmt: skip


def test_served_recommendations_are_counted_by_mode():
    before = in_process("ml_recommendations_served_total", mode="ml")
    record_served("ml")
    assert in_process("ml_recommendations_served_total", mode="ml") == before + 1


def test_an_inference_is_observed_and_kept_as_the_last_value(scrape):
    count = in_process("ml_inference_time_seconds_count")
    fast = in_process("ml_inference_time_seconds_bucket", le="0.005")
    observe_inference(0.0042)
    samples = scrape()
    assert sample(samples, "ml_inference_time_seconds_count") == count + 1
    assert sample(samples, "ml_inference_time_seconds_bucket", le="0.005") == fast + 1
    assert sample(samples, "ml_inference_last_seconds") == pytest.approx(0.0042)


def test_requests_are_counted_by_route_pattern_not_path(client, scrape):
    labels = {"method": "GET", "route": "/api/draws/<int:draw_no>/"}
    before = in_process("http_requests_total", **labels, status="404")
    timed = in_process("http_request_duration_seconds_count", **labels)
    client.get("/api/draws/77/")
    client.get("/api/draws/78/")
    samples = scrape()
    assert sample(samples, "http_requests_total", **labels, status="404") == before + 2
    assert sample(samples, "http_request_duration_seconds_count", **labels) == (
        timed + 2
    )
    assert not any(
        dict(label_items).get("route") == "/api/draws/77/" for _, label_items in samples
    )


def test_unmatched_paths_share_one_route_label(client):
    labels = {"method": "GET", "route": "<unmatched>", "status": "404"}
    before = in_process("http_requests_total", **labels)
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    assert in_process("http_requests_total", **labels) == before + 2


def test_a_database_error_in_a_section_is_counted_not_a_500(
    client, monkeypatch, scrape
):
    def broken():
        raise DatabaseError("connection reset")

    sections = tuple(
        (name, broken if name == "retrains" else read)
        for name, read in collectors.SECTIONS
    )
    monkeypatch.setattr(collectors, "SECTIONS", sections)
    before = in_process("ml_collector_errors_total", section="retrains")
    make_prediction(1201, scored=True, hits=2)
    samples = scrape()
    assert sample(samples, "ml_collector_errors_total", section="retrains") == (
        before + 1
    )
    assert (
        sample(samples, "ml_retrains_total", trigger="manual", status="success") is None
    )
    assert sample(samples, "ml_predictions_scored_total") == 1  # others still served


def test_the_monitor_status_becomes_accuracy_baseline_and_health(monkeypatch, scrape):
    status = {
        "accuracy": 42.5,
        "baseline": 40.0,
        "status": "critical",
        "sample_size": 30,
    }
    monkeypatch.setattr(collectors, "get_monitor_status", lambda: status)
    samples = scrape()
    assert sample(samples, "ml_accuracy") == 42.5
    assert sample(samples, "ml_accuracy_baseline") == 40.0
    assert sample(samples, "ml_accuracy_sample_size") == 30
    assert sample(samples, "ml_health_status", status="critical") == 1
    assert sample(samples, "ml_health_status", status="good") == 0
    assert sample(samples, "ml_health_status_code") == 2


def test_insufficient_data_has_no_accuracy_but_a_health_state(monkeypatch, scrape):
    status = {
        "accuracy": None,
        "baseline": 40.0,
        "status": "insufficient_data",
        "sample_size": 3,
    }
    monkeypatch.setattr(collectors, "get_monitor_status", lambda: status)
    samples = scrape()
    assert sample(samples, "ml_accuracy") is None
    assert sample(samples, "ml_health_status", status="insufficient_data") == 1
    assert sample(samples, "ml_health_status_code") == -1


def test_after_a_fallback_a_retrain_and_a_scored_draw_each_metric_is_right(
    client, scrape, shipped_draws, model_root, settings, clock_follows_history,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    """The three events through the real services, then one scrape."""
    settings.ML_N_ESTIMATORS = 4
    forecast_cache_clear()
    no_model = in_process("ml_fallback_total", reason="no_model")
    served = in_process("ml_recommendations_served_total", mode="statistical")

    # 1. A fallback: draws but no model yet.
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.get("/api/recommendations/?count=5")
    assert answer.status_code == 200
    assert answer.json()["fallback_reason"] == "no_model"

    # 2. A retrain, as the Q2 task runs it (here in this process).
    with django_capture_on_commit_callbacks(execute=True):
        run = retrain_run_now(trigger="cli", actor=Actor.cli())
    assert run.status == "success"
    assert run.promoted

    # 3. The next draw arrives; the forecasts made for it are scored.
    target = LottoDraw.objects.order_by("-draw_no").first().draw_no + 1
    draw = DrawRecord(
        draw_no=target,
        draw_date=dt.date(2002, 12, 7) + dt.timedelta(weeks=target - 1),
        numbers=(3, 11, 19, 27, 35, 43),
        bonus=7,
    )
    with django_capture_on_commit_callbacks(execute=True):
        draw_import_records([draw], source="test")
    scored = Prediction.objects.filter(scored_at__isnull=False)
    assert scored.filter(target_draw_no=target).exists()

    samples = scrape()
    assert sample(samples, "ml_fallback_total", reason="no_model") == no_model + 1
    assert sample(samples, "ml_recommendations_served_total", mode="statistical") == (
        served + 1
    )
    assert sample(samples, "ml_retrains_total", trigger="cli", status="success") == 1
    assert sample(samples, "ml_retrain_last_status", status="success") == 1
    assert sample(samples, "ml_retrain_last_success_timestamp_seconds") == (
        pytest.approx(run.finished_at.timestamp())
    )
    run.model_version.refresh_from_db()
    assert (
        sample(
            samples,
            "ml_active_model_info",
            version=run.model_version.version,
            feature_set=run.model_version.feature_set_version,
        )
        == 1
    )
    assert 0 <= sample(samples, "ml_model_age_seconds") < 120
    assert sample(samples, "ml_predictions_scored_total") == scored.count()
    status = get_monitor_status()
    assert sample(samples, "ml_accuracy") == pytest.approx(status["accuracy"])
    assert sample(samples, "ml_accuracy_baseline") == pytest.approx(status["baseline"])
    assert sample(samples, "ml_health_status", status=status["status"]) == 1
    assert sample(samples, "ml_draws_stored") == LottoDraw.objects.count()
