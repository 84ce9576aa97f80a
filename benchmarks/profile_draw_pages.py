"""Where a cold page of /api/draws/ spends its time in a deployed worker (py-spy).

Usage, from the project root (needs PostgreSQL, Redis, wrk and py-spy, which may
need root or CAP_SYS_PTRACE):
    STACK_REDIS_URL=redis://127.0.0.1:6379/<db> .venv/bin/python \\
        benchmarks/profile_draw_pages.py [--synthetic 20000] [--seconds 12]

The stack of bench_consumer_api (gunicorn 2 workers, access log on, PostgreSQL,
Redis); --synthetic draws stored; wrk at 2 connections on random cold pages while
py-spy samples one worker. Prints the share of samples under each frame (inclusive),
the top --top frames, then every frame of the draws app. Not a figure for the
docs: a map of where the time goes.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from benchmarks.bench_consumer_api import cold_script  # noqa: E402
from benchmarks.wrkrun import wrk  # noqa: E402
from tests.observability.stack import STACK_REDIS_URL, Stack  # noqa: E402

PY_SPY = PROJECT_ROOT / ".venv" / "bin" / "py-spy"


def inclusive_shares(raw: Path) -> tuple[int, Counter]:
    """py-spy's raw (collapsed) output -> (samples, samples under each frame)."""
    total, under = 0, Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for frame in set(stack.split(";")):
            under[frame] += int(count)
    return total, under


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    if shutil.which("wrk") is None or not PY_SPY.exists():
        print("needs wrk and py-spy", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="lotto-profile-pages-"))
    stack = Stack(
        workdir,
        workers=2,
        env={
            "REDIS_URL": STACK_REDIS_URL,
            "GUNICORN_ACCESS_LOG": "-",
            "GUNICORN_LOG_LEVEL": "info",
        },
    )
    stack.create()
    try:
        stack.start_web()
        stack.wait_healthy()
        result = stack.manage(
            "shell",
            "-c",
            "from benchmarks.bench_consumer_api import add_synthetic_draws; "
            f"add_synthetic_draws({args.synthetic})",
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        for number in range(8):  # both workers read the new history
            stack.get(f"/api/draws/?cold=warm{number}")
        master = stack.processes["web"].pid
        workers = subprocess.run(
            ["pgrep", "-P", str(master)], capture_output=True, text=True
        ).stdout.split()
        script = workdir / "cold.lua"
        script.write_text(cold_script("/api/draws/?", args.synthetic // 20))
        raw = workdir / "py-spy.txt"
        spy = subprocess.Popen(
            [str(PY_SPY), "record", "--pid", workers[0], "--duration",
             str(args.seconds), "--rate", "200", "--format", "raw", "-o", str(raw),
             "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        load = wrk(
            stack.base_url + "/",
            duration=args.seconds,
            connections=2,
            threads=1,
            script=script,
        )
        spy.wait(args.seconds + 30)
        total, under = inclusive_shares(raw)
    finally:
        stack.stop()
        stack.destroy()
    print(
        f"random cold pages of {args.synthetic:,} draws: p50 {load['p50_ms']:.2f} ms, "
        f"{load['requests_per_second']:.0f} req/s; {total} samples of one worker"
    )
    for frame, count in under.most_common(args.top):
        print(f"{100 * count / total:5.1f} %  {frame[:140]}")
    print("\nthe draws app's own frames:")
    for frame, count in under.most_common():
        if "(draws/" in frame:
            print(f"{100 * count / total:5.1f} %  {frame[:140]}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
