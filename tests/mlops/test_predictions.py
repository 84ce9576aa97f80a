"""Official forecasts: recorded once, mirrored, frozen once their draw is stored.

The helpers at the top are shared by the other monitoring test modules.
"""

import datetime as dt
import importlib
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from draws.models import LottoDraw, expected_draw_date
from mlops.models import FrozenForecastError, ModelActivation, ModelVersion, Prediction
from mlops.services.monitoring import predictions
from mlops.services.monitoring.predictions import (
    forecast_note_served,
    forecast_record,
)
from mlops.services.monitoring.scoring import predictions_score_for_draws

pytestmark = pytest.mark.django_db

TOP6 = [1, 2, 3, 4, 5, 6]
# Never among TOP6: the numbers a winning draw is completed with.
OTHERS = [40, 41, 42, 43, 44, 45]


def make_version(label: str = "lotto_model_20260101", *, active: bool = True):
    """A registry row (no file needed) and, if active, its open activation."""
    version = ModelVersion.objects.create(
        version=label,
        file_path=f"trained/{label}.pkl",
        sha256="0" * 64,
        size_bytes=1,
        state=ModelVersion.State.ACTIVE if active else ModelVersion.State.ARCHIVED,
        draw_from=1,
        draw_to=10,
        draw_count=10,
        training_data_hash="h",
        feature_set_version="fs",
    )
    if active:
        ModelActivation.objects.create(
            model_version=version,
            activated_at=timezone.now() - dt.timedelta(days=1),
            activated_by="test",
        )
    return version


def probabilities_for(top6, high: float = 0.5, low: float = 0.1) -> list[float]:
    """45 probabilities whose six largest are exactly `top6`."""
    return [high if number in top6 else low for number in range(1, 46)]


def winning_with_hits(k: int, top6=TOP6) -> list[int]:
    """Six winning numbers sharing exactly k numbers with top6."""
    return sorted(list(top6[:k]) + OTHERS[: 6 - k])


def store_draw(draw_no: int, numbers, bonus: int, date: dt.date | None = None):
    n1, n2, n3, n4, n5, n6 = sorted(numbers)
    return LottoDraw.objects.create(
        draw_no=draw_no,
        draw_date=date or expected_draw_date(draw_no),
        n1=n1,
        n2=n2,
        n3=n3,
        n4=n4,
        n5=n5,
        n6=n6,
        bonus=bonus,
    )


def record(draw_no: int, version=None, *, date=None, top6=TOP6, combinations=()):
    return forecast_record(
        target_draw_no=draw_no,
        target_draw_date=date or expected_draw_date(draw_no),
        mode=Prediction.Mode.ML if version else Prediction.Mode.STATISTICAL,
        model_version=version,
        probabilities=probabilities_for(top6),
        combinations=combinations,
    )


def record_scored(draw_no: int, version, hits: int, *, date=None) -> Prediction:
    """A forecast with top-6 TOP6, then its draw with `hits` of them, scored."""
    prediction = record(draw_no, version, date=date)
    store_draw(draw_no, winning_with_hits(hits), bonus=39, date=date)
    predictions_score_for_draws([draw_no])
    prediction.refresh_from_db()
    return prediction


TRIGGER_MIGRATION = importlib.import_module(
    "mlops.migrations.0003_frozen_forecast_triggers"
)


def installed_trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def frozen_triggers(request):
    """The triggers migration 0003 installs (installed here under --nomigrations)."""
    if not installed_trigger_names() & {
        "mlops_prediction_frozen",
        "mlops_prediction_frozen_after_draw",
    }:
        assert request.config.getoption("nomigrations"), "migration 0003 did not run"
        with connection.cursor() as cursor:
            for statement in TRIGGER_MIGRATION.FORWARD[connection.vendor]:
                cursor.execute(statement)


# --- recording -------------------------------------------------------------------


