"""The draw history speaks Korean to people: admin, commands, import errors."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from draws.services import DrawImportError, draw_import_file

pytestmark = pytest.mark.django_db


def test_the_draws_admin_shows_korean_labels(admin_client, draw_factory):
    draw_factory(draw_no=1)

    response = admin_client.get(
        reverse("admin:draws_lottodraw_changelist"), HTTP_ACCEPT_LANGUAGE="ko"
    )

    page = response.content.decode()
    assert response.status_code == 200
    for words in (
        "회차 기록",
        "추첨일",
        "당첨번호",
        "보너스 번호",
        "총판매금액",
        "연도",
    ):
        assert words in page, words


def test_check_draws_reports_in_korean_by_default(settings, draw_factory):
    settings.LANGUAGE_CODE = "ko"
    translation.deactivate()  # a command runs with the configured language
    for draw_no in (1, 2, 4):
        draw_factory(draw_no=draw_no)
    out = io.StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("check_draws", stdout=out)

    assert out.getvalue().splitlines() == ["저장된 회차 3개, 1-4회.", "누락 1개: 3"]
    assert str(excinfo.value) == (
        "회차 기록에 누락이 있거나 일정에 맞지 않는 추첨일이 있습니다."
    )


def test_an_import_refusal_names_each_problem_in_korean(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "draw_no,draw_date,n1,n2,n3,n4,n5,n6,bonus\n1,2002-12-07,1,2,3,4,5,46,7\n",
        encoding="utf-8",
    )

    with translation.override("ko"), pytest.raises(DrawImportError) as excinfo:
        draw_import_file(path)

    with translation.override("ko"):
        lines = excinfo.value.summary().splitlines()
    assert lines == [
        f"{path} 거부: 문제 1개, 아무것도 저장하지 않았습니다.",
        "2행, 필드 n6: 1-45 범위를 벗어났습니다: 46",
    ]


def test_the_draws_api_says_not_found_in_korean(client):
    response = client.get(reverse("draw-latest"), HTTP_ACCEPT_LANGUAGE="ko")

    assert response.status_code == 404
    assert response.json()["detail"] == "아직 저장된 회차가 없습니다."
