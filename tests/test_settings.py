"""Production settings fail closed: each case loads lotto_site.settings afresh."""

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
REAL_KEY = secrets.token_urlsafe(50)


def load_settings(tmp_path, *names: str, **env: str) -> subprocess.CompletedProcess:
    """Import the production settings in a fresh process; print `names` as JSON."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST_"))
        and k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
        and not k.startswith("METRICS_")
    }
    code = (
        "import json, lotto_site.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def loaded(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "dev-only-not-secret",
        "short-but-random-Zq81",
        "a" * 60,  # long enough, one character
        "django-insecure-" + secrets.token_urlsafe(50),
    ],
    ids=["unset", "empty", "dev-default", "short", "one-character", "insecure-prefix"],
)
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, key):
    env = {"DEBUG": "0"} if key is None else {"DEBUG": "0", "SECRET_KEY": key}
    result = load_settings(tmp_path, "SECRET_KEY", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr.strip().splitlines()[-1]


def test_production_starts_with_a_real_secret_key(tmp_path):
    values = loaded(
        load_settings(tmp_path, "SECRET_KEY", DEBUG="0", SECRET_KEY=REAL_KEY)
    )
    assert values["SECRET_KEY"] == REAL_KEY


def test_debug_runs_with_the_development_key(tmp_path):
    values = loaded(load_settings(tmp_path, "SECRET_KEY", "DEBUG", DEBUG="1"))
    assert values == {"SECRET_KEY": "dev-only-not-secret", "DEBUG": True}


def test_list_settings_drop_empty_items(tmp_path):
    result = load_settings(
        tmp_path,
        "ALLOWED_HOSTS",
        "METRICS_ALLOWED_NETWORKS",
        "CSRF_TRUSTED_ORIGINS",
        DEBUG="0",
        SECRET_KEY=REAL_KEY,
        ALLOWED_HOSTS="a.com, ,b.com,",
        METRICS_ALLOWED_NETWORKS="127.0.0.0/8, ",
        CSRF_TRUSTED_ORIGINS=" , ",
    )
    assert loaded(result) == {
        "ALLOWED_HOSTS": ["a.com", "b.com"],
        "METRICS_ALLOWED_NETWORKS": ["127.0.0.0/8"],
        "CSRF_TRUSTED_ORIGINS": [],
    }


def test_a_metrics_network_that_does_not_parse_stops_start_up_named(tmp_path):
    result = load_settings(
        tmp_path,
        "METRICS_ALLOWED_NETWORKS",
        DEBUG="0",
        SECRET_KEY=REAL_KEY,
        METRICS_ALLOWED_NETWORKS="127.0.0.0/8,10.0.0.300/8",
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "METRICS_ALLOWED_NETWORKS" in last
    assert "10.0.0.300/8" in last


def test_metrics_networks_default_to_loopback_only(tmp_path):
    values = loaded(
        load_settings(
            tmp_path, "METRICS_ALLOWED_NETWORKS", DEBUG="0", SECRET_KEY=REAL_KEY
        )
    )
    assert values["METRICS_ALLOWED_NETWORKS"] == ["127.0.0.0/8", "::1/128"]


def test_postgresql_connections_give_up_after_a_timeout(tmp_path):
    # libpq's default is to wait forever for an unreachable host.
    values = loaded(
        load_settings(
            tmp_path,
            "DATABASES",
            DEBUG="0",
            SECRET_KEY=REAL_KEY,
            DATABASE_URL="postgres://u@db.invalid:5432/lotto",
        )
    )
    assert values["DATABASES"]["default"]["OPTIONS"]["connect_timeout"] == 5


def test_log_lines_say_their_time_zone():
    plain = settings.LOGGING["formatters"]["plain"]
    formatter = logging.Formatter(fmt=plain["format"], datefmt=plain["datefmt"])
    record = logging.LogRecord("mlops", logging.INFO, __file__, 1, "hello", None, None)

    line = formatter.format(record)

    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST INFO mlops: hello", line)
