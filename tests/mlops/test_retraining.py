"""The retrain service: runs, promotion gate, single flight, recovery, metadata, logs."""

import datetime as dt
import json
import threading

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mlops.models import AuditEvent, ModelActivation, ModelVersion, RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import model_version_active
from mlops.services.registry.storage import get_storage
from mlops.services.training.promotion import promotion_decision
from mlops.services.training.retrain_requests import (
    RetrainAlreadyRunning,
    retrain_in_flight,
    retrain_request,
    retrain_run_now,
)
from mlops.services.training.retraining import (
    RETRAIN_METADATA_PATH,
    retrain_execute,
    retrain_recover_abandoned,
)
from mlops.services.training.training import model_version_train
from mlops.tasks import retrain_recover_abandoned_task

pytestmark = pytest.mark.django_db

BETTER_THAN_ANY_CHALLENGER = {
    # Upper bounds of both figures: no trained challenger can reach them.
    "any_hit_rate": {"value": 1.0},
    "brier_skill_score": {"value": 1.0},
}


@pytest.fixture
def champion(model_root, shipped_draws):
    """An active model trained on the shipped history."""
    return model_version_train(activate=True)


def read_retrain_metadata() -> dict:
    return json.loads(get_storage().read_bytes(RETRAIN_METADATA_PATH))


def test_a_retrain_with_no_active_model_trains_and_promotes_one(
    model_root, shipped_draws
):
    run = retrain_run_now(actor=Actor.cli())

    assert run.status == RetrainRun.Status.SUCCESS
    assert run.promoted
    assert run.promotion_reason == "promoted: no model was active"
    assert model_version_active() == run.model_version
    assert (run.draw_count, run.draw_from, run.draw_to) == (1220, 1, 1220)
    assert run.validation_metrics == run.model_version.validation_metrics
    assert run.validation_metrics["sample_size"] == 200
    assert run.in_flight is None
    assert run.started_at <= run.finished_at
    assert run.duration_seconds > 0
    assert run.peak_memory_bytes > 50 * 2**20  # a Python with numpy and sklearn