def test_it_records_the_forecast_with_its_top_six_and_combinations(model_root):
    version = make_version()
    prediction = record(
        1201, version, top6=[3, 9, 17, 22, 30, 44], combinations=[[6, 5, 4, 3, 2, 1]]
    )
    assert prediction.forecaster == version.version
    assert prediction.mode == "ml"
    assert prediction.top_numbers == [3, 9, 17, 22, 30, 44]
    assert prediction.combinations == [[1, 2, 3, 4, 5, 6]]
    assert prediction.target_draw_date == expected_draw_date(1201)
    assert prediction.scored_at is None
    assert prediction.served_count == 0


def test_the_first_forecast_wins_and_later_calls_return_it_unchanged(model_root):
    version = make_version()
    first = record(1201, version, top6=TOP6)
    second = record(1201, version, top6=[10, 11, 12, 13, 14, 15])
    assert second.pk == first.pk
    assert second.top_numbers == TOP6
    assert Prediction.objects.count() == 1


def test_the_model_and_statistical_mode_each_get_their_forecast(model_root):
    version = make_version()
    record(1201, version)
    record(1201, None)
    assert set(Prediction.objects.values_list("forecaster", flat=True)) == {
        version.version,
        "statistical",
    }


def test_a_concurrent_insert_of_the_same_forecast_returns_the_winner(
    model_root, monkeypatch
):
    version = make_version()
    winner = record(1201, version)
    # Simulate the race: the existence check sees nothing, the insert collides.
    real_filter = Prediction.objects.filter
    calls = {"n": 0}

    def first_lookup_misses(*args, **kwargs):
        calls["n"] += 1
        queryset = real_filter(*args, **kwargs)
        return queryset.none() if calls["n"] == 1 else queryset

    monkeypatch.setattr(Prediction.objects, "filter", first_lookup_misses)
    again = record(1201, version, top6=[7, 8, 9, 10, 11, 12])
    assert again.pk == winner.pk
    assert again.top_numbers == TOP6


def test_it_mirrors_the_forecast_as_json_in_the_model_storage(
    model_store, django_capture_on_commit_callbacks
):
    version = make_version()
    with django_capture_on_commit_callbacks(execute=True):
        prediction = record(1201, version)
    mirror = f"metadata/predictions/1201_{version.version}.json"
    payload = json.loads(model_store.read(mirror))
    assert payload["id"] == prediction.pk
    assert payload["top_numbers"] == TOP6
    assert payload["model_version"] == version.version
    assert len(payload["probabilities"]) == 45


def test_a_mirror_that_cannot_be_written_loses_no_forecast(
    model_root, django_capture_on_commit_callbacks
):
    # A file where the predictions folder should be: the write fails.
    (model_root / "metadata").mkdir()
    (model_root / "metadata" / "predictions").write_text("not a folder")
    with django_capture_on_commit_callbacks(execute=True):
        prediction = record(1201, None)
    assert Prediction.objects.filter(pk=prediction.pk).exists()


def test_recording_a_forecast_for_a_drawn_draw_is_refused(model_root):
    store_draw(1201, winning_with_hits(2), bonus=39)
    with pytest.raises(FrozenForecastError, match="already"):
        record(1201, make_version())
    assert not Prediction.objects.exists()


