"""The mlops admin: read-only registry pages, the operations actions with their
confirmation pages, Retrain now, the audit trail, and the operations page."""

import datetime as dt
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from draws.schedule import KST
from mlops import admin_views
from mlops.admin_views import trend_svg
from mlops.models import (
    AuditEvent,
    ModelActivation,
    ModelBackup,
    ModelVersion,
    Prediction,
    RetrainRun,
)
from tests.factories import backed_up_then_replaced, train

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:mlops_modelversion_changelist"


def act(client, action: str, *versions, **extra):
    data = {"action": action, "_selected_action": [v.pk for v in versions], **extra}
    return client.post(reverse(CHANGELIST), data)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def two_versions(model_root, shipped_draws):
    return backed_up_then_replaced()


def test_the_version_list_shows_state_draws_metrics_with_baselines_size_and_backups(
    admin_client, two_versions
):
    v1, v2 = two_versions
    response = admin_client.get(reverse(CHANGELIST))
    page = response.content.decode()
    assert response.status_code == 200
    assert v1.version in page
    assert v2.version in page
    assert "1–1220 (1,220)" in page
    figure = v1.validation_metrics["any_hit_rate"]
    assert f"{100 * figure['value']:.1f}% (random {100 * figure['baseline']:.1f}%)" in (
        page
    )
    assert "1, newest" in page  # v1's backup
    assert f'id="active-version">{v2.version}<' in page
    assert "Roll back to the previous version" in page


def test_the_version_list_filters_by_state_and_feature_set(admin_client, two_versions):
    v1, v2 = two_versions
    archived = admin_client.get(reverse(CHANGELIST), {"state": "archived"})
    assert list(archived.context["cl"].result_list) == [v1]
    fs = v1.feature_set_version
    response = admin_client.get(reverse(CHANGELIST), {"feature_set_version": fs})
    assert response.context["cl"].result_count == 2
    response = admin_client.get(reverse(CHANGELIST), {"feature_set_version": "x"})
    assert response.context["cl"].result_count == 0


def test_the_version_page_shows_metadata_and_the_activation_timeline_read_only(
    admin_client, two_versions
):
    v1, _ = two_versions
    url = reverse("admin:mlops_modelversion_change", args=[v1.pk])
    response = admin_client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "activation-timeline" in page
    assert f"replaced by {ModelVersion.objects.exclude(pk=v1.pk).get().version}" in page
    assert f"&quot;sha256&quot;: &quot;{v1.sha256}&quot;" in page
    assert "present, matches its sha256" in page
    assert 'name="_save"' not in page
    # Nothing in the registry can be edited or added through a form.
    assert admin_client.post(url, {"state": "deleted"}).status_code == 403
    add = reverse("admin:mlops_modelversion_add")
    assert admin_client.get(add).status_code == 403
    v1.refresh_from_db()
    assert v1.state == "archived"


def test_activate_makes_the_selected_version_active(admin_client, two_versions):
    v1, _ = two_versions
    response = act(admin_client, "activate_selected", v1)
    assert response.status_code == 302
    v1.refresh_from_db()
    assert v1.is_active
    current = ModelActivation.objects.get(is_current=True)
    assert (current.activated_by, current.user.username) == ("admin", "admin")
    assert f"Activated {v1.version}: it is now the active model." in texts(response)
    # The admin capitalises a message's first letter: it must not be a label.
    page = admin_client.get(response.url).content.decode()
    assert f"Activated {v1.version}" in page
    assert "Lotto_model" not in page


def test_activating_the_active_version_says_nothing_changed(admin_client, two_versions):
    _, v2 = two_versions
    before = ModelActivation.objects.count()
    response = act(admin_client, "activate_selected", v2)
    assert texts(response) == [
        f"Nothing changed: {v2.version} is already the active model."
    ]
    assert ModelActivation.objects.count() == before


def test_the_version_page_shows_validation_metrics_beside_their_baselines(
    admin_client, two_versions
):
    _, v2 = two_versions
    url = reverse("admin:mlops_modelversion_change", args=[v2.pk])
    page = admin_client.get(url).content.decode()
    figure = v2.validation_metrics["any_hit_rate"]
    row = re.search(r'<tr id="validation-any_hit_rate">(.*?)</tr>', page).group(1)
    assert f"<td>{100 * figure['value']:.1f}%</td>" in row
    assert f"<td>{100 * figure['baseline']:.1f}%</td>" in row
    assert figure["verdict"] in row
    for code in ("mean_hits", "prize_rate", "brier_score"):
        assert f'id="validation-{code}"' in page


