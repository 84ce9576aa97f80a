"""Cron times in Asia/Seoul, idempotent schedules, scheduler status, broker choice."""

import datetime as dt
import io
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.scheduler import scheduler

from mlops.models import RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.training.retrain_requests import retrain_request
from mlops.services.training.scheduling import (
    ACTIVE_INTEGRITY_SCHEDULE,
    DRAW_SYNC_FOLLOWUP_SCHEDULE,
    DRAW_SYNC_SCHEDULE,
    FULL_INTEGRITY_SCHEDULE,
    RETRAIN_SCHEDULE,
    RETRAIN_WATCHDOG_SCHEDULE,
    next_cron_run,
    scheduler_status,
    schedules_setup,
)

UTC = dt.UTC
KST = ZoneInfo("Asia/Seoul")
ROOT = Path(__file__).resolve().parents[2]

# Moments all over the week, around the boundary, the year's end and a leap
# day, each with the Monday 15:00 UTC (= Tuesday 00:00 KST) that follows it.
MOMENTS = [
    (dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC), dt.datetime(2026, 11, 30, 15, 0)),
    # Monday 14:59:59 UTC is Monday 23:59:59 KST: one second to go.
    (
        dt.datetime(2026, 11, 30, 14, 59, 59, tzinfo=UTC),
        dt.datetime(2026, 11, 30, 15, 0),
    ),
    # Exactly at the run: the next one is a week later.
    (dt.datetime(2026, 11, 30, 15, 0, tzinfo=UTC), dt.datetime(2026, 12, 7, 15, 0)),
    # Tuesday 08:00 KST, still Monday 23:00 UTC: the UTC weekday misleads.
    (dt.datetime(2026, 11, 30, 23, 0, tzinfo=UTC), dt.datetime(2026, 12, 7, 15, 0)),
    (dt.datetime(2026, 12, 31, 20, 0, tzinfo=UTC), dt.datetime(2027, 1, 4, 15, 0)),
    (dt.datetime(2028, 2, 28, 16, 0, tzinfo=UTC), dt.datetime(2028, 3, 6, 15, 0)),
    (
        dt.datetime(2026, 11, 29, 3, 0, tzinfo=ZoneInfo("America/New_York")),
        dt.datetime(2026, 11, 30, 15, 0),
    ),
]


@pytest.fixture
def frozen_now(monkeypatch):
    """Set the clock django-q2 and Django read (timezone.now) to a given moment."""

    def freeze(moment: dt.datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment.astimezone(UTC))

    return freeze


def test_q2_evaluates_crons_in_seoul_time():
    assert Conf.TIME_ZONE == "Asia/Seoul"


@pytest.mark.parametrize(("moment", "expected_utc"), MOMENTS)
def test_the_next_weekly_retrain_is_tuesday_midnight_kst(
    moment, expected_utc, settings
):
    expected = expected_utc.replace(tzinfo=UTC)

    computed = next_cron_run(settings.RETRAIN_CRON, after=moment)

    assert computed == expected
    assert computed.weekday() == 0  # Monday 15:00 UTC ...
    local = computed.astimezone(KST)
    assert (local.weekday(), local.hour, local.minute) == (1, 0, 0)  # Tuesday 00:00


@pytest.mark.parametrize(("moment", "expected_utc"), MOMENTS)
def test_django_q2_computes_the_same_next_run(
    moment, expected_utc, settings, frozen_now
):
    frozen_now(moment)
    schedule = Schedule(
        func="mlops.tasks.scheduled_retrain_task",
        schedule_type=Schedule.CRON,
        cron=settings.RETRAIN_CRON,
    )

    assert schedule.calculate_next_run() == expected_utc.replace(tzinfo=UTC)


