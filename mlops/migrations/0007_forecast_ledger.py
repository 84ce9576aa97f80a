"""The forecast ledger: each forecast's link in a hash chain, and the head row.

Forecasts recorded before the ledger are marked pre_ledger (not in the chain).
The freeze triggers of 0003 are recreated to cover the ledger columns too (on
SQLite, adding a column with a default rebuilt the table, which dropped them).
The SQL is written out here, so the migration keeps meaning what it meant.
"""

from django.db import migrations, models

FROZEN = (
    "target_draw_no target_draw_date mode model_version_id forecaster probabilities "
    "top_numbers combinations created_at ledger_index commitment previous_commitment "
    "pre_ledger"
).split()


def triggers(columns) -> dict:
    """The freeze triggers of 0003, watching `columns`."""
    pg_changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)
    sqlite_changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    return {
        "postgresql": [
            f"""
CREATE OR REPLACE FUNCTION mlops_prediction_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM lotto_draws WHERE draw_no = NEW.target_draw_no) THEN
            RAISE EXCEPTION 'draw % is already drawn: a forecast for it is refused',
                NEW.target_draw_no;
        END IF;
    ELSIF ({pg_changed}) AND EXISTS (
        SELECT 1 FROM lotto_draws
        WHERE draw_no IN (OLD.target_draw_no, NEW.target_draw_no)
    ) THEN
        RAISE EXCEPTION 'draw % is already drawn: its forecast is frozen',
            OLD.target_draw_no;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""",
        ],
        "sqlite": [
            "DROP TRIGGER IF EXISTS mlops_prediction_no_insert_after_draw",
            "DROP TRIGGER IF EXISTS mlops_prediction_frozen_after_draw",
            """
CREATE TRIGGER mlops_prediction_no_insert_after_draw
BEFORE INSERT ON mlops_prediction
WHEN EXISTS (SELECT 1 FROM lotto_draws WHERE draw_no = NEW.target_draw_no)
BEGIN
    SELECT RAISE(ABORT, 'draw is already drawn: a forecast for it is refused');
END
""",
            f"""
CREATE TRIGGER mlops_prediction_frozen_after_draw
BEFORE UPDATE ON mlops_prediction
WHEN ({sqlite_changed}) AND EXISTS (
    SELECT 1 FROM lotto_draws
    WHERE draw_no IN (OLD.target_draw_no, NEW.target_draw_no)
)
BEGIN
    SELECT RAISE(ABORT, 'draw is already drawn: its forecast is frozen');
END
""",
        ],
    }


def mark_pre_ledger(apps, schema_editor):
    """Every forecast recorded so far predates the ledger; start an empty chain."""
    with schema_editor.connection.cursor() as cursor:
        # Raw SQL: on PostgreSQL the 0003 trigger still runs and allows it (the
        # column is new); on SQLite the rebuilt table has no trigger yet.
        cursor.execute("UPDATE mlops_prediction SET pre_ledger = %s", [True])
    apps.get_model("mlops", "LedgerHead").objects.get_or_create(
        pk=1, defaults={"length": 0, "commitment": ""}
    )


def unmark(apps, schema_editor):
    pass  # the columns go away with the reverse of AddField


def _install(columns):
    def install(apps, schema_editor):
        for sql in triggers(columns).get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)  # literal % (RAISE formats)

    return install


recreate_triggers = _install(FROZEN)
restore_0003_triggers = _install(FROZEN[:9])  # before the ledger columns


class Migration(migrations.Migration):
    dependencies = [
        ("mlops", "0006_integrity_checks_and_unchanged_runs"),
    ]

    operations = [
        # Reversed last too: should removing the columns rebuild the table (which
        # drops its triggers on SQLite), 0003's triggers come back.
        migrations.RunPython(migrations.RunPython.noop, restore_0003_triggers),
        migrations.CreateModel(
            name="LedgerHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("length", models.PositiveIntegerField(default=0, verbose_name="length")),
                (
                    "commitment",
                    models.CharField(
                        blank=True, default="", max_length=64, verbose_name="commitment"
                    ),
                ),
            ],
            options={"verbose_name": "ledger head", "verbose_name_plural": "ledger head"},
        ),
        migrations.AddField(
            model_name="prediction",
            name="commitment",
            field=models.CharField(
                blank=True, default="", max_length=64, verbose_name="commitment"
            ),
        ),
        migrations.AddField(
            model_name="prediction",
            name="ledger_index",
            field=models.PositiveIntegerField(
                blank=True, null=True, unique=True, verbose_name="ledger index"
            ),
        ),
        migrations.AddField(
            model_name="prediction",
            name="pre_ledger",
            field=models.BooleanField(default=False, verbose_name="before the ledger"),
        ),
        migrations.AddField(
            model_name="prediction",
            name="previous_commitment",
            field=models.CharField(
                blank=True, default="", max_length=64, verbose_name="previous commitment"
            ),
        ),
        migrations.RunPython(mark_pre_ledger, unmark),
        migrations.RunPython(recreate_triggers, restore_0003_triggers),
    ]
