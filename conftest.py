"""Fixtures shared by every test package, and the Hypothesis profiles."""

import datetime as dt
import os

import pytest
from django.conf import settings as django_settings
from hypothesis import settings as hypothesis_settings

try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # pytest-xdist (a dev dependency) only schedules `-n` runs
    LoadScopeScheduling = None

# Property-based tests (the API fuzz, the import parser) run under a profile:
# HYPOTHESIS_PROFILE=ci (set by .ci/run) is derandomized (the same examples every
# run, so CI is reproducible and bounded) and keeps no example database; "dev"
# explores new examples each run. Each test may lower max_examples further.
hypothesis_settings.register_profile(
    "ci", max_examples=50, derandomize=True, database=None, deadline=None
)
hypothesis_settings.register_profile("dev", max_examples=50, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# CI runs the suite on two pytest-xdist workers (`-n 2 --dist loadgroup`, see
# .ci/run). Tests in one group run one after the other on one worker:
# - "fuzz": the module's live server (migrated, seeded, trained) starts once, not
#   once per worker;
# - "timed_processes": the process tests that assert on time (a new model served
#   within 5 s, a prompt SIGTERM, a schedule fired within its deadline, workers
#   recycled under load) never overlap one another; each overlaps only the other
#   worker's tests;
# - "other_processes": the other tests that start servers or browsers (a minute
#   or less each) are handed out early as one batch, so that none of them is
#   left running alone at the end.
# Every other test is scheduled on its own. (xdist's own loadgroup reads
# xdist_group marks into node ids, which pytest 9.2's node ids no longer take:
# the scheduler below groups by path instead.)
XDIST_GROUPS = {
    "tests/test_api_fuzz.py": "fuzz",
    "tests/scaleout/test_two_hosts.py": "timed_processes",
    "tests/observability/test_processes.py": "timed_processes",
    "tests/mlops/test_qcluster_e2e.py": "timed_processes",
    "tests/test_database_down.py": "timed_processes",
    "tests/test_run_script.py": "other_processes",
    "tests/test_quickstart_smoke.py": "other_processes",
    "tests/mlops/test_retraining_processes.py": "other_processes",
    "tests/api/test_throttling_processes.py": "other_processes",
    "tests/e2e/": "other_processes",
}


def xdist_group_of(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0]
    for prefix, group in XDIST_GROUPS.items():
        if path.startswith(prefix):
            return group
    return None


if LoadScopeScheduling is not None:

    class GroupScheduling(LoadScopeScheduling):
        """xdist's load-by-scope scheduling; a scope is a group, else one test.

        Bigger scopes are handed out first (xdist's default reordering), so each
        group starts at once on a worker of its own.
        """

        def _split_scope(self, nodeid: str) -> str:
            return xdist_group_of(nodeid) or nodeid

    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue("dist") == "loadgroup":
            return GroupScheduling(config, log)
        return None


@pytest.fixture
def model_root(tmp_path, settings):
    """A fresh, empty MODEL_ROOT for this test."""
    root = tmp_path / "models"
    root.mkdir()
    settings.MODEL_ROOT = root
    return root


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on 127.0.0.1 (real HTTP), one per test session."""
    from tests.s3 import S3Server

    server = S3Server()
    yield server
    server.stop()


@pytest.fixture(params=["local", "s3"])
def model_store(request, model_root, tmp_path, settings):
    """Run the test on each model storage backend; the stored files, seen raw.

    local: MODEL_ROOT on disk. s3: models under a prefix of one bucket, backups
    in another bucket (MODEL_BACKUP_STORAGE_URL), on moto's server.
    """
    from tests.s3 import LocalRawStore, S3RawStore

    settings.MODEL_CACHE_DIR = tmp_path / "model-cache"
    if request.param == "local":
        return LocalRawStore(model_root)
    server = request.getfixturevalue("s3_server")
    models, backups = server.create_bucket("models"), server.create_bucket("backups")
    settings.STORAGES = {
        **settings.STORAGES,
        "models": server.storage_config(models, "lotto/models"),
        "model_backups": server.storage_config(backups, "lotto"),
    }
    return S3RawStore(
        server, {"": (models, "lotto/models"), "backups": (backups, "lotto")}
    )


@pytest.fixture
def shipped_draws(db):
    """The real 1,220-draw history, loaded through the import service."""
    from draws.services import draw_import_file

    draw_import_file(django_settings.DRAWS_SHIPPED_CSV)
    from draws.models import LottoDraw

    return LottoDraw.objects.order_by("draw_no")


@pytest.fixture
def fresh_forecast_cache(settings):
    """Each test starts as a fresh web process that checks the state every call."""
    from recommendations.services.forecast_cache import forecast_cache_clear

    settings.ML_ACTIVE_CHECK_SECONDS = 0
    settings.ML_SERVED_FLUSH_SECONDS = 0
    settings.RECOMMENDATIONS_USE_ML = True
    forecast_cache_clear()
    yield
    forecast_cache_clear()


@pytest.fixture
def trained(db, model_root):
    """520 synthetic draws and a model trained on them, active."""
    from mlops.services.training.training import model_version_train
    from tests.factories import store_draws

    store_draws(520)
    return model_version_train()


@pytest.fixture(autouse=True)
def _no_language_left_active():
    """A request or test that switched language must not leak it into the next test.

    LocaleMiddleware activates the request's language in this thread and nothing
    deactivates it; without this, a Korean test would turn later ones Korean.
    """
    yield
    from django.utils import translation

    translation.deactivate()


class _HistoryClock:
    """django.utils.timezone for draws.schedule, with "now" in the stored history's week.

    Tests build synthetic histories of a few hundred draws (the 2010s); serving
    takes "the next draw" from the calendar. This clock puts the calendar one day
    after the newest stored draw's broadcast, so the next draw is the one after
    it, as it would be on a live service whose history is up to date.
    """

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def now(self):
        from django.db import connection

        from draws.models import LottoDraw
        from draws.schedule import scheduled_draw

        # Through the driver's own cursor: the test's clock is not one of the
        # queries a test counts (assertNumQueries on the serving path).
        connection.ensure_connection()
        cursor = connection.connection.cursor()
        cursor.execute(f"SELECT MAX(draw_no) FROM {LottoDraw._meta.db_table}")
        newest = cursor.fetchone()[0]
        cursor.close()
        if newest is None:
            return self._real.now()
        return scheduled_draw(newest).draws_at + dt.timedelta(days=1)


@pytest.fixture
def clock_follows_history(monkeypatch):
    """The schedule's clock sits in the week after the newest stored draw."""
    import django.utils.timezone

    import draws.schedule

    monkeypatch.setattr(
        draws.schedule, "timezone", _HistoryClock(django.utils.timezone)
    )


class _FixedClock(_HistoryClock):
    def __init__(self, real, moment):
        super().__init__(real)
        self._moment = moment

    def now(self):
        return self._moment


@pytest.fixture
def clock_at(monkeypatch):
    """Call with an aware datetime: the schedule's clock stops there."""
    import django.utils.timezone

    import draws.schedule

    def stop(moment):
        clock = _FixedClock(django.utils.timezone, moment)
        monkeypatch.setattr(draws.schedule, "timezone", clock)

    return stop