def test_a_promotion_is_recorded_in_the_activation_history_and_the_audit(
    model_root, shipped_draws
):
    run = retrain_run_now(actor=Actor.cli(), trigger="cli")

    activation = ModelActivation.objects.get(is_current=True)
    assert activation.retrain_run == run
    assert activation.activated_by == "retrain"
    actions = set(
        AuditEvent.objects.filter(object_id=str(run.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"retrain_requested", "retrain_finished"} <= actions


def not_a_no_op(settings, champion) -> None:
    """Another thread count: the same figures, but not "nothing changed"."""
    settings.ML_N_JOBS = champion.hyperparameters["n_jobs"] + 1


def test_the_gate_keeps_the_champion_when_the_challenger_is_worse(champion, settings):
    not_a_no_op(settings, champion)
    ModelVersion.objects.filter(pk=champion.pk).update(
        validation_metrics=BETTER_THAN_ANY_CHALLENGER
    )

    run = retrain_run_now(actor=Actor.cli())

    assert run.status == RetrainRun.Status.SUCCESS
    assert not run.promoted
    assert run.promotion_reason.startswith("kept champion: challenger worse on")
    assert "any_hit_rate" in run.promotion_reason
    assert model_version_active() == champion
    assert run.model_version.state == ModelVersion.State.ARCHIVED


def test_force_promotes_a_worse_challenger_and_says_so(champion):
    ModelVersion.objects.filter(pk=champion.pk).update(
        validation_metrics=BETTER_THAN_ANY_CHALLENGER
    )

    run = retrain_run_now(actor=Actor.cli(), force=True)

    assert run.promoted
    assert run.promotion_reason.startswith("promoted by force although worse on")
    assert run.options["force"] is True
    assert model_version_active() == run.model_version
    champion.refresh_from_db()
    assert champion.state == ModelVersion.State.ARCHIVED


def test_a_challenger_as_good_as_the_champion_passes_a_zero_tolerance(
    champion, settings
):
    # Same data, same seed, same procedure: the challenger's figures are equal.
    settings.RETRAIN_PROMOTION_TOLERANCE = 0.0
    not_a_no_op(settings, champion)

    run = retrain_run_now(actor=Actor.cli())

    assert run.validation_metrics == champion.validation_metrics
    assert run.promoted
    assert run.promotion_reason.startswith("promoted: not worse than the champion")
    assert model_version_active() == run.model_version


def make_version(label: str, any_hit: float | None, skill: float | None):
    metrics = {}
    if any_hit is not None:
        metrics["any_hit_rate"] = {"value": any_hit}
    if skill is not None:
        metrics["brier_skill_score"] = {"value": skill}
    return ModelVersion(version=label, validation_metrics=metrics)


@pytest.mark.parametrize(
    ("challenger", "champion", "promote"),
    [
        ((0.60, 0.0), (0.60, 0.0), True),  # equal
        ((0.56, 0.0), (0.60, 0.0), True),  # 0.04 worse: within 0.05
        ((0.54, 0.0), (0.60, 0.0), False),  # 0.06 worse: beyond
        ((0.70, -0.06), (0.60, 0.0), False),  # better hits, worse probabilities
        ((0.70, 0.10), (0.60, 0.0), True),  # better on both
        ((None, None), (0.60, 0.0), True),  # nothing to compare: measured, so go
    ],
)
def test_the_gate_compares_each_metric_with_the_tolerance(
    challenger, champion, promote
):
    promoted, reason = promotion_decision(
        challenger=make_version("new", *challenger),
        champion=make_version("old", *champion),
        tolerance=0.05,
    )

    assert promoted is promote
    assert reason


def test_a_second_request_while_one_is_queued_is_refused_with_that_run(model_root):
    # Under the test transaction on_commit never fires: the first run stays queued.
    first = retrain_request(trigger="manual", actor=Actor.system())

    with pytest.raises(RetrainAlreadyRunning) as refused:
        retrain_request(trigger="emergency", actor=Actor.system())

    assert refused.value.run.pk == first.pk
    assert f"Retrain run {first.pk} is already queued" in str(refused.value)
    assert retrain_in_flight() == first
    assert RetrainRun.objects.count() == 1


def test_the_single_flight_lock_is_a_database_constraint():
    RetrainRun.objects.create(trigger="manual", in_flight=RetrainRun.IN_FLIGHT)

    with pytest.raises(IntegrityError), transaction.atomic():
        RetrainRun.objects.create(trigger="cli", in_flight=RetrainRun.IN_FLIGHT)
    # Finished runs release it: any number of NULLs may coexist.
    RetrainRun.objects.create(trigger="cli", in_flight=None, status="success")
    RetrainRun.objects.create(trigger="cli", in_flight=None, status="failed")


@pytest.mark.skipif(
    "sqlite" in django_settings.DATABASES["default"]["ENGINE"],
    reason="SQLite's shared-cache test database refuses concurrent writers at once "
    "('table is locked'); test_retraining_processes.py races processes on a file",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_from_several_threads_run_exactly_one(
    model_root, shipped_draws
):
    threads_count = 4
    barrier = threading.Barrier(threads_count)
    outcomes: list = []

    def request():
        try:
            barrier.wait()
            outcomes.append(retrain_run_now(actor=Actor.cli()))
        except RetrainAlreadyRunning as exc:
            outcomes.append(exc)
        except Exception as exc:  # reported below, not swallowed
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    runs = [o for o in outcomes if isinstance(o, RetrainRun)]
    refusals = [o for o in outcomes if isinstance(o, RetrainAlreadyRunning)]
    assert len(outcomes) == threads_count, outcomes
    assert len(runs) == 1, outcomes
    assert len(refusals) == threads_count - 1, outcomes
    assert runs[0].status == RetrainRun.Status.SUCCESS
    assert {refusal.run.pk for refusal in refusals} == {runs[0].pk}
    assert RetrainRun.objects.count() == 1
    assert ModelVersion.objects.count() == 1


def test_a_repeated_delivery_of_a_finished_run_changes_nothing(
    model_root, shipped_draws, caplog
):
    run = retrain_run_now(actor=Actor.cli())
    versions = ModelVersion.objects.count()

    again = retrain_execute(run_id=run.pk)

    assert again.status == RetrainRun.Status.SUCCESS
    assert again.finished_at == run.finished_at
    assert ModelVersion.objects.count() == versions
    assert (
        f"Retrain run {run.pk} is success: ignoring a repeated delivery" in caplog.text
    )


def running_run(trigger: str, *, started_at, heartbeat_at=None) -> RetrainRun:
    """A run in flight that last beat at `heartbeat_at` (by default, its start)."""
    return RetrainRun.objects.create(
        trigger=trigger,
        status=RetrainRun.Status.RUNNING,
        in_flight=RetrainRun.IN_FLIGHT,
        started_at=started_at,
        heartbeat_at=heartbeat_at or started_at,
    )


def test_an_abandoned_run_is_recovered_and_does_not_block(model_root, shipped_draws):
    long_ago = timezone.now() - dt.timedelta(hours=2)
    dead = running_run("scheduled", started_at=long_ago)

    run = retrain_run_now(actor=Actor.cli())

    dead.refresh_from_db()
    assert dead.status == RetrainRun.Status.FAILED
    assert dead.error_message.startswith("abandoned: no sign of life since")
    assert dead.in_flight is None
    assert dead.finished_at is not None
    assert run.status == RetrainRun.Status.SUCCESS


def test_recovery_leaves_a_run_with_a_recent_heartbeat_alone(settings):
    settings.RETRAIN_ABANDON_AFTER_SECONDS = 600
    now = timezone.now()
    alive = running_run(
        "manual",
        started_at=now - dt.timedelta(hours=1),  # long run, but it still beats
        heartbeat_at=now - dt.timedelta(seconds=30),
    )

    assert retrain_recover_abandoned() == []
    alive.refresh_from_db()
    assert alive.status == RetrainRun.Status.RUNNING
    with pytest.raises(RetrainAlreadyRunning):
        retrain_request(trigger="manual", actor=Actor.system())


def test_a_queued_run_never_picked_up_is_recovered(settings, model_root):
    settings.RETRAIN_ABANDON_AFTER_SECONDS = 60
    stuck = RetrainRun.objects.create(trigger="manual", in_flight=RetrainRun.IN_FLIGHT)
    RetrainRun.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=5)
    )

    recovered = retrain_recover_abandoned()

    assert [run.pk for run in recovered] == [stuck.pk]
    assert retrain_in_flight() is None
    assert read_retrain_metadata()["status"] == "failed"


def test_a_task_delivered_after_its_run_was_recovered_does_nothing(
    settings, model_root, shipped_draws
):
    settings.RETRAIN_ABANDON_AFTER_SECONDS = 60
    stuck = RetrainRun.objects.create(trigger="manual", in_flight=RetrainRun.IN_FLIGHT)
    RetrainRun.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=5)
    )
    retrain_recover_abandoned()

    late = retrain_execute(run_id=stuck.pk)

    assert late.status == RetrainRun.Status.FAILED
    assert ModelVersion.objects.count() == 0


