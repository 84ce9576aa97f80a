"""The recommendation engine: statistical mode, fallbacks, the forecast cache, games."""

import datetime as dt
import json
import logging
import math
import os
import pickle
import threading
from collections import Counter
from itertools import combinations

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection
from prometheus_client import REGISTRY

from draws.models import LottoDraw, expected_draw_date
from draws.schedule import scheduled_draw
from draws.services import draw_import_records
from mlops.ml import features, pipeline
from mlops.ml.sampling import sample_games, unseeded_generator
from mlops.ml.statistical import (
    LONG_RUN_WEIGHT,
    PRIOR_DRAWS,
    RECENT_WINDOW,
    statistical_probabilities,
)
from mlops.models import AuditEvent, Prediction
from mlops.services.monitoring import predictions
from mlops.services.operations.backups import model_version_backup
from mlops.services.registry.audit import SYSTEM
from mlops.services.registry.registry import (
    model_version_activate,
    model_version_load,
    model_version_register,
)
from mlops.services.training.training import model_version_train, training_history
from recommendations.services import forecast_cache
from recommendations.services.forecast_cache import forecast_cache_clear
from recommendations.services.inference import NoDrawsError, forecast_current
from recommendations.services.recommendation import DISCLAIMER, RecommendationEngine
from recommendations.services.served_counts import forecast_served_flush
from tests.factories import draw_record, store_draws

FALLBACK_TEXT = "Falling back to statistical mode"
# `trained` (conftest): 520 synthetic draws and an active model trained on them.
pytestmark = pytest.mark.usefixtures("fresh_forecast_cache")


def fallbacks_counted(reason: str) -> float:
    return REGISTRY.get_sample_value("ml_fallback_total", {"reason": reason}) or 0.0


def stored_numbers() -> np.ndarray:
    return training_history()[1]


class RaisingTree:
    """Stands in for a fitted tree whose prediction raises `error`.

    With `while_exists`, it raises only while that file exists: a transient fault.
    """

    def __init__(self, error: type[BaseException], while_exists=None):
        self.error = error
        self.while_exists = while_exists

    @property
    def tree_(self):
        return self

    def predict(self, rows):
        if self.while_exists is None or self.while_exists.exists():
            raise self.error("simulated failure inside the model")
        return np.full((len(rows), 45, 2), [1 - 6 / 45, 6 / 45])


def _raise_memory_error():
    raise MemoryError("simulated: no memory left to unpickle")


class NeedsTooMuchMemory:
    """Unpickling this raises MemoryError, as a huge model on a full machine would."""

    def __reduce__(self):
        return (_raise_memory_error, ())


def activate_bytes(model_bytes: bytes):
    """Register and activate bytes as the registry would any trained model."""
    version = model_version_register(
        model_bytes=model_bytes,
        draw_from=1,
        draw_to=520,
        draw_count=520,
        training_data_hash="0" * 64,
        feature_set_version=features.FEATURE_SET_VERSION,
        hyperparameters={},
        seed=0,
        training_seconds=0.1,
        validation_metrics={},
    )
    return model_version_activate(version=version)


def forest_that_raises(error: type[BaseException], *, while_exists=None) -> bytes:
    rng = np.random.default_rng(0)
    X = rng.random((60, features.FEATURE_COUNT), dtype=np.float32)
    Y = (rng.random((60, 45)) < 6 / 45).astype(np.uint8)
    forest = pipeline.build_model(n_estimators=2, min_samples_leaf=5).fit(X, Y)
    forest.estimators_ = [RaisingTree(error, while_exists)]
    return pipeline.save_model_bytes(forest)


# --- Statistical mode ------------------------------------------------------------


