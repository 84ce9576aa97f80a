"""The quickstart path (SQLite, no server) works end to end in a subprocess."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_migrate_and_import_work_on_a_fresh_sqlite_file(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lotto_site.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),  # production settings need one
        "VAR_DIR": str(tmp_path),
        "MODEL_ROOT": str(tmp_path / "models"),
        # The embedded default speaks Korean; these assertions read the English.
        "LANGUAGE_CODE": "en",
    }
    env.pop("DATABASE_URL", None)
    migrate = run_manage("migrate", "--noinput", env=env)
    assert migrate.returncode == 0, migrate.stderr
    first = run_manage("import_draws", env=env)
    assert first.returncode == 0, first.stderr
    assert "Imported 1220 new draw(s) (1-1220)" in first.stdout
    again = run_manage("import_draws", env=env)
    assert "Nothing to import: all 1220 draw(s) already stored." in again.stdout
    check = run_manage("check_draws", env=env)
    assert "No gaps; every date is on the weekly cadence." in check.stdout
    # The shipped history ends in April 2026, so the clock finds it stale.
    assert "Stale: draws 1221-" in check.stdout, check.stdout + check.stderr
    assert check.returncode == 1
    assert (tmp_path / "db.sqlite3").exists()
