"""The Django-Q2 schedules this service runs on, and what the scheduler is doing.

Known django-q2 pitfalls this module designs around:
- cron schedules run in ``Q_CLUSTER["time_zone"]`` (Asia/Seoul here, set
  explicitly): every time below is computed with croniter in that zone, as
  ``Schedule.calculate_next_run`` does;
- a new cron schedule fires at once unless ``next_run`` is set, so
  ``schedules_setup`` sets it to the next cron time;
- ``schedule()`` raises on a duplicate name, so ``update_or_create`` by name;
- success records are pruned (``save_limit``): RetrainRun is the audit.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.status import Stat
from redis.exceptions import RedisError

from draws.timefmt import iso_kst
from mlops.messages import code_of
from mlops.models import RetrainRun

logger = logging.getLogger(__name__)

RETRAIN_SCHEDULE = "Weekly retrain"
DRAW_SYNC_SCHEDULE = "Draw sync and accuracy check"
DRAW_SYNC_FOLLOWUP_SCHEDULE = "Draw sync follow-up"
ACTIVE_INTEGRITY_SCHEDULE = "Active model integrity check"
FULL_INTEGRITY_SCHEDULE = "Model files integrity check"
RETRAIN_WATCHDOG_SCHEDULE = "Abandoned retrain check"
# A cluster whose heartbeat is older than this is not counted as alive (the
# Stat expires from the cache after 3 s; this only guards against clock skew).
HEARTBEAT_FRESH_SECONDS = 30


class BrokerUnavailable(Exception):
    """The task broker can't be reached: the queue and the clusters are unknown."""


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    cron: str


def schedule_specs() -> list[ScheduleSpec]:
    """The schedules this service needs, crons from settings.

    Raises ImproperlyConfigured naming the setting when a cron is not valid.
    """
    for name in (
        "RETRAIN_CRON",
        "DRAW_SYNC_CRON",
        "DRAW_SYNC_FOLLOWUP_CRON",
        "INTEGRITY_ACTIVE_CRON",
        "INTEGRITY_FULL_CRON",
        "RETRAIN_WATCHDOG_CRON",
    ):
        value = getattr(settings, name)
        if not croniter.is_valid(value):
            raise ImproperlyConfigured(
                f"{name}={value!r} is not a valid cron expression "
                "(minute hour day-of-month month day-of-week)."
            )
    return [
        ScheduleSpec(
            RETRAIN_SCHEDULE,
            "mlops.tasks.scheduled_retrain_task",
            settings.RETRAIN_CRON,
        ),
        ScheduleSpec(
            DRAW_SYNC_SCHEDULE,
            "mlops.tasks.draw_sync_and_monitor_task",
            settings.DRAW_SYNC_CRON,
        ),
        # The official site sometimes publishes late: sync again the next
        # morning. Syncing is idempotent (no new draw, no change), and so is
        # the accuracy check (its emergency retrain has a cooldown).
        ScheduleSpec(
            DRAW_SYNC_FOLLOWUP_SCHEDULE,
            "mlops.tasks.draw_sync_and_monitor_task",
            settings.DRAW_SYNC_FOLLOWUP_CRON,
        ),
        # A missing or corrupt active file is healed within minutes, not at the
        # next load; the full check also reads every backup.
        ScheduleSpec(
            ACTIVE_INTEGRITY_SCHEDULE,
            "mlops.tasks.model_active_verify_task",
            settings.INTEGRITY_ACTIVE_CRON,
        ),
        ScheduleSpec(
            FULL_INTEGRITY_SCHEDULE,
            "mlops.tasks.models_verify_task",
            settings.INTEGRITY_FULL_CRON,
        ),
        # A retrain whose worker died (kill -9, OOM) holds the single-flight
        # lock: every few minutes, fail, release and audit it.
        ScheduleSpec(
            RETRAIN_WATCHDOG_SCHEDULE,
            "mlops.tasks.retrain_recover_abandoned_task",
            settings.RETRAIN_WATCHDOG_CRON,
        ),
    ]


def schedule_zone() -> ZoneInfo:
    """The time zone django-q2 evaluates cron expressions in."""
    return ZoneInfo(Conf.TIME_ZONE)


def next_cron_run(cron: str, *, after: datetime | None = None) -> datetime:
    """The first time strictly after `after` (default now) matching `cron`, in UTC.

    Evaluated in the Q2 time zone, exactly like Schedule.calculate_next_run.
    """
    start = (after or timezone.now()).astimezone(schedule_zone())
    return croniter(cron, start).get_next(datetime).astimezone(UTC)


def schedules_setup() -> list[tuple[Schedule, str]]:
    """Create or update every schedule by name; return (schedule, what happened).

    Safe on every deploy. A new schedule, or one whose cron or function
    changed, gets next_run = the next cron time (not "now": a new cron
    schedule would otherwise fire at once). An unchanged schedule keeps its
    next_run, so a run missed while the cluster was down still fires once.
    """
    results = []
    for spec in schedule_specs():
        existing = Schedule.objects.filter(name=spec.name).order_by("pk")
        schedule = existing.first()
        # Duplicates by name (created by hand or an old deploy) would each fire.
        if schedule is not None:
            existing.exclude(pk=schedule.pk).delete()
        unchanged = (
            schedule is not None
            and schedule.func == spec.func
            and schedule.cron == spec.cron
            and schedule.schedule_type == Schedule.CRON
            and schedule.next_run is not None
            and schedule.repeats != 0
        )
        if unchanged:
            results.append((schedule, "unchanged"))
            continue
        schedule, created = Schedule.objects.update_or_create(
            name=spec.name,
            defaults={
                "func": spec.func,
                "schedule_type": Schedule.CRON,
                "cron": spec.cron,
                "repeats": -1,
                "next_run": next_cron_run(spec.cron),
            },
        )
        results.append((schedule, "created" if created else "updated"))
        logger.info(
            "Schedule %r %s: %s, next run %s",
            spec.name,
            "created" if created else "updated",
            spec.cron,
            _times(schedule.next_run),
        )
    return results


