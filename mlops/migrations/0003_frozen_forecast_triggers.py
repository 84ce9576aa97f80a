"""Freeze a forecast once its draw is stored, below the ORM too.

A forecast made after the fact is not a forecast: no INSERT for a drawn draw, and no
UPDATE of a drawn draw's forecast fields (the score fields stay writable). The SQL is
copied here, not imported, so the migration keeps meaning what it meant when written.
"""

from django.db import migrations

FORWARD = {'postgresql': ['\n'
                'CREATE OR REPLACE FUNCTION mlops_prediction_frozen() RETURNS trigger AS $$\n'
                'BEGIN\n'
                "    IF TG_OP = 'INSERT' THEN\n"
                '        IF EXISTS (SELECT 1 FROM lotto_draws WHERE draw_no = NEW.target_draw_no) THEN\n'
                "            RAISE EXCEPTION 'draw % is already drawn: a forecast for it is refused',\n"
                '                NEW.target_draw_no;\n'
                '        END IF;\n'
                '    ELSIF (NEW.target_draw_no IS DISTINCT FROM OLD.target_draw_no OR NEW.target_draw_date IS DISTINCT FROM OLD.target_draw_date OR NEW.mode IS DISTINCT FROM OLD.mode OR '
                'NEW.model_version_id IS DISTINCT FROM OLD.model_version_id OR NEW.forecaster IS DISTINCT FROM OLD.forecaster OR NEW.probabilities IS DISTINCT FROM OLD.probabilities OR '
                'NEW.top_numbers IS DISTINCT FROM OLD.top_numbers OR NEW.combinations IS DISTINCT FROM OLD.combinations OR NEW.created_at IS DISTINCT FROM OLD.created_at) AND EXISTS (\n'
                '        SELECT 1 FROM lotto_draws\n'
                '        WHERE draw_no IN (OLD.target_draw_no, NEW.target_draw_no)\n'
                '    ) THEN\n'
                "        RAISE EXCEPTION 'draw % is already drawn: its forecast is frozen',\n"
                '            OLD.target_draw_no;\n'
                '    END IF;\n'
                '    RETURN NEW;\n'
                'END;\n'
                '$$ LANGUAGE plpgsql\n',
                '\nCREATE TRIGGER mlops_prediction_frozen\nBEFORE INSERT OR UPDATE ON mlops_prediction\nFOR EACH ROW EXECUTE FUNCTION mlops_prediction_frozen()\n'],
 'sqlite': ['\n'
            'CREATE TRIGGER mlops_prediction_no_insert_after_draw\n'
            'BEFORE INSERT ON mlops_prediction\n'
            'WHEN EXISTS (SELECT 1 FROM lotto_draws WHERE draw_no = NEW.target_draw_no)\n'
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'draw is already drawn: a forecast for it is refused');\n"
            'END\n',
            '\n'
            'CREATE TRIGGER mlops_prediction_frozen_after_draw\n'
            'BEFORE UPDATE ON mlops_prediction\n'
            'WHEN (NEW.target_draw_no IS NOT OLD.target_draw_no OR NEW.target_draw_date IS NOT OLD.target_draw_date OR NEW.mode IS NOT OLD.mode OR NEW.model_version_id IS NOT OLD.model_version_id OR '
            'NEW.forecaster IS NOT OLD.forecaster OR NEW.probabilities IS NOT OLD.probabilities OR NEW.top_numbers IS NOT OLD.top_numbers OR NEW.combinations IS NOT OLD.combinations OR '
            'NEW.created_at IS NOT OLD.created_at) AND EXISTS (\n'
            '    SELECT 1 FROM lotto_draws\n'
            '    WHERE draw_no IN (OLD.target_draw_no, NEW.target_draw_no)\n'
            ')\n'
            'BEGIN\n'
            "    SELECT RAISE(ABORT, 'draw is already drawn: its forecast is frozen');\n"
            'END\n']}

REVERSE = {'postgresql': ['DROP TRIGGER IF EXISTS mlops_prediction_frozen ON mlops_prediction', 'DROP FUNCTION IF EXISTS mlops_prediction_frozen()'],
 'sqlite': ['DROP TRIGGER IF EXISTS mlops_prediction_no_insert_after_draw', 'DROP TRIGGER IF EXISTS mlops_prediction_frozen_after_draw']}


def _run(statements):
    def apply(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            # params=None: the SQL holds literal % signs (RAISE formats).
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("draws", "0001_initial"),
        ("mlops", "0002_model_permissions"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(REVERSE))]
