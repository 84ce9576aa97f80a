"""Benchmark the pure ML engine on the full shipped draw history (no Django).

Usage, from the project root:
    .venv/bin/python benchmarks/bench_ml_engine.py [--csv PATH] [--runs 5] [--sweep]

Each figure is the median of ``--runs`` runs. Training time and peak memory are
measured in a fresh child process per run: peak memory is that process's RSS
high-water mark (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), so it includes
the interpreter, NumPy and scikit-learn themselves, an upper bound on what
training adds. The default model is compared with a fully grown forest
(min_samples_leaf=1, no depth limit, dumped without compression).
"""

import argparse
import csv
import io
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import joblib
import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from mlops.ml import features, pipeline  # noqa: E402

SHIPPED_CSV = PROJECT_ROOT / "draws/data/lotto645_draws.csv"
SHARED_CSV = Path("/work/shared/data/lotto645_draws.csv")
FULLY_GROWN = {"min_samples_leaf": 1, "max_depth": None}
SWEEP_LEAF_SIZES = (1, 5, 10, 20, 50, 100, 200)
MIB = 1024 * 1024

TARGETS = {  # name: (limit, unit, scale from the measured unit)
    "feature matrix": (0.5, "s", 1),
    "training (validation fit + refit)": (30, "s", 1),
    "training peak RSS": (1024, "MiB", 1 / MIB),
    "predict one row p50": (5, "ms", 1000),
    "predict one row p95": (None, "ms", 1000),
    "model file (joblib bytes)": (20, "MB", 1e-6),
    "model load": (200, "ms", 1000),
}


def read_draws(path: Path) -> np.ndarray:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return np.array([[int(row[f"n{k}"]) for k in range(1, 7)] for row in rows])


def child_train(csv_path: str, params_json: str) -> None:
    """Run one training in this process and print its duration and peak RSS."""
    draws = read_draws(Path(csv_path))
    started = time.perf_counter()
    pipeline.train_and_validate(draws, params=json.loads(params_json))
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_bytes": peak_kib * 1024}))


def train_in_children(csv_path: Path, params: dict, runs: int) -> tuple[float, float]:
    """Median training seconds and median peak RSS bytes over fresh processes."""
    results = []
    for _ in range(runs):
        command = [sys.executable, __file__, "--child-train", str(csv_path)]
        output = subprocess.run(
            [*command, json.dumps(params)], check=True, capture_output=True, text=True
        ).stdout
        results.append(json.loads(output))
    return (
        statistics.median(result["seconds"] for result in results),
        statistics.median(result["peak_bytes"] for result in results),
    )


def median_seconds(action, runs: int) -> float:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def predict_percentiles(model, row: np.ndarray, calls: int, runs: int):
    """Median over runs of the p50 and p95 of single-row predictions."""
    pipeline.predict_probabilities(model, row)  # warm-up
    p50s, p95s = [], []
    for _ in range(runs):
        durations = []
        for _ in range(calls):
            started = time.perf_counter()
            pipeline.predict_probabilities(model, row)
            durations.append(time.perf_counter() - started)
        p50, p95 = np.percentile(durations, [50, 95])
        p50s.append(p50)
        p95s.append(p95)
    return statistics.median(p50s), statistics.median(p95s)


def dump_bytes(model, compress) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=compress)
    return buffer.getvalue()


def measure_model(draws, csv_path, params, compress, args) -> dict:
    """Every figure of one configuration, trained once more in-process."""
    training_seconds, peak_bytes = train_in_children(csv_path, params, args.runs)
    model, validation, _ = pipeline.train_and_validate(draws, params=params)
    data = dump_bytes(model, compress)
    forecast_row = features.build_feature_matrix(draws)[-1]
    p50, p95 = predict_percentiles(model, forecast_row, args.predict_calls, args.runs)
    return {
        "training (validation fit + refit)": training_seconds,
        "training peak RSS": peak_bytes,
        "predict one row p50": p50,
        "predict one row p95": p95,
        "model file (joblib bytes)": len(data),
        "model load": median_seconds(
            lambda: pipeline.load_model_bytes(data), args.runs
        ),
        "validation": validation,
    }


