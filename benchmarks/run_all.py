"""Run every benchmark whose figures appear in the docs, save their output under
benchmarks/results/, and regenerate the figures block of docs/BENCHMARKS.md.

Usage, from the project root (needs PostgreSQL, Redis and wrk, like the
benchmarks themselves):
    benchmarks/run_all [--quick] [--only NAME ...] [--no-docs]

--quick  a smoke run: few rounds, short wrk runs, a small synthetic history;
         results go to benchmarks/results/quick/ and the docs are left alone
         (pass --docs to render them anyway, marked as a quick run).
--only   run only these benchmarks (names below); the docs are rendered from
         every result file present.

Each benchmark's stdout+stderr is kept as results/<name>.txt. Benchmarks that
write JSON themselves (--save) write results/<name>.json; for the others
results/<name>.json holds the command, exit code, load average and the printed
figures. The Redis db of the stack benchmarks comes from STACK_REDIS_URL (or
Q_REDIS_TEST_URL); nothing is flushed.
"""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.render_figures import render  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
RESULTS = ROOT / "benchmarks" / "results"

# name: (full arguments, quick arguments, writes its own JSON via --save)
BENCHMARKS = {
    "bench_serving": (
        [],
        ["--rounds", "2", "--seconds", "2", "--scrapes", "10"]
        + ["--retrain-seconds", "8", "--real-recycles", "4"],
        True,
    ),
    "bench_anchors": (
        [],
        ["--runs", "1", "--calls", "5"],
        True,
    ),
    "bench_growth": ([], ["--synthetic", "3000"], True),
    "bench_ml_engine": ([], ["--runs", "1", "--predict-calls", "100"], False),
    "bench_api": ([], ["--runs", "1"], False),
    "bench_statistics": (
        [],
        ["--runs", "1", "--repeat", "3", "--requests", "50"],
        False,
    ),
    "bench_consumer_api": (
        [],
        ["--rounds", "1", "--seconds", "1", "--synthetic", "3000"],
        True,
    ),
    "bench_tuning": ([], ["--splits", "2"], False),
    "bench_warm_start": ([], ["--seeds", "1", "--new", "1"], False),
    # Bounded: about two minutes on a quiet 2-CPU machine (setup ~40 s,
    # 3 x 2 x 8 s of wrk, 7 cold loads, 2 retrains).
    "bench_scaleout": (
        ["--rounds", "3", "--duration", "8", "--loads", "7", "--retrains", "2"],
        ["--rounds", "1", "--duration", "2", "--loads", "3", "--retrains", "1"],
        True,
    ),
}


def run_one(name: str, quick: bool, out: Path) -> int:
    full_args, quick_args, saves = BENCHMARKS[name]
    command = [PYTHON, f"benchmarks/{name}.py", *(quick_args if quick else full_args)]
    if saves:
        command += ["--save", os.path.relpath(out / f"{name}.json", ROOT)]
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    load_start = os.getloadavg()
    started = time.monotonic()
    with (out / f"{name}.txt").open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        for line in process.stdout:
            sys.stdout.write(line)
            log.write(line)
            lines.append(line)
        code = process.wait()
    record = {
        "name": name,
        "command": " ".join([".venv/bin/python", *command[1:]]),
        "exit_code": code,
        "quick": quick,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "load_average_at_start": load_start,
        "load_average_at_end": os.getloadavg(),
    }
    path = out / f"{name}.json"
    if saves and path.exists() and code in (0, 1):
        data = json.loads(path.read_text())
        data["run"] = record
        path.write_text(json.dumps(data, indent=2) + "\n")
    else:
        path.write_text(
            json.dumps(record | {"stdout": "".join(lines)}, indent=2) + "\n"
        )
    print(f"=== {name}: exit {code} in {record['seconds']} s", flush=True)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS))
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument("--docs", action="store_true", help="render docs on --quick")
    args = parser.parse_args()
    out = RESULTS / "quick" if args.quick else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    codes = {name: run_one(name, args.quick, out) for name in args.only or BENCHMARKS}
    print(f"\nrun_all: {(time.monotonic() - started) / 60:.1f} min in all")
    if not args.no_docs and (not args.quick or args.docs):
        path = render(out)
        print(f"\nRegenerated the figures block of {path.relative_to(ROOT)}")
    print("\nexit codes: " + ", ".join(f"{n} {c}" for n, c in codes.items()))
    # 1 = a target missed (the figures are still written); 2+ = could not measure.
    return max(codes.values(), default=0)


if __name__ == "__main__":
    sys.exit(main())