def _times(moment: datetime | None) -> dict | None:
    if moment is None:
        return None
    return {
        "kst": moment.astimezone(schedule_zone()).isoformat(),
        "utc": moment.astimezone(UTC).isoformat(),
    }


def _next_retrain() -> dict:
    schedule = Schedule.objects.filter(name=RETRAIN_SCHEDULE).first()
    if schedule is None or schedule.next_run is None or schedule.repeats == 0:
        # Not scheduled: say when the cron would fire, and that it won't.
        cron = settings.RETRAIN_CRON
        if not croniter.is_valid(cron):
            return {
                "scheduled": False,
                "cron": cron,
                "would_be": None,
                "error": f"RETRAIN_CRON={cron!r} is not a valid cron expression",
                "hint": "fix RETRAIN_CRON, then run `python manage.py setup_schedules`",
            }
        return {
            "scheduled": False,
            "cron": cron,
            "would_be": _times(next_cron_run(cron)),
            "hint": "run `python manage.py setup_schedules`",
        }
    now = timezone.now()
    return {
        "scheduled": True,
        "cron": schedule.cron,
        **_times(schedule.next_run),
        # In the past: the cluster has not been there to fire it.
        "overdue": schedule.next_run < now,
        "after_that": _times(next_cron_run(schedule.cron, after=schedule.next_run)),
    }


def _run_summary(run: RetrainRun | None) -> dict | None:
    if run is None:
        return None
    return {
        "id": run.pk,
        "status": run.status,
        "trigger": run.trigger,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "heartbeat_at": _iso(run.heartbeat_at),
        "model_version": run.model_version.version if run.model_version else None,
        "promoted": run.promoted,
        # In the reader's language, its code beside it (None for older rows).
        "reason": run.promotion_reason_text or run.error_message_text,
        "reason_code": code_of(run.promotion_reason_message)
        or code_of(run.error_message_message),
    }


def _iso(value) -> str | None:
    return iso_kst(value)


def cluster_status() -> dict:
    """Whether a Q2 cluster is alive, from the heartbeats the clusters publish.

    Each cluster saves a Stat every guard cycle (0.5 s) with a 3 s expiry: in
    Redis with the Redis broker, in the "django_q" cache (files shared by the
    processes of this machine) with the ORM broker.
    """
    broker = get_broker()
    try:
        info = broker.info()
        stats = Stat.get_all(broker=broker)
    except RedisError as exc:
        raise BrokerUnavailable(
            f"The task broker (Redis) can't be reached: {type(exc).__name__}: {exc}"
        ) from exc
    except Exception as exc:  # an unreadable stats cache: not alive as far as we know
        return {
            "alive": False,
            "broker": broker.info(),
            "error": repr(exc),
            "clusters": [],
        }
    now = timezone.now()
    clusters = [
        {
            "cluster_id": str(stat.cluster_id),
            "host": stat.host,
            "pid": stat.pid,
            "status": str(stat.status),
            "workers": len(stat.workers),
            "last_heartbeat": _iso(stat.timestamp),
            "uptime_seconds": round((now - stat.tob).total_seconds())
            if stat.tob
            else None,
        }
        for stat in stats
    ]
    alive_states = {str(Conf.IDLE), str(Conf.WORKING), str(Conf.STARTING)}
    alive = any(
        str(stat.status) in alive_states
        and (now - stat.timestamp).total_seconds() < HEARTBEAT_FRESH_SECONDS
        for stat in stats
    )
    return {"alive": alive, "broker": info, "clusters": clusters}


def scheduler_status() -> dict:
    """Next scheduled retrain, last and running retrain, cluster heartbeat, schedules."""
    finished = (
        RetrainRun.objects.exclude(
            status__in=[RetrainRun.Status.QUEUED, RetrainRun.Status.RUNNING]
        )
        .select_related("model_version")
        # NULLs last: PostgreSQL would put a run without finished_at first.
        .order_by(F("finished_at").desc(nulls_last=True), "-id")
        .first()
    )
    running = RetrainRun.objects.filter(in_flight=RetrainRun.IN_FLIGHT).first()
    # Names only: reading the cron settings here would fail on an invalid one.
    names = (
        RETRAIN_SCHEDULE,
        DRAW_SYNC_SCHEDULE,
        DRAW_SYNC_FOLLOWUP_SCHEDULE,
        ACTIVE_INTEGRITY_SCHEDULE,
        FULL_INTEGRITY_SCHEDULE,
        RETRAIN_WATCHDOG_SCHEDULE,
    )
    schedules = [
        {
            "name": schedule.name,
            "func": schedule.func,
            "cron": schedule.cron,
            "next_run": _times(schedule.next_run),
            "repeats": schedule.repeats,
            "last_task_id": schedule.task,
            "ours": schedule.name in names,
        }
        for schedule in Schedule.objects.order_by("next_run", "pk")
    ]
    return {
        "time_zone": Conf.TIME_ZONE,
        "next_retrain": _next_retrain(),
        "last_run": _run_summary(finished),
        "running": _run_summary(running),
        "cluster": cluster_status(),
        "schedules": schedules,
    }
