"""gunicorn settings for lotto-mlops: `gunicorn -c deploy/gunicorn.conf.py`.

Every knob reads the environment, so docker-compose, the process test and the
load benchmark run the same file.

Metrics: each worker is its own process, so prometheus-client runs in
multiprocess mode. PROMETHEUS_MULTIPROC_DIR must be in the environment before a
worker imports prometheus_client; this file sets it in the master, before the
fork. The directory is emptied when the master starts (a restart begins from
zero, like a single process would), and `child_exit` marks a dead worker so its
live gauges go; its counters stay in the sum, as they should, folded into one
archive file per type (mlops/observability/multiproc_archive.py).
"""

import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# Recycle workers now and then (0 = never); dead workers' counters are kept.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Workers inherit the master's environment at fork; without a directory from the
# environment, use a private one and remove it on exit.
_own_multiproc_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_multiproc_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="lotto-prom-")


def on_starting(server):
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def post_worker_init(worker):
    # Django is set up (the app is loaded), no request accepted yet: put the
    # active model in this host's read cache now and keep it current, so no
    # request downloads a model (model files on S3 only; see prefetch.py).
    from mlops.services.registry.prefetch import model_prefetch_start

    model_prefetch_start()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    from mlops.observability.multiproc_archive import archive_dead_worker

    multiprocess.mark_process_dead(worker.pid)
    # Fold its counters/histograms into one archive file: totals kept, and a
    # scrape reads a bounded number of files however often workers recycle.
    archive_dead_worker(os.environ["PROMETHEUS_MULTIPROC_DIR"], worker.pid)


def on_exit(server):
    if _own_multiproc_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