def format_value(name: str, value: float) -> str:
    _, unit, scale = TARGETS[name]
    return (
        f"{value * scale:,.3f} {unit}" if unit != "MiB" else f"{value * scale:,.0f} MiB"
    )


def status(name: str, value: float) -> str:
    limit, unit, scale = TARGETS[name]
    if limit is None:
        return ""
    return "PASS" if value * scale < limit else "FAIL"


def skill_line(label: str, validation: dict) -> str:
    hits, skill = validation["mean_hits"], validation["brier_skill_score"]
    any_hit = validation["any_hit_rate"]
    return (
        f"  {label:<13} mean hits {hits['value']:.3f} "
        f"[{hits['interval'][0]:.3f}, {hits['interval'][1]:.3f}] "
        f"vs {hits['baseline']:.3f} p={hits['p_value']:.2f} ({hits['verdict']}); "
        f"any-hit {any_hit['value']:.3f} vs {any_hit['baseline']:.4f} "
        f"({any_hit['verdict']}); Brier skill {skill['value']:+.4f} "
        f"[{skill['interval'][0]:+.4f}, {skill['interval'][1]:+.4f}] "
        f"({skill['verdict']})"
    )


def print_report(draws, feature_seconds, default, grown, args) -> None:
    print(
        f"ML engine benchmark: {len(draws)} draws from {args.csv}, "
        f"median of {args.runs} runs, feature set {features.FEATURE_SET_VERSION}"
    )
    print(f"default params: {pipeline.DEFAULT_PARAMS}, compress={pipeline.COMPRESSION}")
    print(f"fully grown: default params with {FULLY_GROWN}, compress=0\n")
    header = f"{'figure':<36}{'target':>10}{'default':>16}{'':>6}{'fully grown':>16}"
    print(header)
    print("-" * len(header))
    name = "feature matrix"
    print(
        f"{name:<36}{'< 0.5 s':>10}{format_value(name, feature_seconds):>16}"
        f"{status(name, feature_seconds):>6}"
    )
    for name in list(TARGETS)[1:]:
        limit, unit, _ = TARGETS[name]
        target = f"< {limit:g} {unit}" if limit is not None else "-"
        print(
            f"{name:<36}{target:>10}{format_value(name, default[name]):>16}"
            f"{status(name, default[name]):>6}{format_value(name, grown[name]):>16}"
            f" {status(name, grown[name])}".rstrip()
        )
    sample = default["validation"]["sample_size"]
    print(f"\nvalidation on the last {sample} draws (95% intervals, one-sided p):")
    print(skill_line("default", default["validation"]))
    print(skill_line("fully grown", grown["validation"]))


def print_sweep(draws) -> None:
    print("\nmin_samples_leaf sweep (default params otherwise, validation skill):")
    for leaf in SWEEP_LEAF_SIZES:
        model, validation, info = pipeline.train_and_validate(
            draws, params={"min_samples_leaf": leaf}
        )
        size = len(pipeline.save_model_bytes(model))
        print(
            skill_line(f"leaf {leaf:>3}", validation)
            + f"; {size / 1e6:.2f} MB; {info['training_seconds']:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_csv = SHIPPED_CSV if SHIPPED_CSV.exists() else SHARED_CSV
    parser.add_argument("--csv", type=Path, default=default_csv)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--predict-calls", type=int, default=1000)
    parser.add_argument("--sweep", action="store_true", help="also sweep leaf sizes")
    args = parser.parse_args()

    draws = read_draws(args.csv)
    feature_seconds = median_seconds(
        lambda: features.build_feature_matrix(draws), args.runs
    )
    default_params = dict(pipeline.DEFAULT_PARAMS)
    grown_params = {**default_params, **FULLY_GROWN}
    default = measure_model(draws, args.csv, default_params, pipeline.COMPRESSION, args)
    grown = measure_model(draws, args.csv, grown_params, 0, args)
    print_report(draws, feature_seconds, default, grown, args)
    if args.sweep:
        print_sweep(draws)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child-train":
        child_train(sys.argv[2], sys.argv[3])
    else:
        main()
