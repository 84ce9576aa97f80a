"""Benchmark inference on the served path: predict and the cold forecast.

Usage, from the project root (one command, nothing to set up):
    .venv/bin/python benchmarks/bench_api.py [--runs 5]

It builds a throw-away site in a temp directory: a fresh SQLite database (tables
created straight from the models, as the tests do, so pending migrations don't
matter) and a fresh MODEL_ROOT; imports the shipped 1,220 draws; trains the
default model (settings' hyper-parameters) through the training service; then
measures, each figure the median over --runs runs:

* predict_probabilities for the forecast row (p50/p95 of 200 calls per run);
* the cold forecast: first computation in a fresh process (history read,
  features, checksum, unpickle, predict, recording the official forecast), and
  after a new draw (the model already in memory).

The served HTTP path (GET /api/recommendations/ against the /api/ping/ floor and
/healthz, as deployed under gunicorn) is bench_serving.py's.
`--database-url postgres://...` runs against an EMPTY scratch database instead
of SQLite (refused if it already holds draws tables).
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))


def configure(workdir: Path, database_url: str | None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "lotto_site.settings"
    # Production settings (DEBUG off) refuse to start without a real key.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ["VAR_DIR"] = str(workdir)
    os.environ["MODEL_ROOT"] = str(workdir / "models")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


class DisableMigrations(dict):
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


def build_site() -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if "lotto_draws" in connection.introspection.table_names():
        sys.exit("Refusing: the database already holds lotto_draws; use an empty one.")
    settings.MIGRATION_MODULES = DisableMigrations()
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("import_draws", verbosity=0, stdout=open(os.devnull, "w"))


def percentiles(durations) -> tuple[float, float]:
    p50, p95 = np.percentile(durations, [50, 95])
    return float(p50), float(p95)


def bench_predict(version, runs: int) -> tuple[float, float]:
    from mlops.ml import features, pipeline
    from mlops.services.registry.registry import model_version_load
    from mlops.services.training.training import training_history

    model = model_version_load(version)
    row = features.build_feature_matrix(training_history()[1])[-1]
    p50s, p95s = [], []
    for _ in range(runs):
        durations = []
        for _ in range(200):
            started = time.perf_counter()
            pipeline.predict_probabilities(model, row)
            durations.append(time.perf_counter() - started)
        p50, p95 = percentiles(durations)
        p50s.append(p50)
        p95s.append(p95)
    return statistics.median(p50s), statistics.median(p95s)


def bench_cold_forecast(runs: int) -> tuple[float, float]:
    """(fresh process incl. unpickling, after a new draw with the model in memory)."""
    from recommendations.services.forecast_cache import (
        forecast_cache_clear,
        forecast_cache_invalidate,
    )
    from recommendations.services.inference import forecast_current

    fresh, invalidated = [], []
    for _ in range(runs):
        forecast_cache_clear()
        started = time.perf_counter()
        forecast_current()
        fresh.append(time.perf_counter() - started)
        forecast_cache_invalidate()
        started = time.perf_counter()
        forecast_current()
        invalidated.append(time.perf_counter() - started)
    return statistics.median(fresh), statistics.median(invalidated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="an EMPTY scratch database")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lotto-bench-api-") as workdir:
        configure(Path(workdir), args.database_url)
        from django.conf import settings
        from django.db import connection

        from mlops.services.training.training import model_version_train

        build_site()
        started = time.perf_counter()
        version = model_version_train()
        train_seconds = time.perf_counter() - started

        predict = bench_predict(version, args.runs)
        cold = bench_cold_forecast(args.runs)
        from recommendations.services.served_counts import forecast_served_flush

        forecast_served_flush()  # while the temp database still exists
        connection.close()

        print(
            f"bench_api: {version.draw_count} draws, model {version.version} "
            f"({version.hyperparameters['n_estimators']} trees, "
            f"{version.size_bytes / 1e6:.2f} MB, trained in {train_seconds:.2f} s), "
            f"database {connection.vendor}, ML_ACTIVE_CHECK_SECONDS="
            f"{settings.ML_ACTIVE_CHECK_SECONDS}, median of {args.runs} runs"
        )
        print(f"{'figure':<48}{'p50':>10}{'p95':>10}")
        print("-" * 68)
        print(
            f"{'predict_probabilities, forecast row':<48}"
            f"{predict[0] * 1e3:>8.3f}ms{predict[1] * 1e3:>8.3f}ms   (target p50 < 5 ms)"
        )
        print(
            f"{'cold forecast, fresh process (incl. load)':<48}{cold[0] * 1e3:>8.2f}ms"
        )
        print(f"{'cold forecast, after a new draw':<48}{cold[1] * 1e3:>8.2f}ms")


if __name__ == "__main__":
    main()
