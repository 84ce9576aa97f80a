"""A dead worker's metric files fold into one archive with the totals kept."""

import os
import subprocess
import sys

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from mlops.observability.multiproc_archive import archive_dead_worker

WORKER = """
from prometheus_client import Counter, Gauge, Histogram, Summary
import os, time
served = Counter("served", "Games served", ["mode"])
latency = Histogram("latency_seconds", "Latency", buckets=(0.1, 1.0))
sizes = Summary("sizes", "Sizes")
for value in (0.05, 0.5, 5.0):
    served.labels(mode="ml").inc()
    latency.observe(value)
    sizes.observe(value)
served.labels(mode="statistical").inc(2)
Gauge("last_seen", "Latest", multiprocess_mode="mostrecent").set(time.time())
Gauge("peak", "Largest", multiprocess_mode="max").set(os.getpid())
print(os.getpid())
"""


def run_worker(directory) -> int:
    result = subprocess.run(
        [sys.executable, "-c", WORKER],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip())


def totals(directory) -> dict:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
    }


def test_it_keeps_the_totals_of_dead_workers_in_one_archive_file(tmp_path):
    pids = [run_worker(tmp_path) for _ in range(4)]
    before = totals(tmp_path)

    folded = [archive_dead_worker(str(tmp_path), pid) for pid in pids]

    assert folded == [5, 5, 5, 5]
    assert sorted(os.listdir(tmp_path)) == [
        "counter_archive.db",
        "gauge_max_archive.db",
        "gauge_mostrecent_archive.db",
        "histogram_archive.db",
        "summary_archive.db",
    ]
    assert totals(tmp_path) == before
    assert before[("served_total", (("mode", "ml"),))] == 12
    assert before[("latency_seconds_bucket", (("le", "1.0"),))] == 8
    assert before[("peak", ())] == max(pids)


def test_it_adds_a_live_workers_counts_to_the_archived_ones(tmp_path):
    archive_dead_worker(str(tmp_path), run_worker(tmp_path))
    run_worker(tmp_path)  # still "alive": its own files stay

    figures = totals(tmp_path)

    assert figures[("served_total", (("mode", "statistical"),))] == 4
    assert figures[("sizes_count", ())] == 6


def test_it_does_nothing_for_a_worker_without_files(tmp_path):
    assert archive_dead_worker(str(tmp_path), 999999) == 0
    assert os.listdir(tmp_path) == []