def test_statistical_mode_follows_its_documented_formula():
    rng = np.random.default_rng(5)
    draws = np.array([rng.permutation(45)[:6] + 1 for _ in range(300)])

    probabilities = statistical_probabilities(draws)

    incidence = np.zeros((300, 45))
    for row, numbers in enumerate(draws):
        incidence[row, numbers - 1] = 1
    uniform = 6 / 45
    long_run = (incidence.sum(0) + PRIOR_DRAWS * uniform) / (300 + PRIOR_DRAWS)
    recent = (incidence[-RECENT_WINDOW:].sum(0) + PRIOR_DRAWS * uniform) / (
        RECENT_WINDOW + PRIOR_DRAWS
    )
    expected = LONG_RUN_WEIGHT * long_run + (1 - LONG_RUN_WEIGHT) * recent
    assert probabilities.shape == (45,)
    assert np.allclose(probabilities, expected)
    assert math.isclose(probabilities.sum(), 6.0)


def test_statistical_mode_favours_frequent_numbers_but_keeps_every_number_possible():
    draws = np.array([[1, 2, 3, 4, 5, 6]] * 40 + [[7, 8, 9, 10, 11, 12]] * 10)

    probabilities = statistical_probabilities(draws)

    assert probabilities[:6].min() > probabilities[6:12].max()
    assert probabilities[6:12].min() > probabilities[12:].max()
    assert probabilities.min() > 0
    assert math.isclose(probabilities.sum(), 6.0)


def test_statistical_mode_is_uniform_without_history():
    probabilities = statistical_probabilities(np.empty((0, 6), dtype=int))

    assert np.allclose(probabilities, 6 / 45)


# --- ML mode ---------------------------------------------------------------------


def test_the_engine_serves_the_active_model_forecast(trained):
    recommendation = RecommendationEngine().recommend(count=5, seed=1)

    model = model_version_load(trained)
    expected = pipeline.forecast_probabilities(model, stored_numbers())
    assert recommendation.mode == "ml"
    assert recommendation.fallback_reason is None
    assert recommendation.model_version == trained.version
    assert recommendation.feature_set_version == features.FEATURE_SET_VERSION
    assert recommendation.validation_metrics == trained.validation_metrics
    assert np.array_equal(recommendation.probabilities, expected)
    assert (recommendation.target_draw_no, recommendation.target_draw_date) == (
        521,
        expected_draw_date(521),
    )
    assert recommendation.disclaimer == DISCLAIMER
    assert "no recommendation" in DISCLAIMER
    assert "random" in DISCLAIMER
    assert len(recommendation.combinations) == 5
    for game in recommendation.combinations:
        assert game == sorted(set(game))
        assert len(game) == 6
        assert 1 <= game[0] <= game[-1] <= 45


def test_recommend_refuses_bad_parameters_field_by_field(trained):
    with pytest.raises(ValidationError) as caught:
        RecommendationEngine().recommend(
            count=11, include=[1, 2, 3, 4, 5, 6], exclude=[0], seed=-1
        )

    assert set(caught.value.message_dict) == {"count", "include", "exclude", "seed"}


def test_no_draws_at_all_is_an_error_not_a_forecast(db, model_root):
    with pytest.raises(NoDrawsError):
        RecommendationEngine().recommend()


# --- Fallbacks -----------------------------------------------------------------


def assert_fell_back(caplog, reason: str, *, use_ml_model: bool = True):
    before = fallbacks_counted(reason)
    with caplog.at_level(logging.WARNING, logger="recommendations.services.inference"):
        recommendation = RecommendationEngine(use_ml_model=use_ml_model).recommend(
            seed=3
        )
    assert recommendation.mode == "statistical"
    assert recommendation.fallback_reason == reason
    assert recommendation.model_version is None
    assert recommendation.validation_metrics is None
    expected = statistical_probabilities(stored_numbers())
    assert np.array_equal(recommendation.probabilities, expected)
    assert len(recommendation.combinations) == 5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(FALLBACK_TEXT in m and reason in m for m in warnings), warnings
    assert fallbacks_counted(reason) == before + 1
    return recommendation


def test_no_active_model_falls_back(db, model_root, caplog):
    store_draws(520)

    assert_fell_back(caplog, "no_model")


def test_a_removed_model_file_falls_back(trained, model_root, caplog):
    (model_root / trained.file_path).unlink()

    assert_fell_back(caplog, "file_missing")


def test_a_corrupted_byte_falls_back(trained, model_root, caplog):
    path = model_root / trained.file_path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    assert_fell_back(caplog, "checksum_mismatch")


