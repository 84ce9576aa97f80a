"""Two web hosts and a worker that share no disk, on PostgreSQL, Redis and S3.

Each "host" is a process group on this machine with its own empty VAR_DIR and
MODEL_ROOT: two gunicorn servers (one worker each) and one qcluster. They meet
only in a fresh PostgreSQL database, a Redis db and moto's S3 server (real
HTTP). wrk loads both web hosts in 1 s slices throughout, and a poller per host
notes which model version answered every 0.1 s:

1. a retrain on the worker: both hosts serve the new version within 5 s of its
   activation (before the run even records its end), with no failed request;
2. the active model's object is deleted from S3: `verify_models --heal` on the
   worker restores it from the backup bucket while both hosts keep answering;
3. host A is killed (SIGKILL): host B keeps answering every request.
"""

import hashlib
import json
import re
import shutil
import urllib.error

import psycopg2
import pytest
import redis

from tests.dependencies import missing_dependency
from tests.scaleout.hosts import Cluster, Load, VersionPoller, seconds_after

pytestmark = pytest.mark.slow

HOSTS = ("host-a", "host-b")
SERVED_WITHIN_SECONDS = 5.0
# What the worker host runs first: migrate, the shipped draws, a first model
# (activated, and backed up).
PREPARE = (
    "from django.core.management import call_command; "
    "call_command('migrate', interactive=False, verbosity=0); "
    "call_command('import_draws'); call_command('train_model')"
)
# wrk runs in slices this long: a test that stops the load waits for at most one.
SLICE_SECONDS = 1


@pytest.fixture(scope="module")
def cluster(s3_server, tmp_path_factory):
    if shutil.which("wrk") is None:
        missing_dependency("wrk is not installed (apt-get install wrk; see .ci/run)")
    models = s3_server.create_bucket("models")
    backups = s3_server.create_bucket("backups")
    cluster = Cluster(
        tmp_path_factory.mktemp("scaleout"),
        s3_env=s3_server.env(),
        models_url=f"s3://{models}/lotto/models",
        backups_url=f"s3://{backups}/lotto",
        extra_env={"ML_N_ESTIMATORS": "10", "Q_WORKERS": "1"},
    )
    cluster.buckets = {
        "models": (models, "lotto/models"),
        "backups": (backups, "lotto"),
    }
    try:
        cluster.create()
    except (psycopg2.OperationalError, redis.ConnectionError) as exc:
        missing_dependency(f"needs PostgreSQL and Redis on 127.0.0.1: {exc}")
    try:
        cluster.must("worker", "shell", "-c", PREPARE)  # one Django start, not three
        for host in HOSTS:
            cluster.start_web(host, workers=1)
        cluster.start_worker("worker")
        for host in HOSTS:
            cluster.wait_serving(cluster.processes[host])
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            cluster.destroy()


def s3_object(s3_server, cluster, name: str) -> bytes | None:
    bucket, prefix = cluster.buckets["models"]
    try:
        answer = s3_server.client().get_object(Bucket=bucket, Key=f"{prefix}/{name}")
    except s3_server.client().exceptions.NoSuchKey:
        return None
    return answer["Body"].read()


def under_load(cluster, hosts):
    pollers = [VersionPoller(cluster.processes[h]) for h in hosts]
    load = Load([cluster.processes[h] for h in hosts], slice_seconds=SLICE_SECONDS)
    for thread in (*pollers, load):
        thread.start()
    return pollers, load


def model_files_on_host_disks(cluster) -> list:
    """Model files under any host's MODEL_ROOT (there should be none: S3 has them)."""
    return [
        path
        for host in (*HOSTS, "worker")
        for path in (cluster.workdir / host / "models").rglob("*")
        if path.is_file()
    ]


def model_downloads(cluster, host: str) -> dict[str, float]:
    """ml_model_downloads_total by context, from the host's own /metrics."""
    status, body = cluster.processes[host].get("/metrics")
    assert status == 200, body[:200]
    found = re.findall(
        r'^ml_model_downloads_total\{context="(\w+)"\} ([0-9.e+]+)$',
        body.decode(),
        re.MULTILINE,
    )
    return {context: float(value) for context, value in found}


