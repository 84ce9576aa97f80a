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