def test_bytes_that_do_not_load_as_a_forest_fall_back(db, model_root, caplog):
    store_draws(520)
    activate_bytes(pickle.dumps({"not": "a forest"}))

    assert_fell_back(caplog, "load_failed")


def test_a_model_whose_inference_raises_falls_back(db, model_root, caplog):
    store_draws(520)
    activate_bytes(forest_that_raises(RuntimeError))

    recommendation = assert_fell_back(caplog, "inference_error")

    assert recommendation.target_draw_no == 521


def test_a_model_trained_on_another_feature_set_is_not_used(trained, caplog):
    type(trained).objects.filter(pk=trained.pk).update(feature_set_version="fs-old")

    assert_fell_back(caplog, "inference_error")

    assert "fs-old" in caplog.text


def test_fewer_than_the_minimum_of_draws_falls_back(trained, settings, caplog):
    settings.ML_MIN_DRAWS = 500
    LottoDraw.objects.filter(draw_no__gt=499).delete()

    recommendation = assert_fell_back(caplog, "insufficient_draws")

    assert recommendation.target_draw_no == 500
    assert "499 draws" in caplog.text


def test_a_memory_error_during_inference_falls_back(db, model_root, caplog):
    store_draws(520)
    activate_bytes(forest_that_raises(MemoryError))

    assert_fell_back(caplog, "memory_error")


def test_a_memory_error_while_loading_falls_back(db, model_root, caplog):
    store_draws(520)
    activate_bytes(pickle.dumps(NeedsTooMuchMemory()))

    assert_fell_back(caplog, "memory_error")


def test_use_ml_model_false_forces_statistical_mode(trained, caplog):
    assert_fell_back(caplog, "forced", use_ml_model=False)

    assert RecommendationEngine().recommend().mode == "ml"


def test_the_setting_forces_statistical_mode(trained, settings, caplog):
    settings.RECOMMENDATIONS_USE_ML = False

    assert_fell_back(caplog, "forced")


def test_every_served_fallback_is_counted_but_logged_once_per_forecast(
    db, model_root, caplog
):
    store_draws(520)
    activate_bytes(forest_that_raises(RuntimeError))
    before = fallbacks_counted("inference_error")

    with caplog.at_level(logging.WARNING, logger="recommendations.services.inference"):
        for _ in range(3):
            RecommendationEngine().recommend()

    assert fallbacks_counted("inference_error") == before + 3
    assert caplog.text.count(FALLBACK_TEXT) == 1


def test_a_corrupt_model_with_a_good_backup_is_restored_and_stays_in_ml_mode(
    trained, model_root, caplog
):
    model_version_backup(version=trained, actor=SYSTEM)
    path = model_root / trained.file_path
    good = path.read_bytes()
    path.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))

    with caplog.at_level(logging.WARNING, logger="recommendations.services.inference"):
        recommendation = RecommendationEngine().recommend()

    assert recommendation.mode == "ml"
    assert recommendation.model_version == trained.version
    assert FALLBACK_TEXT not in caplog.text
    assert path.read_bytes() == good
    trained.refresh_from_db()
    assert trained.state == "active"
    assert AuditEvent.objects.filter(action="self_heal").exists()


def test_without_a_backup_self_heal_gives_up_and_the_original_reason_is_served(
    trained, model_root, caplog
):
    (model_root / trained.file_path).unlink()

    assert_fell_back(caplog, "file_missing")

    trained.refresh_from_db()
    assert trained.state == "corrupt"  # self-heal marked it; nothing to restore


def test_a_retryable_fallback_tries_the_model_again_after_the_retry_time(
    db, model_root, settings, tmp_path
):
    store_draws(520)
    outage = tmp_path / "outage"
    outage.touch()
    activate_bytes(forest_that_raises(RuntimeError, while_exists=outage))
    settings.ML_FALLBACK_RETRY_SECONDS = 3600
    assert forecast_current().fallback_reason == "inference_error"

    outage.unlink()  # the transient cause is gone
    assert forecast_current().fallback_reason == "inference_error"  # not retried yet
    settings.ML_FALLBACK_RETRY_SECONDS = 0

    assert forecast_current().mode == "ml"


