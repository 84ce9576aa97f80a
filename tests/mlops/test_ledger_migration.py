"""Migration mlops 0007: forecasts recorded before the ledger are marked pre_ledger,
and the freeze triggers still hold afterwards (now over the ledger columns too)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [
    ("mlops", "0006_integrity_checks_and_unchanged_runs"),
    ("draws", "0003_verbose_names"),
]
AFTER = [("mlops", "0007_forecast_ledger")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_forecasts_recorded_before_the_ledger_are_marked_pre_ledger():
    migrate(BEFORE)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO lotto_draws (draw_no, draw_date, n1, n2, n3, n4, n5, n6, bonus,"
            " created_at, source) VALUES (1, '2002-12-07', 1, 2, 3, 4, 5, 6, 7, '2002-12-07', 't')"
        )
        cursor.execute(
            "INSERT INTO mlops_prediction (target_draw_no, target_draw_date, mode,"
            " forecaster, probabilities, top_numbers, combinations, served_count,"
            " created_at) VALUES (2, '2002-12-14', 'statistical', 'statistical',"
            " '[]', '[1, 2, 3, 4, 5, 6]', '[]', 0, '2002-12-08')"
        )
    try:
        migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pre_ledger, ledger_index FROM mlops_prediction")
            assert [tuple(row) for row in cursor.fetchall()] == [(True, None)]
            cursor.execute("SELECT length, commitment FROM mlops_ledgerhead")
            assert [tuple(row) for row in cursor.fetchall()] == [(0, "")]
            # Draw 2 arrives: the forecast, ledger columns included, is frozen.
            cursor.execute(
                "INSERT INTO lotto_draws (draw_no, draw_date, n1, n2, n3, n4, n5, n6,"
                " bonus, created_at, source) VALUES (2, '2002-12-14', 1, 2, 3, 4, 5, 6, 7,"
                " '2002-12-14', 't')"
            )
        for change in ("pre_ledger = %s", "top_numbers = '[7, 8, 9, 10, 11, 12]'"):
            params = [False] if "%s" in change else []
            with pytest.raises(DatabaseError), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"UPDATE mlops_prediction SET {change}", params)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM mlops_prediction")
            cursor.execute("DELETE FROM lotto_draws")
        # Back to the newest migrations, not just 0007: later tests need them.
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