def test_each_host_prefetched_the_model_before_its_first_request(cluster):
    for host in HOSTS:
        counted = model_downloads(cluster, host)
        assert counted["prefetch"] == 1, (host, counted)
        assert counted["request"] == 0, (host, counted)


def test_the_worker_health_check_sees_the_running_cluster(cluster):
    checked = cluster.manage("worker", "check_worker")
    assert checked.returncode == 0, checked.stderr


def test_a_retrain_on_the_worker_reaches_both_hosts_within_5_s_without_a_failure(
    cluster,
):
    before, _, before_sha256 = cluster.active_version()
    pollers, load = under_load(cluster, HOSTS)
    try:
        run_id = cluster.queue_retrain()
        run = cluster.wait_retrain(run_id, timeout=240)
        assert run["status"] == "success", run
        new = run["version"]
        assert new != before
        cluster.wait_all_serving(pollers, new, timeout=30)
    finally:
        totals = load.stop()
        for poller in pollers:
            poller.stop()

    for poller in pollers:
        # From the activation's commit: the run's finished_at comes later still.
        delay = seconds_after(run["activated_at"], poller.first_seen(new))
        assert delay <= SERVED_WITHIN_SECONDS, (poller.process.name, delay)
        assert poller.failures() == []
    for host in HOSTS:
        assert totals[host]["requests"] > 0
        assert totals[host]["errors"] == 0, (host, load.slices[host])
    _, _, sha256 = cluster.active_version()
    assert sha256 != before_sha256  # new bytes: each host has to fetch them
    for host in HOSTS:  # each host downloaded the new model once, into its cache
        assert (cluster.workdir / host / "var" / "model-cache" / sha256).is_file()
        # ... in its prefetch thread, never inside one of the requests
        assert model_downloads(cluster, host) == {
            "request": 0,
            "prefetch": 2,
            "other": 0,
        }
    assert model_files_on_host_disks(cluster) == []


def test_a_deleted_active_object_is_restored_from_the_backup_bucket_while_both_serve(
    cluster, s3_server
):
    version, file_path, sha256 = cluster.active_version()
    bucket, prefix = cluster.buckets["models"]
    pollers, load = under_load(cluster, HOSTS)
    try:
        s3_server.client().delete_object(Bucket=bucket, Key=f"{prefix}/{file_path}")
        assert s3_object(s3_server, cluster, file_path) is None
        healed = cluster.manage("worker", "verify_models", "--heal", "--json")
    finally:
        totals = load.stop()
        for poller in pollers:
            poller.stop()

    assert "restored" in healed.stderr, healed.stderr
    assert json.loads(healed.stdout)["ok"] is True
    assert hashlib.sha256(s3_object(s3_server, cluster, file_path)).hexdigest() == (
        sha256
    )
    assert cluster.active_version() == (version, file_path, sha256)
    outcome = cluster.query(
        "SELECT details->>'outcome' FROM mlops_auditevent WHERE action = 'self_heal'"
    )
    assert outcome == [("restored",)]
    for poller in pollers:
        assert poller.failures() == []
        assert {answer[2] for answer in poller.answers} == {version}
    for host in HOSTS:
        assert totals[host]["errors"] == 0, (host, load.slices[host])
        status, body = cluster.processes[host].get("/readyz")
        assert (status, json.loads(body)["model"]) == (200, "ml")


def test_when_one_host_dies_the_other_keeps_answering(cluster):
    version, _, _ = cluster.active_version()
    survivor = cluster.processes["host-b"]
    pollers, load = under_load(cluster, ["host-b"])
    try:
        cluster.wait_for(
            lambda: len(pollers[0].answers) > 10, timeout=30, what="a few answers"
        )
        cluster.kill("host-a")
        at_kill = len(load.slices["host-b"])
        cluster.wait_for(
            lambda: len(load.slices["host-b"]) >= at_kill + 2,
            timeout=60,
            what="two wrk slices after the kill",
        )
    finally:
        totals = load.stop()
        pollers[0].stop()

    with pytest.raises(urllib.error.URLError):
        cluster.processes["host-a"].get("/healthz", timeout=2)
    assert totals["host-b"]["errors"] == 0, load.slices["host-b"]
    assert totals["host-b"]["requests"] > 0
    assert pollers[0].failures() == []
    assert survivor.get("/api/recommendations/?count=1")[0] == 200
    assert {answer[2] for answer in pollers[0].answers} == {version}