def test_fallback_state_changes_are_audited_once_not_per_request(trained, settings):
    settings.ML_MIN_DRAWS = 500
    LottoDraw.objects.filter(draw_no__gt=499).delete()

    for _ in range(3):
        RecommendationEngine().recommend()
    forecast_cache_clear()  # a second web process sees the same state
    RecommendationEngine().recommend()

    events = list(AuditEvent.objects.filter(action="fallback").order_by("id"))
    assert len(events) == 1
    assert events[0].details["reason"] == "insufficient_draws"
    assert events[0].details["state"] == "fallback"

    store_draws(21, first=500, seed=9)
    assert RecommendationEngine().recommend().mode == "ml"
    RecommendationEngine().recommend()

    events = list(AuditEvent.objects.filter(action="fallback").order_by("id"))
    assert len(events) == 2
    assert events[1].details["state"] == "recovered"
    assert events[1].details["previous_reason"] == "insufficient_draws"
    assert events[1].details["model_version"] == trained.version


def test_a_healthy_start_records_no_fallback_event(trained):
    RecommendationEngine().recommend()
    forecast_cache_clear()
    RecommendationEngine().recommend()

    assert not AuditEvent.objects.filter(action="fallback").exists()


# --- The forecast cache --------------------------------------------------------


def test_the_forecast_is_computed_once_and_then_served_without_queries(
    trained, settings, django_assert_num_queries
):
    settings.ML_ACTIVE_CHECK_SECONDS = 3600
    first = forecast_current()

    with django_assert_num_queries(0):
        again = forecast_current()

    assert again is first


def test_with_a_zero_ttl_each_call_checks_the_state_with_two_small_queries(
    trained, django_assert_num_queries
):
    first = forecast_current()

    with django_assert_num_queries(2):
        again = forecast_current()

    assert again is first


def test_another_process_activation_is_seen_after_the_ttl(trained, settings):
    settings.ML_ACTIVE_CHECK_SECONDS = 3600
    assert forecast_current().model_version == trained.version
    # Activated "elsewhere": in a test transaction the on-commit signal never
    # fires, exactly as this process would not hear another worker's signal.
    newer = model_version_train(params={"seed": 1})

    assert forecast_current().model_version == trained.version  # TTL not over
    settings.ML_ACTIVE_CHECK_SECONDS = 0

    forecast = forecast_current()
    assert forecast.model_version == newer.version
    model = model_version_load(newer)
    expected = pipeline.forecast_probabilities(model, stored_numbers())
    assert np.array_equal(forecast.probabilities, expected)


def test_an_activation_in_this_process_invalidates_at_once(
    trained, settings, django_capture_on_commit_callbacks
):
    settings.ML_ACTIVE_CHECK_SECONDS = 3600
    assert forecast_current().model_version == trained.version

    with django_capture_on_commit_callbacks(execute=True):
        newer = model_version_train(params={"seed": 1})

    assert forecast_current().model_version == newer.version


def test_a_new_draw_changes_the_forecast_after_the_ttl(trained, settings, clock_at):
    # Before draw 521's broadcast: storing it early leaves the calendar alone.
    clock_at(scheduled_draw(521).draws_at - dt.timedelta(hours=1))
    settings.ML_ACTIVE_CHECK_SECONDS = 3600
    before = forecast_current()
    store_draws(1, first=521, seed=4)

    assert forecast_current() is before
    settings.ML_ACTIVE_CHECK_SECONDS = 0

    after = forecast_current()
    assert after.target_draw_no == 522
    model = model_version_load(trained)
    expected = pipeline.forecast_probabilities(model, stored_numbers())
    assert np.array_equal(after.probabilities, expected)
    assert not np.array_equal(after.probabilities, before.probabilities)