def test_retrain_metadata_json_matches_the_last_run(champion, model_root, settings):
    not_a_no_op(settings, champion)
    first = retrain_run_now(actor=Actor.cli(), reason="first")
    settings.ML_N_JOBS += 1
    assert read_retrain_metadata()["run_id"] == first.pk

    ModelVersion.objects.filter(state="active").update(
        validation_metrics=BETTER_THAN_ANY_CHALLENGER
    )
    run = retrain_run_now(actor=Actor.cli(), reason="second")

    metadata = read_retrain_metadata()
    assert metadata["run_id"] == run.pk
    assert metadata["status"] == "success"
    assert metadata["trigger"] == "cli"
    assert metadata["model_version"] == run.model_version.version
    assert metadata["promoted"] is False
    assert metadata["promotion_reason"] == run.promotion_reason
    assert metadata["draw_count"] == run.draw_count == 1220
    assert metadata["draw_range"] == [1, 1220]
    # The same instant, written the API's way: ISO 8601 with the +09:00 offset.
    assert dt.datetime.fromisoformat(metadata["finished_at"]) == run.finished_at
    assert metadata["finished_at"].endswith("+09:00")
    assert metadata["duration_seconds"] == run.duration_seconds
    assert metadata["peak_memory_bytes"] == run.peak_memory_bytes
    assert metadata["options"]["reason"] == "second"
    assert (
        metadata["validation"]["any_hit_rate"]
        == run.validation_metrics["any_hit_rate"]["value"]
    )
    assert metadata["validation_sample_size"] == 200
    # No temporary file is left next to it: the write is atomic (temp + rename).
    assert [
        p.name for p in (model_root / "metadata").iterdir() if p.name.startswith(".")
    ] == []


def test_the_log_lines_operators_grep_for(model_root, shipped_draws, caplog):
    caplog.set_level("INFO", logger="mlops.services.training.retraining")

    run = retrain_run_now(actor=Actor.cli(), reason="weekly check")

    assert (
        f"Retraining started: run {run.pk} (trigger cli, reason: weekly check"
        in caplog.text
    )
    assert (
        f"Retraining finished: run {run.pk} (trigger cli, status success" in caplog.text
    )
    assert "Retraining failed" not in caplog.text


