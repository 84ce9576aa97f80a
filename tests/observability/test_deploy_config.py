"""Deployment files: promtool, docker-compose, the Grafana dashboard, check --deploy.

The system tools are Debian packages CI installs (.ci/run): `prometheus` (for
promtool) and `docker-compose` (v1; only `config` runs, no engine is needed).
"""

import datetime as dt
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops.observability import collectors
from mlops.observability.metrics import observe_inference, record_fallback
from tests.dependencies import missing_dependency
from tests.observability.helpers import (
    family_names,
    make_prediction,
    make_run,
    make_version,
    sample_names,
)

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "lotto-mlops.json"
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
# Series Prometheus makes itself for every target, not the service.
PROMETHEUS_OWN = {"up"}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing_dependency(f"{name} is not installed (apt-get install; see .ci/run)")
    return path


def run(*args, cwd=ROOT, env=None):
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


# --- PromQL: which metric names does an expression read? -----------------------

PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "inf", "nan",
}  # fmt: skip


def promql_metric_names(expr: str) -> set[str]:
    """Metric names an expression selects: identifiers that are not functions,
    keywords, label names, strings, durations or Grafana variables."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges and subqueries
    expr = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr
    )
    names = re.findall(r"(?<![\w$.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", expr)
    return {name for name in names if name.lower() not in PROMQL_WORDS}


def test_the_promql_reader_finds_metrics_and_nothing_else():
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{a="b c"}'
        "[$__rate_interval]))) / on() group_left y_total > bool 1e3 offset 5m "
        "and time() - z_seconds"
    )
    assert promql_metric_names(expr) == {"x_bucket", "y_total", "z_seconds"}


# --- What the service exports -------------------------------------------------

FULL_STATUS = {
    "accuracy": 55.0,
    "baseline": 57.8,
    "status": "warning",
    "sample_size": 40,
}


@pytest.fixture
def exported(db, client, monkeypatch):
    """Every metric name a live /metrics shows once each kind of event happened."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    make_version("lotto_model_20260101", state="active", age=dt.timedelta(days=1))
    make_run("scheduled", "success", finished_ago=dt.timedelta(days=1))
    make_run("manual", "failed", finished_ago=dt.timedelta(hours=1))
    make_prediction(1201, scored=True, hits=1)
    record_fallback("no_model")
    observe_inference(0.01)
    client.get("/healthz")
    # The monitoring figures come from a fixed status: which names exist must
    # not depend on how many forecasts the test database has scored.
    sections = tuple(
        (name, (lambda: collectors.monitor_status_metrics(FULL_STATUS)))
        if name == "monitoring"
        else (name, read)
        for name, read in collectors.SECTIONS
    )
    monkeypatch.setattr(collectors, "SECTIONS", sections)
    text = client.get("/metrics").content.decode()
    return sample_names(text) | family_names(text)


def dashboard_panels(panels):
    for panel in panels:
        yield panel
        yield from dashboard_panels(panel.get("panels", []))


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard_panels(dashboard["panels"])
        for target in panel.get("targets", [])
    ]


def test_every_dashboard_query_names_only_exported_metrics(exported):
    queries = dashboard_queries()
    assert len(queries) >= 10
    unknown = {
        (title, name)
        for title, expr in queries
        for name in promql_metric_names(expr)
        if name not in exported
    }
    assert not unknown, f"panels query metrics the service does not export: {unknown}"


def test_the_dashboard_covers_what_operations_watch():
    names = set().union(*(promql_metric_names(expr) for _, expr in dashboard_queries()))
    for needed in (
        "ml_accuracy",
        "ml_accuracy_baseline",
        "ml_health_status_code",
        "ml_inference_time_seconds_bucket",
        "ml_retrains_total",
        "ml_fallback_total",
        "ml_model_age_seconds",
        "http_requests_total",
    ):
        assert needed in names


def test_every_alert_names_only_exported_metrics(exported):
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    unknown = {
        name
        for expr in exprs
        for name in promql_metric_names(expr)
        if name not in exported | PROMETHEUS_OWN
    }
    assert not unknown


def test_the_dashboard_uses_the_provisioned_datasource():
    provisioned = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    uids = {source["uid"] for source in provisioned["datasources"]}
    dashboard = json.loads(DASHBOARD.read_text())
    used = {
        panel["datasource"]["uid"]
        for panel in dashboard_panels(dashboard["panels"])
        if "datasource" in panel
    }
    assert used == uids


# --- promtool -----------------------------------------------------------------


