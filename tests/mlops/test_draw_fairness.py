"""The fairness of the draw process is tested after each import, stored and exported."""

import logging

import numpy as np
import pytest

from draws import fairness
from draws.models import LottoDraw, expected_draw_date
from draws.services import draw_import_records
from draws.validation import DrawRecord
from mlops.models import DrawFairnessCheck
from mlops.services.monitoring.fairness import (
    draw_fairness_latest,
    draw_fairness_record,
)
from tests.observability.helpers import parse_metrics, sample

pytestmark = pytest.mark.django_db


def records(main, bonus, first: int = 1) -> list[DrawRecord]:
    return [
        DrawRecord(
            draw_no=first + index,
            draw_date=expected_draw_date(first + index),
            numbers=tuple(int(n) for n in sorted(row)),
            bonus=int(extra),
        )
        for index, (row, extra) in enumerate(zip(main, bonus, strict=True))
    ]


def fair(draws: int, seed: int):
    main, bonus = fairness.simulate_fair_draws(np.random.default_rng(seed), 1, draws)
    return main[0], bonus[0]


def test_an_import_stores_the_tests_of_every_long_enough_window(
    django_capture_on_commit_callbacks,
):
    main, bonus = fair(300, seed=31)
    with django_capture_on_commit_callbacks(execute=True):
        draw_import_records(records(main, bonus), source="test")
    checks = {check.window: check for check in DrawFairnessCheck.objects.all()}
    assert set(checks) == {"all", "52", "260"}
    assert {check.draw_no for check in checks.values()} == {300}
    assert (checks["all"].draws, checks["all"].first_draw) == (300, 1)
    assert (checks["52"].draws, checks["52"].first_draw) == (52, 249)
    expected = fairness.fairness_test(main[-52:], bonus[-52:])
    assert checks["52"].main_p_value == pytest.approx(
        expected["main_uniformity"]["p_value"]
    )
    assert checks["52"].p_value == pytest.approx(expected["p_value"])
    assert checks["52"].verdict_code == expected["verdict_code"]


def test_the_next_import_adds_rows_under_the_new_newest_draw(
    django_capture_on_commit_callbacks,
):
    main, bonus = fair(61, seed=32)
    with django_capture_on_commit_callbacks(execute=True):
        draw_import_records(records(main[:60], bonus[:60]), source="test")
    with django_capture_on_commit_callbacks(execute=True):
        draw_import_records(records(main[60:], bonus[60:], first=61), source="test")
    assert sorted(DrawFairnessCheck.objects.values_list("draw_no", "window")) == [
        (60, "52"),
        (60, "all"),
        (61, "52"),
        (61, "all"),
    ]
    assert [check.window for check in draw_fairness_latest()] == ["all", "52"]
    assert {check.draw_no for check in draw_fairness_latest()} == {61}


def test_fewer_than_ten_draws_store_nothing(django_capture_on_commit_callbacks):
    main, bonus = fair(9, seed=33)
    with django_capture_on_commit_callbacks(execute=True):
        draw_import_records(records(main, bonus), source="test")
    assert not DrawFairnessCheck.objects.exists()
    assert draw_fairness_latest() == []


def test_a_biased_machine_is_logged_and_recorded_as_bias(
    django_capture_on_commit_callbacks, caplog
):
    main, bonus = fair(260, seed=34)
    for row, extra in zip(main, bonus, strict=True):
        if 7 not in row and extra != 7:
            row[0] = 7
    with (
        caplog.at_level(logging.WARNING, logger="mlops.services.monitoring.fairness"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        draw_import_records(records(main, bonus), source="test")
    check = DrawFairnessCheck.objects.get(window="all")
    assert check.verdict_code == fairness.BIAS
    assert 7 in check.result["per_number"]["rejected"]
    assert "evidence of bias" in caplog.text


def test_metrics_export_the_newest_p_values_per_window(client):
    main, bonus = fair(60, seed=35)
    LottoDraw.objects.bulk_create(
        LottoDraw(
            draw_no=r.draw_no,
            draw_date=r.draw_date,
            **{f"n{k + 1}": n for k, n in enumerate(r.numbers)},
            bonus=r.bonus,
        )
        for r in records(main, bonus)
    )
    stored = {check.window: check for check in draw_fairness_record()}
    samples = parse_metrics(client.get("/metrics").content.decode())
    for window in ("all", "52"):
        assert sample(
            samples, "lotto_draw_uniformity_p_value", window=window
        ) == pytest.approx(stored[window].main_p_value)
        assert sample(
            samples, "lotto_draw_fairness_p_value", window=window, test="combined"
        ) == pytest.approx(stored[window].p_value)
    assert sample(samples, "lotto_draw_uniformity_p_value", window="260") is None
