"""Texts the service stores for people are codes with parameters, read in any language."""

import pytest
from django.utils import translation

from mlops.messages import code_of, message, render, render_english


def test_a_stored_message_reads_in_the_readers_language():
    stored = message("activation.replaced_by", version="v20261208")

    with translation.override("ko"):
        korean = render(stored)
    with translation.override("en"):
        english = render(stored)

    assert korean == "v20261208(으)로 교체됨"
    assert english == "replaced by v20261208"
    assert code_of(stored) == "activation.replaced_by"


def test_a_message_inside_a_message_is_rendered_in_the_same_language():
    facts = message(
        "gate.facts",
        comparisons="any_hit_rate 0.5000 vs 0.4000",
        champion="v1",
        tolerance=0.05,
    )
    stored = message("gate.not_worse", facts=facts)

    with translation.override("ko"):
        assert render(stored) == (
            "승격: 현재 모델보다 나쁘지 않음: any_hit_rate 0.5000 vs 0.4000 "
            "(현재 모델 v1, 허용 범위 0.05)"
        )
    assert render_english(stored) == (
        "promoted: not worse than the champion: any_hit_rate 0.5000 vs 0.4000 "
        "(champion v1, tolerance 0.05)"
    )


def test_an_old_free_text_row_reads_as_it_was_stored():
    with translation.override("ko"):
        assert render(None, fallback="replaced by v1") == "replaced by v1"
        assert render("typed by a person") == "typed by a person"
        assert render({"code": "no.such.code"}, fallback="old text") == "old text"
    assert code_of(None) is None
    assert code_of("free text") is None


def test_a_row_whose_parameters_no_longer_fit_never_breaks_a_page():
    stored = {"code": "activation.replaced_by", "params": {"other": 1}}

    assert render(stored, fallback="replaced by v1") == "replaced by v1"


def test_an_unknown_code_is_refused_when_written():
    with pytest.raises(KeyError, match="unknown message code"):
        message("no.such.code")


def test_a_verdict_reads_in_the_readers_language_with_its_code_beside_it():
    from mlops.messages import verdict_fields

    with translation.override("ko"):
        new = verdict_fields(
            {"verdict": "no evidence of skill", "verdict_code": "no_evidence"}
        )
        old = verdict_fields({"verdict": "better than chance"})  # stored before codes
    assert new == {"verdict": "우연 이상의 근거 없음", "verdict_code": "no_evidence"}
    assert old == {"verdict": "우연보다 나음", "verdict_code": "better"}
    assert verdict_fields({}) == {"verdict": "", "verdict_code": None}


@pytest.mark.django_db
def test_activation_and_promotion_reasons_are_stored_as_codes_and_read_in_korean(
    model_root, admin_user
):
    from rest_framework.test import APIClient

    from mlops.models import ModelActivation
    from mlops.services.operations.backups import model_version_rollback
    from mlops.services.registry.audit import Actor
    from tests.factories import store_draws, train

    store_draws(520)
    first = train(1, activate=True)
    train(2, activate=True)
    model_version_rollback(actor=Actor.cli())  # the service's own reason
    period = ModelActivation.objects.get(is_current=True)
    client = APIClient()
    client.force_authenticate(admin_user)

    korean = client.get(
        f"/api/admin/models/{first.version}/activations", HTTP_ACCEPT_LANGUAGE="ko"
    ).json()
    english = client.get(
        f"/api/admin/models/{first.version}/activations", HTTP_ACCEPT_LANGUAGE="en"
    ).json()

    assert period.reason == "rolled back to the previous version"  # English kept
    assert period.reason_message == {"code": "activation.rolled_back", "params": {}}
    assert korean[-1]["reason"] == "이전 버전으로 롤백"
    assert korean[-1]["reason_code"] == "activation.rolled_back"
    assert english[-1]["reason"] == "rolled back to the previous version"
    assert korean[0]["deactivation_reason"].endswith("(으)로 교체됨")
    assert korean[0]["deactivation_reason_code"] == "activation.replaced_by"


@pytest.mark.django_db
def test_a_retrain_runs_gate_reason_reads_in_korean_with_its_code(
    model_root, admin_user
):
    from rest_framework.test import APIClient

    from mlops.services.registry.audit import Actor
    from mlops.services.training.retrain_requests import retrain_run_now
    from tests.factories import store_draws

    store_draws(520)
    run = retrain_run_now(actor=Actor.cli())
    client = APIClient()
    client.force_authenticate(admin_user)

    body = client.get(
        f"/api/admin/retrain-runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE="ko"
    ).json()

    assert run.promotion_reason == "promoted: no model was active"
    assert body["promotion_reason"] == "승격: 활성 모델이 없었음"
    assert body["promotion_reason_code"] == "gate.no_champion"


# --- Reasons and errors the service writes: codes, read in the reader's language ---


