"""wrk, run once, its figures parsed: the one driver every HTTP benchmark uses.

`wrk(url, duration=, connections=, threads=, script=)` runs wrk with the Lua
`done` hook of tests/harness.py, the one the two-host test reads too (write
WRK_REPORT_LUA to `script` first), and returns requests,
requests/s, p50/p90/p99/max latency in ms and the errors: wrk's socket errors
(connect, read, write, timeout) plus every non-2xx/3xx answer.
"""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness import WRK_REPORT_LUA, wrk_report  # noqa: E402, F401 (re-exported)


def wrk(url: str, *, duration: int, connections: int, threads: int, script: Path):
    """Run wrk and return its figures (ms, requests/s, errors)."""
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(script),
            url,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=duration + 60,
    )
    report = wrk_report(result.stdout, result.stderr, result.returncode)
    # Benchmarks print and save these: one decimal is what they can tell apart.
    report["requests_per_second"] = round(report["requests_per_second"], 1)
    report["seconds"] = round(report["seconds"], 1)
    return report