def test_recording_a_forecast_for_a_draw_older_than_the_latest_is_refused(
    model_root,
):
    # Draw 1200 is missing from the history, but 1201 is stored: 1200 is past.
    store_draw(1201, winning_with_hits(2), bonus=39)
    with pytest.raises(ValidationError, match="1201 is already stored"):
        record(1200, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "magic"}, "mode must be one of"),
        ({"probabilities": [0.1] * 44}, "45 values"),
        ({"probabilities": [0.1] * 44 + [1.5]}, "between 0 and 1"),
        ({"probabilities": [0.1] * 44 + [float("nan")]}, "between 0 and 1"),
        ({"probabilities": ["x"] * 45}, "must be numbers"),
        ({"combinations": [[1, 2, 3, 4, 5]]}, "6 distinct numbers"),
        ({"combinations": [[1, 1, 2, 3, 4, 5]]}, "6 distinct numbers"),
        ({"combinations": [[0, 1, 2, 3, 4, 5]]}, "in 1-45"),
        ({"target_draw_no": 0}, ">= 1"),
        ({"target_draw_date": "2026-01-03"}, "must be a date"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_records_nothing(
    model_root, changes, message
):
    arguments = {
        "target_draw_no": 1201,
        "target_draw_date": expected_draw_date(1201),
        "mode": "statistical",
        "model_version": None,
        "probabilities": probabilities_for(TOP6),
        "combinations": [],
        **changes,
    }
    with pytest.raises(ValidationError, match=message):
        forecast_record(**arguments)
    assert not Prediction.objects.exists()


def test_an_ml_forecast_needs_its_version_and_a_statistical_one_has_none(model_root):
    with pytest.raises(ValidationError, match="needs the model version"):
        forecast_record(
            target_draw_no=1201,
            target_draw_date=expected_draw_date(1201),
            mode="ml",
            model_version=None,
            probabilities=probabilities_for(TOP6),
            combinations=[],
        )
    with pytest.raises(ValidationError, match="has no model version"):
        forecast_record(
            target_draw_no=1201,
            target_draw_date=expected_draw_date(1201),
            mode="statistical",
            model_version=make_version(),
            probabilities=probabilities_for(TOP6),
            combinations=[],
        )


# --- frozen after the draw ---------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("probabilities", [6 / 45] * 45),
        ("top_numbers", [7, 8, 9, 10, 11, 12]),
        ("combinations", [[7, 8, 9, 10, 11, 12]]),
    ],
)
def test_altering_a_drawn_draws_forecast_is_refused_by_save_and_update(
    model_root, field, value
):
    prediction = record(1201, make_version(), combinations=[TOP6])
    store_draw(1201, winning_with_hits(2), bonus=39)
    setattr(prediction, field, value)
    with pytest.raises(FrozenForecastError, match="already drawn"):
        prediction.save()
    with pytest.raises(FrozenForecastError, match="already drawn"):
        Prediction.objects.filter(pk=prediction.pk).update(**{field: value})
    # bulk_update runs in atomic(savepoint=False): give it its own savepoint.
    with pytest.raises(FrozenForecastError), transaction.atomic():
        Prediction.objects.bulk_update([prediction], [field])
    prediction.refresh_from_db()
    assert prediction.top_numbers == TOP6
    assert prediction.combinations == [TOP6]


def test_moving_a_forecast_onto_a_drawn_draw_is_refused(model_root):
    prediction = record(1202, None)
    store_draw(1201, winning_with_hits(2), bonus=39)
    with pytest.raises(FrozenForecastError):
        Prediction.objects.filter(pk=prediction.pk).update(target_draw_no=1201)


def test_creating_a_drawn_draws_forecast_below_the_service_is_refused(model_root):
    store_draw(1201, winning_with_hits(2), bonus=39)
    fields = {
        "target_draw_no": 1201,
        "target_draw_date": expected_draw_date(1201),
        "mode": "statistical",
        "forecaster": "statistical",
        "probabilities": probabilities_for(TOP6),
        "top_numbers": TOP6,
    }
    with pytest.raises(FrozenForecastError):
        Prediction.objects.create(**fields)
    with pytest.raises(FrozenForecastError):
        Prediction.objects.bulk_create([Prediction(**fields)])
    assert not Prediction.objects.exists()


def test_a_forecast_stays_editable_until_its_draw_is_stored(model_root):
    prediction = record(1201, None)
    Prediction.objects.filter(pk=prediction.pk).update(combinations=[TOP6])
    prediction.refresh_from_db()
    assert prediction.combinations == [TOP6]


