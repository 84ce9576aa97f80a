"""The staff pages of the model's life speak Korean: operations page, model list."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_operations_page_is_korean_and_says_its_times_are_kst(admin_client):
    response = admin_client.get(
        reverse("operations_dashboard"), HTTP_ACCEPT_LANGUAGE="ko"
    )

    page = response.content.decode()
    assert response.status_code == 200
    for words in (
        "운영",
        "한눈에 보는 상태",
        "스케줄러 상태",
        "최근 감사 기록",
        " KST",
    ):
        assert words in page, words


def test_the_admin_index_links_the_operations_dashboard_in_korean(admin_client):
    response = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ko")

    assert "운영 페이지 열기" in response.content.decode()


def test_the_model_list_says_no_model_is_active_in_korean(admin_client):
    response = admin_client.get(
        reverse("admin:mlops_modelversion_changelist"), HTTP_ACCEPT_LANGUAGE="ko"
    )

    page = response.content.decode()
    assert "활성 모델 없음" in page
    assert "번호 추천은 통계 모드로 제공됩니다." in page


def test_the_audit_trail_shows_a_stored_summary_in_the_readers_language(
    admin_client,
):
    from mlops.messages import message
    from mlops.models import AuditEvent

    summary = message(
        "verify.summary", checked=8, ok=7, missing=1, corrupt=0, orphans=0
    )
    AuditEvent.objects.create(
        actor_type="cli",
        actor="cli",
        action="verify",
        details={"summary": "8 file(s) checked: ...", "summary_message": summary},
    )
    AuditEvent.objects.create(  # written before codes existed: free text only
        actor_type="cli", actor="cli", action="verify", details={"summary": "old text"}
    )
    url = reverse("admin:mlops_auditevent_changelist")

    korean = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    english = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "파일 8개 검사: 정상 7개, 없음 1개, 손상 0개" in korean
    assert "8 file(s) checked: 7 ok, 1 missing, 0 corrupt" in english
    assert "old text" in korean
    assert "감사 기록" in korean


def test_model_commands_report_in_korean(settings, model_root, shipped_draws):
    import io

    from django.core.management import call_command
    from django.utils import translation

    from tests.factories import train

    settings.LANGUAGE_CODE = "ko"
    translation.deactivate()  # a command speaks the configured language
    version = train(0)
    out = io.StringIO()

    call_command("backup_model", version.version, stdout=out)
    call_command("verify_models", stdout=out)
    call_command("cleanup_models", "--dry-run", stdout=out)

    text = out.getvalue()
    assert f"{version.version}을(를) " in text
    assert "검증 완료" in text
    assert "파일 " in text
    assert "검사: 정상 " in text
    assert "일보다 오래된 파일 정리:" in text


def test_scheduler_status_speaks_korean_with_kst_times(settings, model_root):
    import io

    from django.core.management import call_command
    from django.utils import translation

    from mlops.services.training.scheduling import schedules_setup

    settings.LANGUAGE_CODE = "ko"
    translation.deactivate()
    schedules_setup()
    out = io.StringIO()

    call_command("scheduler_status", stdout=out)

    text = out.getvalue()
    assert "다음 재학습: " in text
    assert " KST" in text
    assert "+09:00" not in text  # people read 2026-12-08 00:00 KST, not ISO
    assert "클러스터: 실행 안 됨 (신호 없음)" in text
