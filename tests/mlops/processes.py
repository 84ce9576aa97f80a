"""Shared by the tests that run manage.py in subprocesses on a fresh database."""

import os
import secrets
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# Production settings (DEBUG off) refuse to start without a real key.
PROCESS_SECRET_KEY = secrets.token_urlsafe(50)


def subprocess_env(tmp_path: Path, **overrides: str) -> dict:
    """Environment for a subprocess on the production settings, files in tmp_path.

    The test run's DJANGO_, PYTEST_ and Q_ variables and DATABASE_URL stay
    behind: the subprocess uses the SQLite file under VAR_DIR unless the caller
    sets DATABASE_URL (see FreshDatabase).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "Q_")) and key != "DATABASE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="lotto_site.settings",
        SECRET_KEY=PROCESS_SECRET_KEY,
        VAR_DIR=str(tmp_path / "var"),
        MODEL_ROOT=str(tmp_path / "models"),
        ML_N_ESTIMATORS="10",
        ML_N_JOBS="1",
        MONITOR_REPLAY_DRAWS="0",  # no warm-up replay competing for the CPU
        PYTHONPATH=str(ROOT),
        **overrides,
    )
    return env


def manage(env: dict, *args: str) -> str:
    """Run `manage.py *args` in a subprocess; assert it succeeds, return stdout."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


class FreshDatabase:
    """The database the subprocesses use, and a way to read it.

    On PostgreSQL (when the suite runs on it) a new database named
    `<prefix>_<random>` that `drop` removes; otherwise the SQLite file the
    subprocesses create under tmp_path/var, and `url` is None.
    """

    def __init__(self, tmp_path: Path, *, prefix: str):
        self.vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.sqlite_path = tmp_path / "var" / "db.sqlite3"
        self.url = None
        if self.vendor == "postgresql":
            import psycopg2

            db = settings.DATABASES["default"]
            self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
            self.params = {
                "user": db["USER"],
                "password": db["PASSWORD"],
                "host": db["HOST"],
                "port": db["PORT"] or 5432,
            }
            self.admin = psycopg2.connect(dbname="postgres", **self.params)
            self.admin.autocommit = True
            self.admin.cursor().execute(f"CREATE DATABASE {self.name}")
            auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
            self.url = (
                f"postgres://{auth}@{db['HOST']}:{self.params['port']}/{self.name}"
            )

    def query(self, sql: str) -> list[tuple]:
        if self.vendor == "postgresql":
            import psycopg2

            with psycopg2.connect(dbname=self.name, **self.params) as conn:
                cursor = conn.cursor()
                cursor.execute(sql)
                return cursor.fetchall()
        with sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True) as conn:
            return conn.execute(sql).fetchall()

    def drop(self) -> None:
        if self.vendor == "postgresql":
            self.admin.cursor().execute(
                f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"
            )
            self.admin.close()
