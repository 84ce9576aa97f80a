"""Anchors: the models compared through the same code path.

Usage, from the project root:
    .venv/bin/python benchmarks/bench_anchors.py [--runs 5] [--calls 50] [--save PATH]

Anchors (the shipped history, the same training rows for each):
- the original: MultiOutputClassifier(RandomForestClassifier(100)) over 45 outputs,
  fit, and predict through scikit-learn's predict_proba;
- a fully grown multi-label RandomForestClassifier(100) (min_samples_leaf=1),
  predict through predict_proba;
- ours (pipeline.DEFAULT_PARAMS) through predict_proba AND through our tree-summing
  pipeline.predict_probabilities, so the model comparison is of models, not code
  paths. Fit time is the median of --runs fits; a predict figure is the median over
  --runs runs of the median of --calls single-row calls.

Growth (the training window on 20,000 draws) is benchmarks/bench_growth.py.
"""

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

from sklearn.ensemble import RandomForestClassifier
from sklearn.multioutput import MultiOutputClassifier

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.bench_ml_engine import SHIPPED_CSV, dump_bytes, read_draws  # noqa: E402
from mlops.ml import features, pipeline  # noqa: E402


def spread(values) -> dict:
    values = list(values)
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def fit_times(make, X, Y, runs) -> tuple[object, dict]:
    durations, model = [], None
    for _ in range(runs):
        model = make()
        durations.append(timed(lambda m=model: m.fit(X, Y)))
    return model, spread(durations)


def predict_ms(predict, row, runs, calls) -> dict:
    predict(row)  # warm-up
    medians = []
    for _ in range(runs):
        medians.append(
            statistics.median(timed(lambda: predict(row)) for _ in range(calls)) * 1000
        )
    return spread(medians)


def proba(model):
    return lambda row: model.predict_proba(row)


def anchors(args) -> dict:
    draws = read_draws(args.csv)
    X, Y = features.training_rows(draws)
    row = features.build_feature_matrix(draws)[-1:]
    ours_params = {k: v for k, v in pipeline.DEFAULT_PARAMS.items()}
    result = {"draws": len(draws), "rows": len(X)}

    original, fit = fit_times(
        lambda: MultiOutputClassifier(
            RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)
        ),
        X, Y, max(1, args.runs // 2),
    )  # fmt: skip
    result["original_multioutput"] = {
        "fit_s": fit,
        "predict_proba_ms": predict_ms(
            proba(original), row, args.runs, args.calls // 5 or 1
        ),
        "model_bytes": len(dump_bytes(original, pipeline.COMPRESSION)),
    }
    grown, fit = fit_times(
        lambda: pipeline.build_model(**{**ours_params, "min_samples_leaf": 1}),
        X, Y, args.runs,
    )  # fmt: skip
    result["fully_grown"] = {
        "fit_s": fit,
        "predict_proba_ms": predict_ms(proba(grown), row, args.runs, args.calls),
        "tree_sum_ms": predict_ms(
            lambda r: pipeline.predict_probabilities(grown, r),
            row,
            args.runs,
            args.calls,
        ),
    }
    ours, fit = fit_times(lambda: pipeline.build_model(**ours_params), X, Y, args.runs)
    ours.n_jobs = 1
    result["ours"] = {
        "fit_s": fit,
        "predict_proba_ms": predict_ms(proba(ours), row, args.runs, args.calls),
        "tree_sum_ms": predict_ms(
            lambda r: pipeline.predict_probabilities(ours, r),
            row,
            args.runs,
            args.calls,
        ),
        "model_bytes": len(pipeline.save_model_bytes(ours)),
    }
    return result


def fmt(s: dict, unit="ms") -> str:
    return f"{s['median']:.3f} {unit} [{s['min']:.3f}, {s['max']:.3f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=SHIPPED_CSV)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
    }
    print(f"Anchors on {args.csv.name} (median [min, max] of {args.runs} runs)")
    report["anchors"] = a = anchors(args)
    rows = [
        ("original MultiOutput 45 x RF(100): fit", fmt(a["original_multioutput"]["fit_s"], "s")),
        ("  predict_proba, one row", fmt(a["original_multioutput"]["predict_proba_ms"])),
        ("fully grown RF(100): fit", fmt(a["fully_grown"]["fit_s"], "s")),
        ("  predict_proba, one row", fmt(a["fully_grown"]["predict_proba_ms"])),
        ("  tree-summing, one row", fmt(a["fully_grown"]["tree_sum_ms"])),
        ("ours (leaf 50): fit", fmt(a["ours"]["fit_s"], "s")),
        ("  predict_proba, one row", fmt(a["ours"]["predict_proba_ms"])),
        ("  tree-summing, one row", fmt(a["ours"]["tree_sum_ms"])),
    ]  # fmt: skip
    for label, value in rows:
        print(f"  {label:<42} {value}")
    report["load_average_at_end"] = os.getloadavg()
    print(
        f"load average: start {report['load_average_at_start'][0]:.2f}, "
        f"end {report['load_average_at_end'][0]:.2f} ({os.cpu_count()} CPUs)"
    )
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(report, indent=2, default=float) + "\n")
        print(f"Saved {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