def test_an_imported_draw_invalidates_at_once(
    trained, settings, django_capture_on_commit_callbacks
):
    settings.ML_ACTIVE_CHECK_SECONDS = 3600
    assert forecast_current().target_draw_no == 521
    record = draw_record(521, (1, 2, 3, 4, 5, 6), bonus=7)

    with django_capture_on_commit_callbacks(execute=True):
        draw_import_records([record], source="test")

    assert forecast_current().target_draw_no == 522


def test_the_loaded_model_is_reused_while_its_file_still_verifies(trained):
    forecast_current()
    cached_model = forecast_cache._cache.model
    store_draws(1, first=521, seed=4)

    forecast_current()

    assert forecast_cache._cache.model is cached_model
    assert cached_model[0] == (trained.pk, trained.sha256)


def test_a_file_removed_after_loading_is_noticed_at_the_next_computation(
    trained, model_root
):
    assert forecast_current().mode == "ml"
    (model_root / trained.file_path).unlink()
    store_draws(1, first=521, seed=4)

    assert forecast_current().fallback_reason == "file_missing"


# --- Games ---------------------------------------------------------------------

UNIFORM = np.full(45, 6 / 45)


def test_the_same_seed_gives_the_same_games():
    first = sample_games(UNIFORM, count=5, seed=42)

    assert sample_games(UNIFORM, count=5, seed=42) == first
    assert sample_games(UNIFORM, count=5, seed=43) != first


def test_unseeded_games_differ_from_call_to_call():
    assert sample_games(UNIFORM, count=5) != sample_games(UNIFORM, count=5)