def test_times_on_the_version_pages_are_kst_and_labelled(admin_client, two_versions):
    v1, _ = two_versions
    url = reverse("admin:mlops_modelversion_change", args=[v1.pk])
    page = admin_client.get(url).content.decode()
    activated = ModelActivation.objects.filter(model_version=v1).first().activated_at
    assert activated.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST") in page
    listing = admin_client.get(reverse("admin:mlops_modelversion_changelist"))
    assert re.search(r"newest \d{4}-\d\d-\d\d \d\d:\d\d KST", listing.content.decode())


def test_page_titles_of_activations_backups_and_audit_events_read_kst(
    admin_client, two_versions
):
    v1, _ = two_versions
    rows = [
        ("modelactivation", ModelActivation.objects.filter(model_version=v1).first()),
        ("modelbackup", ModelBackup.objects.filter(model_version=v1).first()),
        ("auditevent", AuditEvent.objects.order_by("pk").first()),
    ]
    for model, row in rows:
        url = reverse(f"admin:mlops_{model}_change", args=[row.pk])
        title = re.search(
            r"<title>(.*?)</title>", admin_client.get(url).content.decode()
        )
        when = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d( KST)?", title.group(1))

        assert when, (model, title.group(1))
        assert when.group(1) == " KST", (model, title.group(1))
        assert "+00:00" not in title.group(1)


def test_the_version_page_formats_size_and_training_time(admin_client, two_versions):
    _, v2 = two_versions
    url = reverse("admin:mlops_modelversion_change", args=[v2.pk])
    page = admin_client.get(url).content.decode()

    assert f"({v2.size_bytes:,} bytes)</div>" in page
    assert f'<div class="readonly">{v2.training_seconds:.1f} s</div>' in page


def test_the_retrain_run_page_shows_its_figures_beside_baselines_and_readable(
    admin_client, two_versions
):
    _, v2 = two_versions
    run = RetrainRun.objects.create(
        trigger=RetrainRun.Trigger.CLI,
        status=RetrainRun.Status.SUCCESS,
        duration_seconds=5.064090876000137,
        peak_memory_bytes=334360576,
        options={"force": True, "reason": "test"},
        validation_metrics=v2.validation_metrics,
        model_version=v2,
    )
    listing = admin_client.get(reverse("admin:mlops_retrainrun_changelist"))
    page = admin_client.get(
        reverse("admin:mlops_retrainrun_change", args=[run.pk])
    ).content.decode()

    assert "5.1 s" in listing.content.decode()
    assert "5.064090876000137" not in listing.content.decode() + page
    assert "<code>cli</code> command line" in page
    assert "318.9 MB" in page.replace("\xa0", " ")  # filesizeformat's nbsp
    assert "force: True</div>" in page
    assert "test</div>" in page  # the reason, in its own row
    figure = v2.validation_metrics["any_hit_rate"]
    row = re.search(r'<tr id="validation-any_hit_rate">(.*?)</tr>', page).group(1)
    assert f"<td>{100 * figure['baseline']:.1f}%</td>" in row
    brier = v2.validation_metrics["brier_score"]
    assert f"<td>{brier['baseline']:.5f}</td>" in page


def test_activating_two_versions_at_once_is_refused(admin_client, two_versions):
    v1, v2 = two_versions
    response = act(admin_client, "activate_selected", v1, v2)
    assert "Select exactly one version to activate." in texts(response)
    v2.refresh_from_db()
    assert v2.is_active


def test_back_up_copies_each_selected_version(admin_client, two_versions):
    v1, v2 = two_versions
    response = act(admin_client, "backup_selected", v1, v2)
    assert response.status_code == 302
    assert ModelBackup.objects.filter(created_by="admin").count() == 2


def test_restore_asks_for_confirmation_first_and_changes_nothing_until_confirmed(
    admin_client, model_root, two_versions
):
    v1, v2 = two_versions
    (model_root / v1.file_path).unlink()
    response = act(admin_client, "restore_selected", v1)
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Restore {v1.version} from backup?" in page
    assert "file missing: it will be replaced by the backup below" in page
    assert v1.backups.get().file_path in page
    assert "Yes, restore it" in page
    v2.refresh_from_db()
    assert v2.is_active
    assert not (model_root / v1.file_path).exists()


