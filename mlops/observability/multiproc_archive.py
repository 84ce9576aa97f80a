"""Fold a dead gunicorn worker's prometheus-client files into one archive file.

In multiprocess mode every worker writes its own `counter_<pid>.db`,
`histogram_<pid>.db` and `summary_<pid>.db`. They must outlive the worker (its
counts stay in the totals), but a scrape reads every file, so with worker
recycling (GUNICORN_MAX_REQUESTS) scrape time would grow with every recycle.
`archive_dead_worker` adds a dead worker's values into `<type>_archive.db` (one
file per type, written only by the gunicorn master, in `child_exit`) and removes
its files: the totals are unchanged, the file count stays bounded.

Counters, histogram buckets/sums and summary counts/sums are stored as plain
per-process values that the collector sums, so adding them is exact. Gauges are
left to `mark_process_dead` (live modes) or kept per process (other modes).
No Django here: the gunicorn master imports this before any app is loaded.
"""

import os

from prometheus_client.mmap_dict import MmapedDict

SUMMED_TYPES = ("counter", "histogram", "summary")
ARCHIVE = "archive"


def archive_dead_worker(directory: str, pid: int) -> int:
    """Merge the summed files of process `pid` into the archive; return how many
    files were folded in (and removed)."""
    folded = 0
    for kind in SUMMED_TYPES:
        path = os.path.join(directory, f"{kind}_{pid}.db")
        if not os.path.exists(path):
            continue
        values = MmapedDict.read_all_values_from_file(path)
        archive = MmapedDict(os.path.join(directory, f"{kind}_{ARCHIVE}.db"))
        try:
            for key, value, _timestamp, _pos in values:
                current, _ = archive.read_value(key)
                archive.write_value(key, current + value, 0.0)
        finally:
            archive.close()
        os.remove(path)
        folded += 1
    return folded