def test_bad_options_are_refused_and_nothing_is_recorded(model_root):
    with pytest.raises(ValidationError, match="Unknown retrain option"):
        retrain_request(trigger="manual", actor=Actor.system(), options={"fast": 1})
    with pytest.raises(ValidationError, match="Choose tune or warm_start"):
        retrain_request(
            trigger="manual",
            actor=Actor.system(),
            options={"tune": True, "warm_start": True},
        )
    with pytest.raises(ValidationError, match="Unknown trigger"):
        retrain_request(trigger="hourly", actor=Actor.system())

    assert RetrainRun.objects.count() == 0
    assert retrain_in_flight() is None


def test_the_requesting_user_is_recorded(model_root, django_user_model):
    user = django_user_model.objects.create_user("operator", is_staff=True)

    run = retrain_request(trigger="manual", actor=Actor.for_user(user))

    assert run.requested_by == user
    event = AuditEvent.objects.get(action="retrain_requested")
    assert (event.user, event.object_id) == (user, str(run.pk))


@pytest.mark.django_db(transaction=True)
def test_a_working_run_beats_its_heartbeat_so_it_is_not_taken_for_dead(settings):
    from mlops.services.training.retrain_watch import RunWatch

    # Beats every RETRAIN_HEARTBEAT_TIMEOUT_SECONDS / 6 (at least 1 s).
    settings.RETRAIN_HEARTBEAT_TIMEOUT_SECONDS = 6
    started = timezone.now() - dt.timedelta(seconds=5)
    run = running_run("cli", started_at=started)

    with RunWatch(run.pk) as watch:
        threading.Event().wait(1.6)  # the run "works" past one beat

    run.refresh_from_db()
    assert run.heartbeat_at > started + dt.timedelta(seconds=5)
    assert watch.peak > 0
    assert retrain_recover_abandoned() == []


# --- A dead worker is noticed within minutes, released and audited -----------------


def test_a_running_run_silent_past_the_heartbeat_timeout_is_released_and_audited(
    settings, model_root
):
    # kill -9 of the worker: the run stays "running" and its heartbeat stops.
    settings.RETRAIN_HEARTBEAT_TIMEOUT_SECONDS = 180
    now = timezone.now()
    dead = running_run(
        "manual",
        started_at=now - dt.timedelta(minutes=10),
        heartbeat_at=now - dt.timedelta(minutes=4),
    )

    recovered = retrain_recover_abandoned()

    assert [run.pk for run in recovered] == [dead.pk]
    dead.refresh_from_db()
    assert dead.status == RetrainRun.Status.FAILED
    assert dead.in_flight is None
    assert "the worker running it probably died" in dead.error_message
    event = AuditEvent.objects.get(action="retrain_finished", object_id=str(dead.pk))
    assert event.actor_type == "system"
    assert event.details["outcome"] == "abandoned"
    assert event.details["was"] == "running"
    # The lock is free: the next request is accepted, not 409.
    assert retrain_request(trigger="manual", actor=Actor.system()).pk != dead.pk


def test_a_request_minutes_after_the_worker_died_is_not_refused(settings, model_root):
    settings.RETRAIN_HEARTBEAT_TIMEOUT_SECONDS = 180
    now = timezone.now()
    running_run("manual", started_at=now - dt.timedelta(minutes=5))

    run = retrain_request(trigger="manual", actor=Actor.system())

    assert run.status == RetrainRun.Status.QUEUED


def test_a_queued_run_is_given_longer_than_a_running_one(settings):
    # Waiting for a busy worker is not death: no heartbeat before it starts.
    settings.RETRAIN_HEARTBEAT_TIMEOUT_SECONDS = 180
    settings.RETRAIN_ABANDON_AFTER_SECONDS = 1800
    waiting = RetrainRun.objects.create(
        trigger="manual", in_flight=RetrainRun.IN_FLIGHT
    )
    RetrainRun.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )

    assert retrain_recover_abandoned() == []


def test_the_watchdog_task_recovers_abandoned_runs(settings, model_root):
    settings.RETRAIN_HEARTBEAT_TIMEOUT_SECONDS = 60
    old = timezone.now() - dt.timedelta(minutes=3)
    dead = running_run("scheduled", started_at=old)

    assert retrain_recover_abandoned_task() == [dead.pk]
    assert retrain_in_flight() is None