@pytest.mark.django_db
def test_the_admins_retrain_now_without_a_reason_stores_a_code_not_a_sentence(
    admin_client, model_root, shipped_draws
):
    from django.urls import reverse

    from mlops.admin.audit_events import audit_details_rows
    from mlops.models import AuditEvent, RetrainRun

    with translation.override("ko"):  # the admin who clicks reads Korean
        admin_client.post(
            reverse("admin:mlops_retrainrun_retrain"),
            {"mode": "plain", "reason": ""},
            HTTP_ACCEPT_LANGUAGE="ko",
        )
    run = RetrainRun.objects.get()
    event = AuditEvent.objects.get(action="retrain_requested")
    page = admin_client.get(
        reverse("admin:mlops_retrainrun_change", args=[run.pk]),
        HTTP_ACCEPT_LANGUAGE="ko",
    ).content.decode()

    # Stored: English text and the code, never the clicking admin's language.
    assert run.options["reason"] == "requested in the admin"
    assert run.options["reason_message"] == {"code": "retrain.admin", "params": {}}
    assert "관리자 화면에서 요청" in page
    with translation.override("en"):
        assert run.reason_text == "requested in the admin"
    with translation.override("ko"):
        assert run.reason_text == "관리자 화면에서 요청"
        rows = dict(audit_details_rows(event))
    assert "관리자 화면에서 요청" in rows["options"]
    assert "retrain.admin" not in rows["options"]  # never the raw code and params


@pytest.mark.django_db
def test_a_retrain_run_without_a_reason_reads_its_triggers_reason_with_a_code(
    admin_user,
):
    from rest_framework.test import APIClient

    from mlops.models import RetrainRun

    run = RetrainRun.objects.create(trigger="scheduled", status="success")
    typed = RetrainRun.objects.create(
        trigger="manual", status="success", options={"reason": "new draws"}
    )
    client = APIClient()
    client.force_authenticate(admin_user)

    body = client.get(
        f"/api/admin/retrain-runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE="ko"
    ).json()
    typed_body = client.get(
        f"/api/admin/retrain-runs/{typed.pk}/", HTTP_ACCEPT_LANGUAGE="ko"
    ).json()

    assert (body["reason"], body["reason_code"]) == (
        "정기 재학습 (매주)",
        "retrain.scheduled",
    )
    assert (typed_body["reason"], typed_body["reason_code"]) == ("new draws", None)


