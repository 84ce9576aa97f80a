"""A fresh process's /metrics shows every metric family the code defines."""

import re
import subprocess
import sys

from tests.mlops.processes import ROOT, subprocess_env

# prometheus-client metric objects: Counter("name", ...), Gauge(...), Histogram(...).
DEFINITION = re.compile(r"\b(?:Counter|Gauge|Histogram|Summary)\(\s*\"(\w+)\"")
SOURCES = ("draws", "mlops", "recommendations", "lotto_site")

SCRAPE = """
import django
django.setup()
from django.test import Client
response = Client().get("/metrics", HTTP_HOST="localhost")
assert response.status_code == 200, response.status_code
print(response.content.decode())
"""


def defined_metric_names() -> set[str]:
    names = set()
    for package in SOURCES:
        for path in (ROOT / package).rglob("*.py"):
            names.update(DEFINITION.findall(path.read_text()))
    return names


def test_a_fresh_process_exports_every_metric_family_before_any_event(tmp_path):
    names = defined_metric_names()
    assert "ml_self_heal_total" in names  # the one that used to appear late
    done = subprocess.run(
        [sys.executable, "-c", SCRAPE],
        cwd=ROOT,
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    exported = set(re.findall(r"^# TYPE (\w+) ", done.stdout, re.MULTILINE))
    assert names - exported == set()
