"""The recommendations API speaks Korean to people and keeps its codes for machines."""

import pytest
from rest_framework.test import APIClient

from tests.factories import store_draws

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_forecast_cache")]


def get(path: str, language: str = "ko"):
    return APIClient().get(path, HTTP_ACCEPT_LANGUAGE=language)


def test_statistical_mode_is_explained_in_korean_beside_its_codes(settings, model_root):
    settings.RECOMMENDATIONS_USE_ML = False
    store_draws(60)

    body = get("/api/recommendations/?count=2&seed=1").json()

    assert body["mode"] == "statistical"
    assert body["mode_description"].startswith("통계 모드:")
    assert body["fallback_reason"] == "forced"
    assert body["fallback_reason_description"].startswith("ML이 꺼져 있습니다")
    assert (
        "어떤 번호 추천, 모델, 통계도 당첨 확률을 높이지 못합니다" in body["disclaimer"]
    )
    assert "8,145,060분의 1" in body["disclaimer"]


def test_the_same_request_in_english_keeps_the_same_codes(settings, model_root):
    settings.RECOMMENDATIONS_USE_ML = False
    store_draws(60)

    korean = get("/api/recommendations/?count=2&seed=1").json()
    english = get("/api/recommendations/?count=2&seed=1", "en").json()

    assert english["disclaimer"].startswith("Lottery draws are random")
    assert english["mode_description"].startswith("Statistical mode:")
    for key in ("games", "mode", "fallback_reason", "seed", "target_draw"):
        assert korean[key] == english[key], key


def test_a_bad_parameter_is_refused_in_korean(model_root):
    store_draws(60)

    response = get("/api/recommendations/?include=3,99&exclude=3")

    assert response.status_code == 400
    text = str(response.json())
    assert "번호는 1부터 45 사이여야 합니다. 입력값: [99]." in text


def test_no_draws_answers_503_in_korean(model_root):
    response = get("/api/recommendations/")

    assert response.status_code == 503
    assert "아직 저장된 회차가 없어 예측할 수 없습니다." in str(response.json())


def test_validation_verdicts_are_korean_with_their_codes(trained, fresh_forecast_cache):
    body = get("/api/recommendations/?count=1&seed=1").json()

    assert body["mode"] == "ml"
    assert body["mode_description"] == "활성 모델의 예측으로 추천한 번호입니다."
    metrics = body["validation"]["metrics"]
    assert metrics
    for metric in metrics:
        assert metric["verdict_code"] in {
            "better",
            "no_evidence",
            "worse",
            "insufficient_data",
        }
        assert metric["verdict"] in {
            "우연보다 나음",
            "우연 이상의 근거 없음",
            "우연보다 못함",
            "데이터 부족",
        }
