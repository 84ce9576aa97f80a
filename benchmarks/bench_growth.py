"""Growth: a retrain on 20,000 draws, with and without the training window.

Usage, from the project root:
    .venv/bin/python benchmarks/bench_growth.py [--synthetic 20000] [--save PATH]

The history: --synthetic uniform random draws (seed 0), what a long history looks
like to the model (real draws are random too). The deployed parameters
(pipeline.DEFAULT_PARAMS: 100 trees, min_samples_leaf 50, training_window 2,000 =
settings.ML_TRAINING_WINDOW's default).

- the retrain through the training service, as deployed: a throw-away site (SQLite
  in a temp dir, tables from the models) holding the same draws,
  `model_version_train()` with the settings' parameters: reading the history,
  train_and_validate, saving and registering the model, activating it;
- windowed: train_and_validate's validation fit (the 2,000 rows before the last
  200 draws), its time and size, and its forecasts of the last 200 draws;
- unwindowed: the same validation fit on every row before the last 200 draws
  (19,750 rows; the issue's 71 s / 11.8 MB), scored on the same 200 draws. Its
  final fit on all rows would cost as much again: left out to keep the run within
  about three minutes.

Quality on the last 200 draws, both sides with their exact chance baselines
(mlops.ml.metrics.evaluate_forecasts: the Brier score against the chance value of
those very forecasts; the any-hit rate of each forecast's top six against
1 - C(39,6)/C(45,6)) and the verdict, and the two sides against each other on the
same draws: the paired per-draw Brier difference with a 95 % bootstrap interval,
and the draws where exactly one side had a hit (exact two-sided sign test).
Draws are random, so "no evidence of skill" is the expected verdict for both;
"no worse" means the windowed side is not significantly worse than the other.

Targets (issue 17, item 4): the service's retrain < 30 s, model < 20 MB, and quality
not worse than unwindowed. Exit 0 all met, 1 one missed.
"""

import argparse
import datetime as dt
import json
import math
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from mlops.ml import features, metrics, pipeline  # noqa: E402

TARGET_SECONDS = 30.0
TARGET_MB = 20.0
BOOTSTRAP = 10_000


