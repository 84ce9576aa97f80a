"""Migration 0002 backfills the prize tiers of stored draws from the shipped CSV.

Migrating up from 0001 with the mlops triggers already in place (an existing SQLite
database) is the real upgrade path: a table rebuild would fail on those triggers.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("draws", "0001_initial")]


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes("draws")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_it_fills_the_shipped_prizes_and_leaves_other_draws_alone():
    old_apps = migrate(BEFORE)
    OldDraw = old_apps.get_model("draws", "LottoDraw")
    common = {"draw_date": dt.date(2026, 4, 18), "source": "test"}
    # Draw 1220 as shipped; draw 1219 stored with numbers the CSV does not have.
    OldDraw.objects.create(
        draw_no=1220,
        n1=2,
        n2=22,
        n3=25,
        n4=28,
        n5=34,
        n6=43,
        bonus=16,
        first_prize_winners=14,
        **common,
    )
    OldDraw.objects.create(
        draw_no=1219, n1=3, n2=4, n3=5, n4=6, n5=7, n6=8, bonus=9, **common
    )

    new_apps = migrate(latest())

    Draw = new_apps.get_model("draws", "LottoDraw")
    shipped = Draw.objects.get(draw_no=1220)
    assert (shipped.first_prize_winners, shipped.first_prize_amount) == (14, 2114514161)
    assert (shipped.rank2_winners, shipped.rank2_prize_each) == (85, 58045487)
    assert (shipped.rank5_winners, shipped.rank5_prize_each) == (2688906, 5000)
    other = Draw.objects.get(draw_no=1219)
    assert (other.first_prize_amount, other.rank2_winners) == (None, None)
