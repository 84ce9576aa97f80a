"""The backtest's report, printed in Korean: every heading, label and verdict."""

import io
import json

import pytest
from django.core.management import call_command
from django.utils import translation

from tests.factories import store_draws
from tests.test_korean_coverage import HANGUL, english_sentences

pytestmark = pytest.mark.django_db

SMALL = {"draws": 10, "retrain_every": 10}


def run_backtest(settings, language: str, **options) -> str:
    settings.ML_N_ESTIMATORS = 5
    out = io.StringIO()
    with translation.override(language):
        call_command("backtest", **SMALL, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_the_backtest_report_reads_in_korean_with_no_english_sentence_left(
    settings, model_root
):
    store_draws(520, seed=7)
    output = run_backtest(settings, "ko")

    for heading in (
        "워크포워드 백테스트",
        "지표",
        "예측 주체",
        "신뢰구간 (95%)",
        "기준선 (무작위 기준)",
        "판정",
        "정확도 (상위 6개 중 1개 이상 일치)",
        "브라이어 점수",
        "통계 모드",
        "회차당 일치 개수",
        "소요 시간",
    ):
        assert heading in output, heading
    # 10 forecasts: each figure carries a verdict, in Korean
    assert any(
        verdict in output
        for verdict in ("우연 이상의 근거 없음", "우연보다 나음", "우연보다 못함")
    )
    flat = " ".join(output.split())
    left = [sentence for sentence in english_sentences() if sentence in flat]
    assert not left, left
    for english in ("metric", "forecaster", "verdict", "Elapsed", "Report:"):
        assert english not in output


def test_the_report_file_keeps_its_english_words_and_codes(settings, model_root):
    store_draws(520, seed=7)
    output = run_backtest(settings, "ko")

    path = output.split("보고서: ")[1].split()[0]
    stored = json.loads((model_root / path).read_text())
    reading = stored["model_minus_statistical"]["hits"]["reading"]
    assert reading in {
        "no evidence that either is better",
        "model better",
        "statistical mode better",
    }
    figure = stored["results"]["model"]["any_hit_rate"]
    assert not HANGUL.search(figure["verdict"])
    assert figure["verdict_code"] in {"better", "no_evidence", "worse"}
