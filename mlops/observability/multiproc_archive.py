"""Fold a dead gunicorn worker's prometheus-client files into one archive file.

In multiprocess mode every worker writes its own `counter_<pid>.db`,
`histogram_<pid>.db` and `summary_<pid>.db`. They must outlive the worker (its
counts stay in the totals), but a scrape reads every file, so with worker
recycling (GUNICORN_MAX_REQUESTS) scrape time would grow with every recycle.
`archive_dead_worker` adds a dead worker's values into `<type>_archive.db` (one
file per type, written only by the gunicorn master, in `child_exit`) and removes
its files: the totals are unchanged, the file count stays bounded.

Counters, histogram buckets/sums and summary counts/sums are stored as plain
per-process values that the collector sums, so adding them is exact. Gauges in
the modes the collector combines across processes (mostrecent, max, min, sum)
fold into `gauge_<mode>_archive.db` the same way the collector combines them;
live modes are `mark_process_dead`'s, and mode `all` stays per process (its
samples carry the pid).
No Django here: the gunicorn master imports this before any app is loaded.
"""

import os

from prometheus_client.mmap_dict import MmapedDict

SUMMED_TYPES = ("counter", "histogram", "summary")
# Gauge modes whose samples the collector combines across processes (the pid
# label dropped), so one archive value per key keeps the result: how to combine.
GAUGE_MODES = {
    "mostrecent": lambda old, new: new if new[1] >= old[1] else old,
    "max": lambda old, new: new if new[0] > old[0] else old,
    "min": lambda old, new: new if new[0] < old[0] else old,
    "sum": lambda old, new: (old[0] + new[0], max(old[1], new[1])),
}
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
    for mode, combine in GAUGE_MODES.items():
        path = os.path.join(directory, f"gauge_{mode}_{pid}.db")
        if not os.path.exists(path):
            continue
        values = MmapedDict.read_all_values_from_file(path)
        archive = MmapedDict(os.path.join(directory, f"gauge_{mode}_{ARCHIVE}.db"))
        try:
            kept = {key: (value, ts) for key, value, ts in archive.read_all_values()}
            for key, value, timestamp, _pos in values:
                if key in kept:
                    value, timestamp = combine(kept[key], (value, timestamp))
                archive.write_value(key, value, timestamp)
        finally:
            archive.close()
        os.remove(path)
        folded += 1
    return folded