@pytest.mark.django_db
def test_an_abandoned_runs_error_is_a_code_read_in_korean_and_old_rows_as_stored(
    admin_user, model_root
):
    import datetime as dt

    from django.utils import timezone
    from rest_framework.test import APIClient

    from mlops.models import AuditEvent, RetrainRun
    from mlops.services.training.retraining import retrain_recover_abandoned

    long_ago = timezone.now() - dt.timedelta(hours=2)
    dead = RetrainRun.objects.create(
        trigger="scheduled",
        status=RetrainRun.Status.RUNNING,
        in_flight=RetrainRun.IN_FLIGHT,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    old = RetrainRun.objects.create(
        trigger="manual", status="failed", error_message="ValueError: from 2025"
    )
    with translation.override("ko"):  # the watchdog runs in Korean by default
        retrain_recover_abandoned()
    dead.refresh_from_db()
    client = APIClient()
    client.force_authenticate(admin_user)

    korean = client.get(
        f"/api/admin/retrain-runs/{dead.pk}/", HTTP_ACCEPT_LANGUAGE="ko"
    ).json()
    old_body = client.get(
        f"/api/admin/retrain-runs/{old.pk}/", HTTP_ACCEPT_LANGUAGE="ko"
    ).json()

    assert dead.error_message.startswith("abandoned: no sign of life since")
    assert dead.error_message.endswith("the worker running it probably died")
    assert korean["error_message"].startswith("중단됨: ")
    assert korean["error_message"].endswith("실행하던 워커가 죽은 것으로 보임")
    assert " KST " in korean["error_message"]  # a time for people: KST, labelled
    assert korean["error_message_code"] == "run.abandoned"
    assert (old_body["error_message"], old_body["error_message_code"]) == (
        "ValueError: from 2025",
        None,
    )
    event = AuditEvent.objects.get(action="retrain_finished")
    assert event.details["reason_message"]["code"] == "run.abandoned"


@pytest.mark.django_db
def test_the_emergency_retrains_reason_is_stored_as_a_code_with_its_figures(
    model_root,
):
    from mlops.models import RetrainRun
    from mlops.services.monitoring.monitoring import monitor_check
    from mlops.services.registry.audit import Actor
    from tests.mlops.test_monitoring import critical_history

    critical_history()
    with translation.override("ko"):
        result = monitor_check(actor=Actor.scheduler())
    run = RetrainRun.objects.get()

    assert result["reason_code"] == "retrain.accuracy_critical"
    assert run.reason_code == "retrain.accuracy_critical"
    assert "worse than chance (exact p = " in run.options["reason"]  # English kept
    with translation.override("ko"):
        assert "우연보다 못함 (정확 검정 p = " in run.reason_text
        assert "25.0%" in run.reason_text


@pytest.mark.django_db
def test_a_fallbacks_detail_in_the_audit_trail_reads_in_the_readers_language(
    admin_client, settings
):
    from django.urls import reverse

    from mlops.models import AuditEvent
    from recommendations.services.forecast_cache import forecast_cache_clear
    from recommendations.services.inference import forecast_current
    from tests.factories import store_draws

    settings.ML_MIN_DRAWS = 500
    store_draws(30)  # far below ML_MIN_DRAWS: statistical mode
    forecast_cache_clear()
    forecast_current()
    event = AuditEvent.objects.get(action="fallback")
    url = reverse("admin:mlops_auditevent_change", args=[event.pk])

    with translation.override("ko"):
        from mlops.admin.audit_events import audit_details_rows

        rows = dict(audit_details_rows(event))
    page = admin_client.get(
        reverse("operations_dashboard"), HTTP_ACCEPT_LANGUAGE="ko"
    ).content.decode()

    assert event.details["detail"] == "30 draws stored, ML_MIN_DRAWS is 500"
    assert event.details["detail_message"]["code"] == "fallback.insufficient_draws"
    assert rows["detail"] == "저장된 회차 30개, ML_MIN_DRAWS는 500"
    assert "detail message" not in rows
    assert "저장된 회차 30개, ML_MIN_DRAWS는 500" in page
    assert admin_client.get(url).status_code == 200


@pytest.mark.django_db
def test_a_corrupt_active_model_is_recorded_with_codes_read_in_korean(
    model_root, admin_user
):
    from rest_framework.test import APIClient

    from mlops.models import AuditEvent, ModelActivation
    from mlops.services.operations.integrity_checks import (
        integrity_last_check,
        model_active_verify,
    )
    from tests.factories import store_draws, train

    store_draws(520)
    version = train(1, activate=True)
    path = model_root / version.file_path
    path.write_bytes(path.read_bytes() + b"tampered")
    with translation.override("ko"):
        check = model_active_verify()
    period = ModelActivation.objects.get(model_version=version)
    heal = AuditEvent.objects.get(action="self_heal")
    client = APIClient()
    client.force_authenticate(admin_user)

    with translation.override("ko"):
        last = integrity_last_check()
        deactivation = period.deactivation_reason_text
    assert (
        check.summary
        == f"{version.version}: checksum_mismatch; self-heal: not restored"
    )
    assert (
        last["summary"]
        == f"{version.version}: checksum_mismatch; 자동 복구: 복원되지 않음"
    )
    assert last["summary_code"] == "integrity.active_failed"
    assert period.deactivation_reason.startswith(
        "corrupt: checksum_mismatch: recorded "
    )
    assert deactivation.startswith("손상됨: checksum_mismatch: 기록된 값 ")
    assert heal.details["detail_message"]["code"] == "integrity.checksum_mismatch"


@pytest.mark.django_db
def test_why_a_warm_start_refitted_is_stored_as_a_code_and_printed_in_korean(
    model_root,
):
    from mlops.management.commands.retrain import describe_run
    from mlops.services.registry.audit import Actor
    from mlops.services.training.retrain_requests import retrain_run_now
    from tests.factories import store_draws

    store_draws(520)
    run = retrain_run_now(actor=Actor.cli(), warm_start=True)  # nothing to grow

    with translation.override("ko"):
        printed = describe_run(run)

    assert run.tuning["warm_start"]["reason"] == "no active model to grow"
    assert run.tuning["warm_start"]["reason_message"]["code"] == "warm_start.no_active"
    assert "웜 스타트 대신 전체 재학습: 키울 활성 모델이 없음" in printed


@pytest.mark.django_db
def test_a_version_a_rollback_passed_over_is_audited_with_a_code_read_in_korean(
    model_root,
):
    from mlops.admin.audit_events import audit_details_rows
    from mlops.models import AuditEvent
    from mlops.services.operations.backups import model_version_rollback
    from mlops.services.registry.audit import Actor
    from mlops.services.registry.registry import model_version_mark_corrupt
    from tests.factories import store_draws, train

    store_draws(520)
    train(1, activate=True)
    v2 = train(2, activate=True)
    train(3, activate=True)
    model_version_mark_corrupt(version=v2, reason="checksum_mismatch")
    with translation.override("ko"):  # whoever rolls back reads Korean
        model_version_rollback(actor=Actor.cli())
    event = AuditEvent.objects.get(action="rollback")

    with translation.override("ko"):
        rows = dict(audit_details_rows(event))

    skipped = event.details["skipped"][0]
    assert skipped["why"] == "file missing or corrupt and no good backup"
    assert skipped["why_message"] == {"code": "rollback.unusable", "params": {}}
    assert "why: 모델 파일이 없거나 손상되었고 정상 백업이 없음" in rows["skipped"]