def test_a_forked_worker_does_not_repeat_its_parents_unseeded_games():
    unseeded_generator()  # the parent (gunicorn's master, say) made its stream
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, json.dumps(sample_games(UNIFORM, count=5)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        childs = json.loads(pipe.read())

    assert childs != sample_games(UNIFORM, count=5)


def test_games_are_distinct_sorted_and_honour_include_and_exclude():
    games = sample_games(UNIFORM, count=10, include=[3, 7], exclude=[1, 2], seed=0)

    assert len(games) == len({tuple(g) for g in games}) == 10
    for game in games:
        assert game == sorted(set(game))
        assert len(game) == 6
        assert {3, 7} <= set(game)
        assert not {1, 2} & set(game)


def test_games_are_drawn_as_if_one_number_at_a_time_by_probability():
    probabilities = np.zeros(45)
    probabilities[[5, 6, 7, 8, 9]] = [0.1, 0.2, 0.3, 0.15, 0.25]  # numbers 6-10
    include, exclude = [1, 2, 3, 4], list(range(11, 46))
    p = dict(zip(range(6, 11), probabilities[5:10], strict=True))

    def exact(a, b):  # a first then b, or b first then a
        return p[a] * p[b] / (1 - p[a]) + p[b] * p[a] / (1 - p[b])

    draws = 20_000
    counts = Counter(
        tuple(
            sample_games(
                probabilities, count=1, include=include, exclude=exclude, seed=seed
            )[0][4:]
        )
        for seed in range(draws)
    )

    for a, b in combinations(range(6, 11), 2):
        expected = exact(a, b)
        error = 4 * math.sqrt(expected * (1 - expected) / draws)  # 4 sigma
        assert abs(counts[(a, b)] / draws - expected) < error, (a, b)


def test_games_follow_the_probabilities():
    probabilities = np.full(45, 0.01)
    probabilities[[9, 19, 29]] = 0.9  # numbers 10, 20 and 30

    games = [
        game
        for seed in range(50)
        for game in sample_games(probabilities, count=10, seed=seed)
    ]

    shares = {n: sum(n in game for game in games) / len(games) for n in range(1, 46)}
    assert min(shares[10], shares[20], shares[30]) > 0.95
    # Three places left for 42 numbers of equal weight: about 7% each.
    assert max(v for n, v in shares.items() if n not in (10, 20, 30)) < 0.12


def test_numbers_given_probability_zero_are_only_used_when_nothing_else_is_left():
    probabilities = np.zeros(45)
    probabilities[:6] = 1.0

    assert sample_games(probabilities, count=1, seed=0) == [[1, 2, 3, 4, 5, 6]]
    games = sample_games(probabilities, count=1, exclude=[1], seed=0)
    assert games[0][:5] == [2, 3, 4, 5, 6]


def test_when_only_a_few_games_are_possible_all_of_them_are_returned():
    exclude = list(range(12, 46))  # 11 numbers left, 5 of them included
    include = [1, 2, 3, 4, 5]

    games = sample_games(UNIFORM, count=6, include=include, exclude=exclude, seed=0)

    assert sorted(games) == [[1, 2, 3, 4, 5, n] for n in range(6, 12)]


def test_asking_for_more_games_than_possible_is_refused(trained):
    with pytest.raises(ValidationError) as caught:
        RecommendationEngine().recommend(
            count=7, include=[1, 2, 3, 4, 5], exclude=list(range(12, 46))
        )

    assert "Only 6 different game(s)" in caught.value.message_dict["count"][0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_in_one_process_compute_the_forecast_once(
    model_root, caplog
):
    store_draws(520)
    activate_bytes(forest_that_raises(RuntimeError))  # a fallback logs each compute
    forecast_cache_clear()
    caplog.clear()
    barrier = threading.Barrier(8)
    results = []

    def request():
        try:
            barrier.wait()
            results.append(forecast_current())
        finally:
            connection.close()

    with caplog.at_level(logging.WARNING, logger="recommendations.services.inference"):
        threads = [threading.Thread(target=request) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(results) == 8
    assert len({id(forecast) for forecast in results}) == 1
    assert caplog.text.count(FALLBACK_TEXT) == 1


# --- The official forecast -------------------------------------------------------


def test_each_computed_forecast_is_recorded_once_with_its_official_slip(trained):
    for _ in range(3):
        RecommendationEngine().recommend()
    forecast_cache_clear()  # another process computes the same forecast
    forecast = forecast_current()

    prediction = Prediction.objects.get()
    assert prediction.pk == forecast.prediction_id
    assert (prediction.target_draw_no, prediction.mode) == (521, "ml")
    assert prediction.model_version == trained
    assert prediction.target_draw_date == expected_draw_date(521)
    assert np.allclose(prediction.probabilities, forecast.probabilities)
    slip = sample_games(forecast.probabilities, count=5, seed=521)
    assert prediction.combinations == slip
    assert prediction.served_count == 3


def test_a_statistical_forecast_is_recorded_as_the_statistical_forecaster(
    trained,
):
    RecommendationEngine(use_ml_model=False).recommend()

    prediction = Prediction.objects.get()
    assert (prediction.forecaster, prediction.mode) == ("statistical", "statistical")
    assert prediction.model_version is None
    assert prediction.served_count == 1


def test_a_failure_to_record_the_forecast_never_fails_the_recommendation(
    trained, monkeypatch, caplog
):
    def database_outage(**kwargs):
        raise OperationalError("simulated: the database refused the insert")

    # Fault injection: the recording service failing as it would in an outage.
    monkeypatch.setattr(predictions, "forecast_record", database_outage)

    recommendation = RecommendationEngine().recommend()

    assert recommendation.mode == "ml"
    assert recommendation.prediction_id is None
    assert len(recommendation.combinations) == 5
    assert "Could not record the forecast for draw 521" in caplog.text
    assert not Prediction.objects.exists()


def test_served_counts_are_added_up_and_written_together(trained, settings):
    settings.ML_SERVED_FLUSH_SECONDS = 3600
    RecommendationEngine().recommend()  # the first response writes at once
    prediction = Prediction.objects.get()
    assert prediction.served_count == 1

    for _ in range(4):
        RecommendationEngine().recommend()
    prediction.refresh_from_db()
    assert prediction.served_count == 1  # pending in this process

    forecast_served_flush()
    prediction.refresh_from_db()
    assert prediction.served_count == 5


def test_served_counts_are_written_when_the_served_forecast_changes(trained, settings):
    settings.ML_SERVED_FLUSH_SECONDS = 3600
    for _ in range(3):
        RecommendationEngine().recommend()
    store_draws(1, first=521, seed=4)

    RecommendationEngine().recommend()

    first = Prediction.objects.get(target_draw_no=521)
    assert first.served_count == 3