def test_the_draw_sync_runs_after_the_saturday_draw_and_again_on_sunday(settings):
    moment = dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    first = next_cron_run(settings.DRAW_SYNC_CRON, after=moment).astimezone(KST)
    follow_up = next_cron_run(settings.DRAW_SYNC_FOLLOWUP_CRON, after=first)

    assert first == dt.datetime(2026, 11, 28, 21, 30, tzinfo=KST)  # Saturday 21:30
    assert follow_up.astimezone(KST) == dt.datetime(2026, 11, 29, 9, 0, tzinfo=KST)


@pytest.mark.django_db
def test_setup_schedules_sets_the_next_cron_time_not_now(frozen_now):
    frozen_now(dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    out = io.StringIO()

    call_command("setup_schedules", stdout=out)

    schedules = {s.name: s for s in Schedule.objects.all()}
    assert set(schedules) == {
        RETRAIN_SCHEDULE,
        DRAW_SYNC_SCHEDULE,
        DRAW_SYNC_FOLLOWUP_SCHEDULE,
        ACTIVE_INTEGRITY_SCHEDULE,
        FULL_INTEGRITY_SCHEDULE,
        RETRAIN_WATCHDOG_SCHEDULE,
    }
    active_check = schedules[ACTIVE_INTEGRITY_SCHEDULE]
    assert active_check.func == "mlops.tasks.model_active_verify_task"
    assert active_check.cron == "*/5 * * * *"
    assert schedules[FULL_INTEGRITY_SCHEDULE].func == "mlops.tasks.models_verify_task"
    retrain = schedules[RETRAIN_SCHEDULE]
    assert retrain.schedule_type == Schedule.CRON
    assert retrain.func == "mlops.tasks.scheduled_retrain_task"
    assert retrain.next_run == dt.datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert schedules[DRAW_SYNC_SCHEDULE].next_run == dt.datetime(
        2026, 11, 28, 12, 30, tzinfo=UTC
    )
    assert (
        schedules[DRAW_SYNC_SCHEDULE].func == "mlops.tasks.draw_sync_and_monitor_task"
    )
    assert all(s.repeats == -1 for s in schedules.values())
    assert (
        "Weekly retrain: created (cron '0 0 * * 2' in Asia/Seoul, next run "
        "Tue 2026-12-01 00:00 KST = 2026-11-30 15:00 UTC)" in out.getvalue()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "value"),
    [("RETRAIN_CRON", "bad cron"), ("DRAW_SYNC_CRON", "0 0 * * 9")],
)
def test_setup_schedules_refuses_an_invalid_cron_in_one_line_and_writes_nothing(
    settings, name, value
):
    # Used to end in a croniter traceback at deploy time.
    setattr(settings, name, value)

    with pytest.raises(
        CommandError, match=re.escape(f"{name}='{value}' is not a valid cron")
    ):
        call_command("setup_schedules", stdout=io.StringIO())

    assert not Schedule.objects.exists()


