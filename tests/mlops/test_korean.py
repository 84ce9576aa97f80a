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
        "ML 운영",
        "활성 모델",
        "모니터 상태",
        "스케줄러 상태",
        "최근 감사 기록",
        "시각은 한국 표준시(KST)입니다.",
    ):
        assert words in page, words


def test_the_admin_index_links_the_operations_dashboard_in_korean(admin_client):
    response = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ko")

    assert "운영 대시보드" in response.content.decode()


def test_the_model_list_says_no_model_is_active_in_korean(admin_client):
    response = admin_client.get(
        reverse("admin:mlops_modelversion_changelist"), HTTP_ACCEPT_LANGUAGE="ko"
    )

    page = response.content.decode()
    assert "활성 모델 없음" in page
    assert "번호 추천은 통계 모드로 제공됩니다." in page