def test_promtool_accepts_the_alert_rules():
    result = run(tool("promtool"), "check", "rules", "alerts.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alert_rules_fire_when_their_unit_tests_say():
    result = run(
        tool("promtool"), "test", "rules", "alerts.test.yml", cwd=PROMETHEUS_DIR
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_prometheus_config(tmp_path):
    promtool = tool("promtool")
    syntax = run(promtool, "check", "config", "--syntax-only", "prometheus.yml",
                 cwd=PROMETHEUS_DIR)  # fmt: skip
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
    # The full check also opens referenced files. The bearer token file is
    # written at container start, so check an unchanged copy next to a stand-in.
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(PROMETHEUS_DIR / name, tmp_path / name)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "metrics_token").write_text("")
    full = run(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    assert full.returncode == 0, full.stdout + full.stderr


# --- docker-compose -----------------------------------------------------------


def compose_config(env_file: Path, project_dir: Path | None = None):
    """`docker-compose config` with `env_file` as the project's .env.

    docker-compose 1.29 fails `config` when a service's env_file is missing, and
    the compose file reads `.env` of the project directory: the tests give it a
    temporary project directory holding the .env to use.
    """
    if project_dir is None:
        project_dir = env_file.parent
    # Only the .env file: compose prefers the shell's variables when it fills in
    # ${...}, and this test process has some (SECRET_KEY, DATABASE_URL, ...).
    clean = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    return run(
        tool("docker-compose"), "--project-directory", str(project_dir),
        "--env-file", str(env_file), "-f", str(COMPOSE), "config",
        env=clean,
    )  # fmt: skip


def example_env(tmp_path: Path, **extra: str) -> Path:
    """A .env in tmp_path: .env.example plus `extra` settings."""
    env_file = tmp_path / ".env"
    lines = [ENV_EXAMPLE.read_text()] + [f"{k}={v}" for k, v in extra.items()]
    env_file.write_text("\n".join(lines) + "\n")
    return env_file


@pytest.fixture
def compose(tmp_path):
    """The compose file as docker-compose reads it with .env.example's values
    and a setting compose itself never names (RETRAIN_CRON is in .env.example;
    DRAW_SYNC_CRON is added here)."""
    result = compose_config(example_env(tmp_path, DRAW_SYNC_CRON="15 22 * * 6"))
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


LONG_RUNNING = {"db", "redis", "minio", "web", "worker", "prometheus", "grafana"}


def test_docker_compose_parses_the_file_with_the_example_env(compose):
    assert set(compose["services"]) == LONG_RUNNING | {"minio-buckets"}
    assert {"pgdata", "redisdata", "miniodata", "prometheus_data", "grafana_data"} <= (
        set(compose["volumes"])
    )
    web = compose["services"]["web"]
    assert web["command"] == ["web"]
    assert compose["services"]["worker"]["command"] == ["worker"]
    assert "PROMETHEUS_MULTIPROC_DIR" in web["environment"]
    assert (
        "PROMETHEUS_MULTIPROC_DIR" not in compose["services"]["worker"]["environment"]
    )


def test_every_long_running_service_has_a_health_check(compose):
    for name in LONG_RUNNING:
        check = compose["services"][name].get("healthcheck") or {}
        assert check.get("test"), f"{name} has no health check"
    worker = compose["services"]["worker"]["healthcheck"]["test"]
    assert worker[-2:] == ["manage.py", "check_worker"]


def test_web_and_worker_share_no_volume_and_store_models_in_minio(compose):
    for name in ("web", "worker"):
        service = compose["services"][name]
        assert not service.get("volumes"), f"{name} mounts {service.get('volumes')}"
        env = service["environment"]
        assert env["MODEL_STORAGE_URL"].startswith("s3://")
        assert env["MODEL_BACKUP_STORAGE_URL"].startswith("s3://")
        assert env["AWS_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert "minio-buckets" in service["depends_on"]
    assert "minio" in compose["services"]["minio"]["image"]


def test_every_setting_of_the_env_file_reaches_web_and_worker(compose):
    for name in ("web", "worker"):
        env = compose["services"][name]["environment"]
        assert env["RETRAIN_CRON"] == "0 0 * * 2"
        assert env["DRAW_SYNC_CRON"] == "15 22 * * 6"
        assert env["ML_N_JOBS"] == "2"


def test_every_value_of_the_env_example_arrives_unchanged_in_web_and_worker(
    compose,
):
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    for name in ("web", "worker"):
        env = compose["services"][name]["environment"]
        for key, value in example.items():
            if key == "ALLOWED_HOSTS":  # compose adds the names it uses itself
                assert env[key].split(",")[0] == value, (name, key)
            else:
                assert env.get(key, "") == value, (name, key, env.get(key))


def test_the_web_port_is_published_on_an_internal_address_only(compose):
    # docs/OPERATIONS.md: "Publish WEB_PORT on an internal interface only."
    assert compose["services"]["web"]["ports"] == ["127.0.0.1:8000:8000/tcp"]
    assert "WEB_BIND_ADDRESS" in (ROOT / "docs" / "OPERATIONS.md").read_text()


def test_docker_compose_refuses_to_start_without_secrets(tmp_path):
    empty = tmp_path / ".env"
    empty.write_text("")
    result = compose_config(empty)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr or "POSTGRES_PASSWORD" in result.stderr


def test_the_compose_file_holds_no_secrets():
    text = COMPOSE.read_text()
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "METRICS_BEARER_TOKEN",
                 "GF_SECURITY_ADMIN_PASSWORD", "MINIO_ROOT_PASSWORD",
                 "AWS_SECRET_ACCESS_KEY"):  # fmt: skip
        for line in text.splitlines():
            if re.match(rf"\s*{name}:", line):
                assert "${" in line, f"{name} must come from the environment: {line}"


def test_the_env_example_names_every_variable_compose_requires():
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    example = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert required
    assert required <= example


# --- Django's deployment checklist ------------------------------------------------

# Documented in docs/OPERATIONS.md: W008, the TLS proxy redirects to https; W021,
# HSTS preload is a commitment for the whole domain, not a default.
ACCEPTED_DEPLOY_WARNINGS = {"security.W008", "security.W021"}


def test_check_deploy_leaves_only_the_documented_warnings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lotto_site.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "lotto.example.com",
        "VAR_DIR": str(tmp_path),
    }
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD"):
        env.pop(name, None)
    # The security checks only: schema warnings (drf_spectacular.W002) belong
    # to the API code, not to the production settings.
    result = run(
        sys.executable, "manage.py", "check", "--deploy", "--tag", "security", env=env
    )
    assert result.returncode == 0, result.stderr
    found = set(re.findall(r"\((\w+\.[EW]\d+)\)", result.stdout + result.stderr))
    assert found <= ACCEPTED_DEPLOY_WARNINGS, result.stdout + result.stderr