@pytest.mark.django_db
def test_setup_schedules_is_idempotent_and_keeps_a_pending_run(frozen_now, settings):
    frozen_now(dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    schedules_setup()
    # The cluster was down over Tuesday: the run is pending (in the past).
    missed = dt.datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    frozen_now(dt.datetime(2026, 12, 2, 8, 0, tzinfo=UTC))

    results = schedules_setup()

    assert [what for _schedule, what in results] == ["unchanged"] * 6
    assert Schedule.objects.count() == 6
    assert Schedule.objects.get(name=RETRAIN_SCHEDULE).next_run == missed


@pytest.mark.django_db
def test_setup_schedules_updates_a_changed_cron_and_removes_duplicates(
    frozen_now, settings
):
    frozen_now(dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    schedules_setup()
    Schedule.objects.create(
        name=RETRAIN_SCHEDULE, func="mlops.tasks.scheduled_retrain_task"
    )
    settings.RETRAIN_CRON = "0 3 * * 3"  # Wednesday 03:00 KST

    results = dict((s.name, what) for s, what in schedules_setup())

    assert results[RETRAIN_SCHEDULE] == "updated"
    retrain = Schedule.objects.get(name=RETRAIN_SCHEDULE)
    assert retrain.cron == "0 3 * * 3"
    assert retrain.next_run == dt.datetime(
        2026, 11, 24, 18, 0, tzinfo=UTC
    ) + dt.timedelta(days=7)
    assert Schedule.objects.count() == 6


@pytest.mark.django_db
def test_the_q2_scheduler_fires_the_weekly_retrain_and_moves_to_next_tuesday(
    frozen_now, model_root, django_capture_on_commit_callbacks
):
    frozen_now(dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    schedules_setup()
    # Only the retrain is due in this test (the draw sync has its own tests).
    later = dt.datetime(2030, 1, 1, tzinfo=UTC)
    Schedule.objects.exclude(name=RETRAIN_SCHEDULE).update(next_run=later)
    # Tuesday 00:00:30 KST: the weekly retrain is due; Q2 is in sync mode here,
    # so django-q2's own scheduler runs our task in this process.
    frozen_now(dt.datetime(2026, 11, 30, 15, 0, 30, tzinfo=UTC))

    with django_capture_on_commit_callbacks(execute=True):
        scheduler()

    retrain = Schedule.objects.get(name=RETRAIN_SCHEDULE)
    assert retrain.next_run == dt.datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    run = RetrainRun.objects.get()
    assert run.trigger == "scheduled"
    # No draws in this database: the run is skipped, and says why.
    assert run.status == "skipped"
    assert "Only 0 draws" in run.error_message
    assert retrain.task  # the id of the task it created
    assert Schedule.objects.get(name=DRAW_SYNC_SCHEDULE).next_run == later


@pytest.mark.django_db
def test_scheduler_status_without_schedules_says_so(model_root):
    status = scheduler_status()

    assert status["next_retrain"]["scheduled"] is False
    assert "setup_schedules" in status["next_retrain"]["hint"]
    assert status["last_run"] is None
    assert status["running"] is None
    assert status["cluster"]["alive"] is False
    assert status["cluster"]["clusters"] == []
    assert status["schedules"] == []


@pytest.mark.django_db
def test_scheduler_status_reports_next_last_and_running(frozen_now, model_root):
    frozen_now(dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    schedules_setup()
    done = RetrainRun.objects.create(
        trigger="manual",
        status="failed",
        finished_at=timezone.now(),
        error_message="boom",
    )
    running = retrain_request(trigger="emergency", actor=Actor.system())

    status = scheduler_status()

    nxt = status["next_retrain"]
    assert nxt["scheduled"] is True
    assert nxt["kst"] == "2026-12-01T00:00:00+09:00"
    assert nxt["utc"] == "2026-11-30T15:00:00+00:00"
    assert nxt["overdue"] is False
    assert nxt["after_that"]["kst"] == "2026-12-08T00:00:00+09:00"
    assert status["last_run"]["id"] == done.pk
    assert status["last_run"]["status"] == "failed"
    assert status["last_run"]["reason"] == "boom"
    assert status["running"]["id"] == running.pk
    assert status["running"]["status"] == "queued"
    # Soonest first: the watchdog (every 2 minutes), the active model's integrity
    # check (every 5), the daily file check (04:15), then Saturday's draw sync.
    assert [s["name"] for s in status["schedules"]][:4] == [
        RETRAIN_WATCHDOG_SCHEDULE,
        ACTIVE_INTEGRITY_SCHEDULE,
        FULL_INTEGRITY_SCHEDULE,
        DRAW_SYNC_SCHEDULE,
    ]
    json.dumps(status)  # plain JSON for the API


@pytest.mark.django_db
def test_the_scheduler_status_command_shows_the_same_facts(frozen_now, model_root):
    frozen_now(dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    schedules_setup()
    out = io.StringIO()

    call_command("scheduler_status", stdout=out)

    text = out.getvalue()
    assert "Next retrain: 2026-12-01 00:00 KST" in text  # people read KST
    assert "Last run: none" in text
    assert "Cluster: NOT RUNNING (no heartbeat)" in text
    assert "Weekly retrain: cron '0 0 * * 2'" in text

    out = io.StringIO()
    call_command("scheduler_status", "--json", stdout=out)
    assert (
        json.loads(out.getvalue())["next_retrain"]["utc"] == "2026-11-30T15:00:00+00:00"
    )


def _broker_in_subprocess(extra_env: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "Q_REDIS_URL"}
    env.update(DJANGO_SETTINGS_MODULE="lotto_site.settings", PYTHONPATH=str(ROOT))
    env.update(SECRET_KEY=secrets.token_urlsafe(50))  # production settings need one
    env.update(extra_env)
    code = (
        "import json, django; django.setup();"
        "from django.conf import settings; from django_q.brokers import get_broker;"
        "b = get_broker();"
        "print(json.dumps({'broker': type(b).__name__, 'info': b.info(),"
        " 'orm': settings.Q_CLUSTER.get('orm'), 'redis': settings.Q_CLUSTER.get('redis'),"
        " 'tz': settings.Q_CLUSTER['time_zone']}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_cluster_uses_the_orm_broker_by_default():
    config = _broker_in_subprocess({})

    assert config["broker"] == "ORM"
    assert config["orm"] == "default"
    assert config["redis"] is None
    assert config["tz"] == "Asia/Seoul"


def test_q_redis_url_switches_the_cluster_to_redis():
    url = os.environ.get("Q_REDIS_TEST_URL", "redis://127.0.0.1:6379/15")

    config = _broker_in_subprocess({"Q_REDIS_URL": url})

    assert config["broker"] == "Redis"
    assert config["redis"] == url
    assert config["orm"] is None


@pytest.mark.django_db
def test_the_scheduled_retrain_task_is_a_logged_no_op_while_one_runs(
    model_root, caplog
):
    from mlops.tasks import scheduled_retrain_task

    running = retrain_request(trigger="manual", actor=Actor.system())

    assert scheduled_retrain_task() is None
    assert RetrainRun.objects.count() == 1
    assert f"Scheduled retrain skipped: Retrain run {running.pk} is already" in (
        caplog.text
    )


@pytest.mark.django_db
def test_the_scheduled_retrain_task_requests_a_scheduled_run(
    model_root, shipped_draws, django_capture_on_commit_callbacks
):
    from mlops.tasks import scheduled_retrain_task

    with django_capture_on_commit_callbacks(execute=True):
        run_id = scheduled_retrain_task()

    run = RetrainRun.objects.get(pk=run_id)
    assert run.trigger == "scheduled"
    assert run.status == "success"
    assert run.task_id  # queued through django-q2 (sync mode in tests)


@pytest.mark.django_db
def test_the_draw_sync_task_checks_accuracy_even_when_the_sync_fails(
    model_root, caplog
):
    from draws.sync_service import DrawSyncError
    from mlops.tasks import draw_sync_and_monitor_task

    caplog.set_level("INFO", logger="mlops.tasks")

    # No draws stored: the sync refuses at once (no network involved).
    with pytest.raises(DrawSyncError, match="No draws stored yet"):
        draw_sync_and_monitor_task()

    assert "Draw sync failed" in caplog.text
    assert "Accuracy check: insufficient_data (action: none)" in caplog.text


@pytest.mark.django_db
def test_scheduler_status_reports_an_invalid_retrain_cron_instead_of_crashing(
    settings,
):
    settings.RETRAIN_CRON = "0 0 * * 9"
    out = io.StringIO()

    call_command("scheduler_status", stdout=out)

    assert "not scheduled (fix RETRAIN_CRON" in out.getvalue()
    status = json.loads(_status_json())
    assert status["next_retrain"]["would_be"] is None
    assert (
        "'0 0 * * 9' is not a valid cron expression"
        in (status["next_retrain"]["error"])
    )


def _status_json() -> str:
    out = io.StringIO()
    call_command("scheduler_status", "--json", stdout=out)
    return out.getvalue()