def synthetic_draws(count: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.array(
        [np.sort(rng.choice(45, 6, replace=False) + 1) for _ in range(count)]
    )


class DisableMigrations(dict):
    """Tables straight from the models, as the tests build them."""

    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


def service_retrain(draws: np.ndarray, workdir: Path) -> dict:
    """model_version_train() on a throw-away site holding `draws`."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="lotto_site.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        VAR_DIR=str(workdir),
        MODEL_ROOT=str(workdir / "models"),
        LOG_LEVEL="ERROR",
    )
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "Q_REDIS_URL",
        "PROMETHEUS_MULTIPROC_DIR",
    ):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from draws.models import LottoDraw, expected_draw_date
    from mlops.services.training.training import model_version_train

    settings.MIGRATION_MODULES = DisableMigrations()
    call_command("migrate", run_syncdb=True, verbosity=0)
    call_command("createcachetable", verbosity=0)
    now = timezone.now()
    rows = []
    for index, numbers in enumerate(draws.tolist()):
        bonus = next(n for n in range(1, 46) if n not in numbers)
        rows.append(
            LottoDraw(
                draw_no=index + 1,
                draw_date=expected_draw_date(index + 1),
                bonus=bonus,
                source="benchmark",
                updated_at=now,
                **{f"n{i}": n for i, n in enumerate(numbers, start=1)},
            )
        )
    LottoDraw.objects.bulk_create(rows, batch_size=2000)
    started = time.perf_counter()
    version = model_version_train()
    seconds = time.perf_counter() - started
    return {
        "retrain_seconds": round(seconds, 2),
        "model_mb": round(version.size_bytes / 1e6, 2),
        "draws": LottoDraw.objects.count(),
        "params": version.hyperparameters,
    }


def quality(model, X, draws, validation_rows) -> tuple[dict, np.ndarray, np.ndarray]:
    """evaluate_forecasts' figures, plus per-draw Brier scores and hit flags."""
    forecasts = pipeline.predict_probabilities(model, X[validation_rows])
    actual = draws[features.MIN_HISTORY :][validation_rows]
    figures = metrics.evaluate_forecasts(forecasts, actual)
    briers = np.array(
        [metrics.brier_score(p, a) for p, a in zip(forecasts, actual, strict=True)]
    )
    any_hit = np.array(
        [
            metrics.hits(metrics.top_numbers(p), a) >= 1
            for p, a in zip(forecasts, actual, strict=True)
        ]
    )
    return figures, briers, any_hit


def side(figures: dict) -> dict:
    brier, hit = figures["brier_score"], figures["any_hit_rate"]
    return {
        "brier": {
            "value": brier["value"],
            "chance_value": brier["chance_value"],
            "uniform": brier["baseline"],
            "interval": brier["interval"],
            "verdict_code": brier["verdict_code"],
            "verdict": brier["verdict"],
        },
        "any_hit": {
            "value": hit["value"],
            "baseline": hit["baseline"],
            "interval": hit["interval"],
            "verdict_code": hit["verdict_code"],
            "verdict": hit["verdict"],
        },
        "sample_size": figures["sample_size"],
    }


def paired(windowed: tuple, unwindowed: tuple) -> dict:
    """Windowed minus unwindowed on the same draws (lower Brier is better)."""
    difference = windowed[0] - unwindowed[0]
    rng = np.random.default_rng(1)
    picks = rng.integers(0, len(difference), size=(BOOTSTRAP, len(difference)))
    means = difference[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    only_windowed = int((windowed[1] & ~unwindowed[1]).sum())
    only_unwindowed = int((unwindowed[1] & ~windowed[1]).sum())
    discordant = only_windowed + only_unwindowed
    tail = sum(
        math.comb(discordant, k) for k in range(min(only_windowed, only_unwindowed) + 1)
    )
    p_value = min(1.0, 2 * tail / 2**discordant) if discordant else 1.0
    worse = low > 0 or (only_unwindowed > only_windowed and p_value < 0.05)
    return {
        "brier_difference": float(difference.mean()),
        "brier_difference_interval": [float(low), float(high)],
        "any_hit_only_windowed": only_windowed,
        "any_hit_only_unwindowed": only_unwindowed,
        "any_hit_sign_test_p": p_value,
        "windowed_worse": bool(worse),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=20_000)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
        "synthetic_draws": args.synthetic,
        "params": dict(pipeline.DEFAULT_PARAMS),
    }
    draws = synthetic_draws(args.synthetic)
    print(
        f"Growth: {args.synthetic:,} synthetic uniform draws (seed 0), deployed "
        f"params (training_window {pipeline.DEFAULT_PARAMS['training_window']})"
    )
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp:
        report["service"] = service = service_retrain(draws, Path(tmp))
    print(
        f"  service    model_version_train() on {service['draws']:,} stored draws: "
        f"{service['retrain_seconds']:.1f} s, model {service['model_mb']:.2f} MB (read, "
        "validate, fit, save, register, activate; training_window "
        f"{service['params'].get('training_window')})"
    )

    X, Y = features.training_rows(draws)
    train_rows, validation_rows = pipeline.time_ordered_split(
        len(X), pipeline.VALIDATION_DRAWS
    )
    # train_and_validate's validation fit: the window's rows before the last 200.
    window_rows = pipeline.recent_rows(
        train_rows, pipeline.DEFAULT_PARAMS["training_window"]
    )
    started = time.perf_counter()
    validation_model = pipeline.build_model(**pipeline.DEFAULT_PARAMS)
    validation_model.fit(X[window_rows], Y[window_rows])
    fit_seconds = time.perf_counter() - started
    size = len(pipeline.save_model_bytes(validation_model))
    windowed = quality(validation_model, X, draws, validation_rows)
    report["windowed"] = {
        "validation_fit_seconds": round(fit_seconds, 2),
        "model_mb": round(size / 1e6, 2),
        "rows_fitted": int(len(window_rows)),
        "quality": side(windowed[0]),
    }
    print(
        f"  windowed   validation fit {fit_seconds:6.1f} s, model {size / 1e6:.2f} MB, "
        f"rows fitted {len(window_rows):,}"
    )

    params = {**pipeline.DEFAULT_PARAMS, "training_window": None}
    started = time.perf_counter()
    full_model = pipeline.build_model(**params).fit(X[train_rows], Y[train_rows])
    fit_seconds = time.perf_counter() - started
    full_size = len(pipeline.save_model_bytes(full_model))
    unwindowed = quality(full_model, X, draws, validation_rows)
    report["unwindowed"] = {
        "validation_fit_seconds": round(fit_seconds, 2),
        "model_mb": round(full_size / 1e6, 2),
        "rows_fitted": int(len(train_rows)),
        "quality": side(unwindowed[0]),
    }
    print(
        f"  unwindowed validation fit {fit_seconds:6.1f} s, model {full_size / 1e6:.2f} MB, "
        f"rows fitted {len(train_rows):,} (its final fit would cost as much again)"
    )

    report["comparison"] = comparison = paired(windowed[1:], unwindowed[1:])
    print(
        f"\nQuality on the last {len(validation_rows)} draws (same draws both sides):"
    )
    for name in ("windowed", "unwindowed"):
        q = report[name]["quality"]
        b, h = q["brier"], q["any_hit"]
        print(
            f"  {name:<10} Brier {b['value']:.5f} (chance {b['chance_value']:.5f}, "
            f"uniform {b['uniform']:.5f}): {b['verdict']}; any-hit {h['value']:.3f} "
            f"(chance {h['baseline']:.3f}): {h['verdict']}"
        )
    low, high = comparison["brier_difference_interval"]
    print(
        f"  windowed - unwindowed: Brier {comparison['brier_difference']:+.5f} "
        f"[{low:+.5f}, {high:+.5f}] (95 % bootstrap); any-hit on {comparison['any_hit_only_windowed']}"
        f" draws only windowed, {comparison['any_hit_only_unwindowed']} only unwindowed "
        f"(sign test p={comparison['any_hit_sign_test_p']:.2f})"
    )
    verdicts = {
        "retrain_seconds": service["retrain_seconds"] < TARGET_SECONDS,
        "model_mb": service["model_mb"] < TARGET_MB,
        "quality_not_worse": not comparison["windowed_worse"],
    }
    report["targets"] = verdicts
    print(
        f"targets: service retrain {service['retrain_seconds']:.1f} s < {TARGET_SECONDS:.0f} s "
        f"{'met' if verdicts['retrain_seconds'] else 'MISSED'}; model "
        f"{service['model_mb']:.2f} MB < {TARGET_MB:.0f} MB "
        f"{'met' if verdicts['model_mb'] else 'MISSED'}; quality no worse than "
        f"unwindowed {'met' if verdicts['quality_not_worse'] else 'MISSED'}"
    )
    report["load_average_at_end"] = os.getloadavg()
    print(
        f"load average: start {report['load_average_at_start'][0]:.2f}, "
        f"end {report['load_average_at_end'][0]:.2f} ({os.cpu_count()} CPUs)"
    )
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(report, indent=2, default=float) + "\n")
        print(f"Saved {args.save}")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