def test_confirming_the_restore_makes_the_version_active(
    admin_client, model_root, two_versions
):
    v1, _ = two_versions
    (model_root / v1.file_path).unlink()
    response = act(
        admin_client, "restore_selected", v1, post="yes", reason="bad release"
    )
    assert response.status_code == 302
    assert f"Restored {v1.version}; it is now the active model." in texts(response)
    v1.refresh_from_db()
    assert v1.is_active
    assert (model_root / v1.file_path).exists()
    event = AuditEvent.objects.get(action="restore")
    assert (event.actor, event.details["reason"]) == ("admin", "bad release")


def test_a_restore_that_cannot_work_says_why(admin_client, model_root, shipped_draws):
    v1 = train(1, activate=True)
    v2 = train(2, activate=True)
    (model_root / v1.file_path).unlink()
    page = act(admin_client, "restore_selected", v1).content.decode()
    assert "none that matches the checksum: the restore will be refused" in page
    response = act(admin_client, "restore_selected", v1, post="yes")
    assert any("Not restored" in t for t in texts(response))
    v2.refresh_from_db()
    assert v2.is_active


def test_verify_integrity_reports_problems_as_errors(
    admin_client, model_root, two_versions
):
    v1, v2 = two_versions
    (model_root / v1.file_path).write_bytes(b"broken")
    response = act(admin_client, "verify_selected", v1, v2)
    messages = texts(response)
    assert any("1 corrupt" in m for m in messages)
    assert any(m.startswith(f"corrupt: {v1.file_path}") for m in messages)
    event = AuditEvent.objects.get(action="verify")
    assert event.actor == "admin"


def test_roll_back_shows_the_target_then_activates_it(admin_client, two_versions):
    v1, v2 = two_versions
    url = reverse("admin:mlops_modelversion_rollback")
    page = admin_client.get(url).content.decode()
    assert f"Rolling back activates <strong>{v1.version}</strong>" in page
    assert f"Active now: <strong>{v2.version}</strong>" in page
    v2.refresh_from_db()
    assert v2.is_active  # only shown, not done

    response = admin_client.post(url, {"reason": "drill"})
    assert response.status_code == 302
    v1.refresh_from_db()
    assert v1.is_active
    current = ModelActivation.objects.get(is_current=True)
    assert (current.activated_by, current.reason) == ("rollback", "drill")


def test_roll_back_with_nothing_to_go_back_to_says_so(admin_client, model_root, db):
    page = admin_client.get(reverse("admin:mlops_modelversion_rollback")).content
    assert b"There is no earlier version to roll back to" in page


def test_retrain_now_queues_a_manual_retrain_and_refuses_a_second(
    admin_client, admin_user, model_root, shipped_draws
):
    url = reverse("admin:mlops_retrainrun_retrain")
    first = admin_client.post(url)
    run = RetrainRun.objects.get()
    assert (run.trigger, run.requested_by) == ("manual", admin_user)
    assert f"Retrain run {run.pk} queued." in texts(first)

    second = admin_client.post(url)
    assert any(t.startswith("Refused: Retrain run") for t in texts(second))
    assert RetrainRun.objects.count() == 1
    assert admin_client.put(url).status_code == 405


def test_retrain_now_shows_its_options_and_a_confirmation_first(
    admin_client, model_root, shipped_draws
):
    url = reverse("admin:mlops_retrainrun_retrain")
    page = admin_client.get(url).content.decode()
    assert 'id="retrain-confirmation"' in page
    for name in ('value="plain"', 'value="tune"', 'value="warm_start"', 'name="force"'):
        assert name in page
    assert not RetrainRun.objects.exists()  # looking queues nothing


def test_retrain_now_passes_the_chosen_options_and_reason(
    admin_client, model_root, shipped_draws
):
    url = reverse("admin:mlops_retrainrun_retrain")
    admin_client.post(url, {"mode": "tune", "force": "on", "reason": "new grid"})
    run = RetrainRun.objects.get()
    assert run.options == {
        "force": True,
        "tune": True,
        "warm_start": False,
        "reason": "new grid",
    }


def test_the_retrain_list_has_the_button_and_filters(admin_client, db):
    RetrainRun.objects.create(trigger="scheduled", status="success")
    RetrainRun.objects.create(trigger="manual", status="failed")
    url = reverse("admin:mlops_retrainrun_changelist")
    page = admin_client.get(url).content.decode()
    assert "Retrain now" in page
    filtered = admin_client.get(url, {"trigger": "manual", "status": "failed"})
    assert filtered.context["cl"].result_count == 1
    run = RetrainRun.objects.first()
    change = reverse("admin:mlops_retrainrun_change", args=[run.pk])
    assert admin_client.post(change, {"status": "success"}).status_code == 403


