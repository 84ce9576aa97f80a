"""wrk, run once, its figures parsed: the one driver every HTTP benchmark uses.

`wrk(url, duration=, connections=, threads=, script=)` runs wrk with the Lua
`done` hook below (write WRK_REPORT_LUA to `script` first) and returns requests,
requests/s, p50/p90/p99/max latency in ms and the errors: wrk's socket errors
(connect, read, write, timeout) plus every non-2xx/3xx answer.
"""

import json
import re
import subprocess
from pathlib import Path

# wrk calls done() once at the end; print one parseable line.
WRK_REPORT_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\"requests\": %d, \"duration_us\": %d, \"connect\": %d, " ..
    "\"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d, " ..
    "\"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"max_us\": %d}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""
ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


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
    match = re.search(r"^WRK_JSON (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "requests_per_second": round(raw["requests"] / seconds, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": sum(raw[k] for k in ERROR_KINDS),
        "error_detail": {k: raw[k] for k in ERROR_KINDS},
        "seconds": round(seconds, 1),
    }
