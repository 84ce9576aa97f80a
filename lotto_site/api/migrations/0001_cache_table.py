"""Create the database cache's table, so that the embedded default (no REDIS_URL:
Django's database cache holds the rate-limit counters) needs no extra step.

Always created, whatever CACHES says while migrating: a deployment that drops
REDIS_URL later finds its table there.
"""

from django.core.management.commands.createcachetable import Command
from django.db import migrations

CACHE_TABLE = "lotto_cache"  # settings.CACHES["default"]["LOCATION"] without Redis


def create_cache_table(apps, schema_editor):
    # A no-op when the table exists (createcachetable's own check).
    command = Command()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, CACHE_TABLE, dry_run=False)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(
        f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}"
    )


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