def test_forecasts_filter_by_target_draw_and_scored(admin_client, shipped_draws):
    common = {
        "target_draw_date": dt.date(2026, 5, 2),
        "mode": "statistical",
        "probabilities": [1 / 45] * 45,
        "top_numbers": [1, 2, 3, 4, 5, 6],
    }
    Prediction.objects.create(target_draw_no=1221, forecaster="statistical", **common)
    Prediction.objects.create(
        target_draw_no=1222,
        forecaster="statistical",
        scored_at=dt.datetime(2026, 5, 9, tzinfo=dt.UTC),
        **common,
    )
    url = reverse("admin:mlops_prediction_changelist")
    assert admin_client.get(url, {"scored": "yes"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"scored": "no"}).context["cl"].result_count == 1
    by_draw = admin_client.get(url, {"target_draw": "1222"})
    assert [p.target_draw_no for p in by_draw.context["cl"].result_list] == [1222]
    assert admin_client.get(url, {"q": "1221"}).context["cl"].result_count == 1


def test_nobody_can_add_change_or_delete_audit_events_not_even_a_superuser(
    admin_client, db
):
    event = AuditEvent.objects.create(actor_type="cli", actor="cli", action="backup")
    change = reverse("admin:mlops_auditevent_change", args=[event.pk])
    delete = reverse("admin:mlops_auditevent_delete", args=[event.pk])
    add = reverse("admin:mlops_auditevent_add")
    assert admin_client.get(change).status_code == 200  # it can be read
    assert admin_client.post(change, {"action": "restore"}).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.get(add).status_code == 403
    bulk = admin_client.post(
        reverse("admin:mlops_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    event.refresh_from_db()
    assert event.action == "backup"
    assert AuditEvent.objects.count() == 1


def test_the_activation_and_backup_lists_are_read_only(admin_client, two_versions):
    for name in ("modelactivation", "modelbackup"):
        url = reverse(f"admin:mlops_{name}_changelist")
        assert admin_client.get(url).status_code == 200
        assert admin_client.get(reverse(f"admin:mlops_{name}_add")).status_code == 403


def test_the_admin_index_links_the_operations_page(admin_client, db):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("operations_dashboard") in page


def test_the_operations_page_shows_model_monitor_trend_and_scheduler(
    admin_client, two_versions
):
    _, v2 = two_versions
    response = admin_client.get(reverse("operations_dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert f">{v2.version}</a>" in page
    assert 'id="monitor-status"' in page
    assert 'id="accuracy-trend-module"' in page
    assert 'id="scheduler-status"' in page
    # No forecast has been scored yet: the monitor says so instead of a figure.
    assert ">insufficient_data</span>" in page
    assert "not enough scored forecasts yet (0 of 20)" in page
    assert "No scored forecasts in this period yet." in page
    assert 'id="schedules"' in page  # the scheduler's, as a table
    assert "{&#x27;" not in page
    assert "{'" not in page
    assert "not available" not in page


def test_a_section_whose_service_fails_says_so_and_the_page_still_renders(
    admin_client, two_versions, monkeypatch
):
    def broken():
        raise RuntimeError("broker unreachable")

    monkeypatch.setattr(admin_views, "scheduler_status", broken)
    response = admin_client.get(reverse("operations_dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Scheduler status not available (RuntimeError: broker unreachable)." in page
    assert 'id="monitor-status"' in page


def test_the_trend_chart_draws_every_point_and_the_baseline_it_was_given():
    points = [
        {
            "date": f"2026-0{i}-01",
            "draw": 1200 + i,
            "accuracy": a,
            "baseline": 59.9,
            "sample_size": 52,
        }
        for i, a in enumerate([55.0, 61.5, 63.0], start=1)
    ]
    svg = trend_svg(points, {"good": 70.0, "critical": 50.0})
    assert svg.count("<circle") == 3
    assert "random baseline 59.9%" in svg
    assert "good threshold 70.0%" in svg
    assert "critical threshold 50.0%" in svg
    assert "draw 1203 (2026-03-01): 63.0% over 52 forecast(s)" in svg
    # The x axis says when: the first and last dates are printed under it.
    assert 'class="x-date">2026-01-01</text>' in svg
    assert 'class="x-date">2026-03-01</text>' in svg
    # Y ticks are round numbers, never a label that could pass for the baseline.
    ticks = re.findall(r'class="y-tick">(\d+)%</text>', svg)
    assert ticks
    assert all(int(t) % 5 == 0 for t in ticks)
    assert trend_svg([], {}) == ""
