"""Forecasts recorded at the same moment by concurrent recorders end up in one
unbroken chain (PostgreSQL: the head row's lock orders them)."""

import threading

import pytest
from django.db import connection, connections

from draws.models import expected_draw_date
from mlops.models import LedgerHead, Prediction
from mlops.services.monitoring.ledger import ledger_verify
from mlops.services.monitoring.predictions import forecast_record
from tests.factories import store_draws

pytestmark = pytest.mark.django_db(transaction=True)
PER_THREAD = 15
THREADS = 4


def record_many(first: int, start: threading.Barrier, errors: list) -> None:
    try:
        start.wait()
        for target in range(first, first + PER_THREAD * THREADS, THREADS):
            forecast_record(
                target_draw_no=target,
                target_draw_date=expected_draw_date(target),
                mode="statistical",
                model_version=None,
                probabilities=[6 / 45] * 45,
                combinations=[[1, 2, 3, 4, 5, 6]],
            )
    except Exception as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        connections.close_all()


def test_concurrent_recorders_build_one_unbroken_chain(model_root):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): row locks across connections")
    store_draws(10)
    start, errors = threading.Barrier(THREADS), []
    threads = [
        threading.Thread(target=record_many, args=(11 + i, start, errors))
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    total = PER_THREAD * THREADS
    indices = sorted(Prediction.objects.values_list("ledger_index", flat=True))
    assert indices == list(range(1, total + 1))
    assert LedgerHead.objects.get().length == total
    assert ledger_verify() is None