def test_scoring_and_serving_still_write_a_drawn_draws_forecast(model_root):
    prediction = record(1201, make_version())
    store_draw(1201, winning_with_hits(3), bonus=39)
    assert predictions_score_for_draws([1201]) == 1
    assert forecast_note_served(prediction.pk) == 1
    prediction.refresh_from_db()
    assert prediction.hits == 3
    assert prediction.served_count == 1
    # A full save() that changes no forecast field is allowed too.
    prediction.save()


def test_the_database_triggers_refuse_what_the_model_refuses(
    model_root, frozen_triggers
):
    prediction = record(1201, make_version())
    store_draw(1201, winning_with_hits(3), bonus=39)
    # Below the ORM guard: raw SQL, as a script or another client would write.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute(
            "UPDATE mlops_prediction SET top_numbers = %s WHERE id = %s",
            ["[7, 8, 9, 10, 11, 12]", prediction.pk],
        )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute(
            "INSERT INTO mlops_prediction (target_draw_no, target_draw_date, mode, "
            "forecaster, probabilities, top_numbers, combinations, served_count, "
            "created_at) VALUES (1201, %s, 'statistical', 'statistical', '[]', "
            "'[]', '[]', 0, %s)",
            [expected_draw_date(1201), timezone.now()],
        )
    # Scoring only writes the score fields: the triggers let it through.
    assert predictions_score_for_draws([1201]) == 1
    prediction.refresh_from_db()
    assert prediction.hits == 3
    assert prediction.top_numbers == TOP6


def test_the_database_triggers_let_a_forecast_for_a_future_draw_in(
    model_root, frozen_triggers
):
    store_draw(1200, winning_with_hits(1), bonus=39)
    prediction = record(1201, None)
    Prediction.objects.filter(pk=prediction.pk).update(combinations=[TOP6])
    assert Prediction.objects.get(pk=prediction.pk).combinations == [TOP6]


# --- serving count -------------------------------------------------------------------


def test_serving_counts_add_up_in_one_update(model_root):
    prediction = record(1201, None)
    forecast_note_served(prediction.pk)
    forecast_note_served(prediction.pk, count=4)
    prediction.refresh_from_db()
    assert prediction.served_count == 5


def test_a_serving_count_below_one_is_refused(model_root):
    prediction = record(1201, None)
    with pytest.raises(ValidationError, match="count must be >= 1"):
        forecast_note_served(prediction.pk, count=0)


def test_counting_a_serving_of_an_unknown_forecast_changes_nothing(model_root):
    assert forecast_note_served(999_999) == 0


def test_the_mirror_path_names_the_draw_and_the_forecaster(model_root):
    prediction = record(1201, None)
    assert predictions.forecast_mirror_path(prediction) == (
        "metadata/predictions/1201_statistical.json"
    )


# --- recorded after an activation ------------------------------------------------------


def test_activating_a_model_records_its_forecast_for_the_next_draw(
    model_root, shipped_draws, django_capture_on_commit_callbacks, clock_follows_history
):
    from mlops.services.training.training import model_version_train

    latest = shipped_draws.last()
    with django_capture_on_commit_callbacks(execute=True):
        version = model_version_train()
    prediction = Prediction.objects.get(forecaster=version.version)
    assert prediction.mode == "ml"
    assert prediction.model_version == version
    assert prediction.target_draw_no == latest.draw_no + 1
    assert prediction.target_draw_date == expected_draw_date(latest.draw_no + 1)
    assert len(prediction.combinations) == 5  # the engine's official slip


def test_a_forecast_that_cannot_be_made_does_not_break_the_activation(
    model_root, shipped_draws, django_capture_on_commit_callbacks, caplog
):
    from mlops.services.registry.registry import model_version_activate
    from mlops.services.training.training import model_version_train

    version = model_version_train(activate=False)
    LottoDraw.objects.all().delete()  # nothing left to forecast from
    with django_capture_on_commit_callbacks(execute=True):
        model_version_activate(version=version, reason="test")
    version.refresh_from_db()
    assert version.is_active
    assert not Prediction.objects.exists()
    assert "Could not record the forecast for the next draw" in caplog.text
