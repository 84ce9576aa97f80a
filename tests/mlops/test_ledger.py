"""The forecast ledger: a sha256 hash chain over every recorded forecast, checked by
verify_ledger and by anyone with the Python standard library."""

import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import translation
from rest_framework.test import APIClient

from draws.models import expected_draw_date
from mlops.models import LedgerHead, ModelVersion, Prediction
from mlops.services.monitoring.ledger import (
    GENESIS,
    ledger_canonical,
    ledger_commitment,
)
from mlops.services.monitoring.predictions import forecast_record
from tests.factories import draw_record, store_draws

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
UNIFORM = [6 / 45] * 45


def record(target: int, *, games=((1, 2, 3, 4, 5, 6),)) -> Prediction:
    return forecast_record(
        target_draw_no=target,
        target_draw_date=expected_draw_date(target),
        mode="statistical",
        model_version=None,
        probabilities=UNIFORM,
        combinations=games,
    )


def verify(**options) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("verify_ledger", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def chain(model_root):
    """Ten stored draws and forecasts for draws 11, 12 and 13, in that order."""
    store_draws(10)
    return [record(11), record(12), record(13)]


def test_each_recorded_forecast_is_linked_to_the_one_before(chain):
    first, second, third = (Prediction.objects.get(pk=p.pk) for p in chain)

    assert [first.ledger_index, second.ledger_index, third.ledger_index] == [1, 2, 3]
    assert first.previous_commitment == GENESIS
    assert second.previous_commitment == first.commitment
    assert third.previous_commitment == second.commitment
    head = LedgerHead.objects.get()
    assert (head.length, head.commitment) == (3, third.commitment)
    assert not any(p.pre_ledger for p in (first, second, third))


def test_the_commitment_is_sha256_of_the_pinned_canonical_form(model_root):
    version = ModelVersion(version="lotto_model_20261205", sha256="ab" * 32)
    prediction = Prediction(
        target_draw_no=1222,
        forecaster="lotto_model_20261205",
        model_version=version,
        top_numbers=[3, 7, 12, 19, 33, 41],
        combinations=[[3, 7, 12, 19, 33, 41]],
        probabilities=[0.1234564] + [0.1] * 44,
        created_at=dt.datetime(2026, 12, 5, 20, 0, 1, 5, tzinfo=dt.UTC),
    )

    canonical = ledger_canonical(prediction, previous=GENESIS)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))

    assert text.startswith(
        '{"forecaster":"lotto_model_20261205","games":[[3,7,12,19,33,41]],'
        '"model_sha256":"' + "ab" * 32 + '","model_version":"lotto_model_20261205",'
        '"previous":"' + GENESIS + '","probabilities":["0.123456","0.100000",'
    )
    assert text.endswith(
        '"recorded_at":"2026-12-05T20:00:01.000005Z",'
        '"target_draw_no":1222,"top_numbers":[3,7,12,19,33,41]}'
    )
    assert ledger_commitment(canonical) == hashlib.sha256(text.encode()).hexdigest()


def test_verify_ledger_accepts_an_intact_chain(chain):
    output = verify()

    assert f"Ledger intact: 3 links, head {chain[-1].commitment}." in output


def test_a_forecast_altered_by_raw_sql_is_named_by_verify_ledger(chain):
    # Draw 12 is stored: its forecast is frozen, below the ORM too.
    from draws.services import draw_import_records

    draw_import_records([draw_record(11, (1, 2, 3, 4, 5, 6), 7)], source="test")
    draw_import_records([draw_record(12, (1, 2, 3, 4, 5, 6), 7)], source="test")
    altered = chain[1]
    update = "UPDATE mlops_prediction SET top_numbers = %s WHERE id = %s"
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(update, ["[8, 9, 10, 11, 12, 13]", altered.pk])

    with connection.cursor() as cursor:
        disable_freeze_trigger(cursor)
        cursor.execute(update, ["[8, 9, 10, 11, 12, 13]", altered.pk])

    with pytest.raises(CommandError) as error:
        verify()
    assert f"link 2, forecast {altered.pk} for draw 12" in str(error.value)
    assert "altered" in str(error.value)


def disable_freeze_trigger(cursor) -> None:
    """Switch the database's freeze trigger off (the test's transaction restores it)."""
    if connection.vendor == "postgresql":
        # Deferred foreign-key checks pending in this transaction block ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE mlops_prediction DISABLE TRIGGER mlops_prediction_frozen"
        )
    else:
        cursor.execute("DROP TRIGGER mlops_prediction_frozen_after_draw")


def test_a_removed_link_is_named(chain):
    Prediction.objects.filter(pk=chain[1].pk).delete()

    with pytest.raises(CommandError, match="link 2 is missing"):
        verify()


def test_the_chain_must_extend_a_saved_head(chain):
    saved = chain[1].commitment
    assert "Ledger intact" in verify(saved_head=saved)

    with pytest.raises(CommandError, match="does not extend the saved head"):
        verify(saved_head="f" * 64)


def test_a_forecast_recorded_outside_the_service_is_reported(chain):
    Prediction.objects.create(
        target_draw_no=14,
        target_draw_date=expected_draw_date(14),
        mode="statistical",
        forecaster="statistical",
        probabilities=UNIFORM,
        top_numbers=[1, 2, 3, 4, 5, 6],
    )

    with pytest.raises(CommandError, match="not linked"):
        verify()


def test_a_forecast_appears_in_the_api_as_soon_as_it_is_recorded(chain):
    body = APIClient().get("/api/forecasts/?target_draw=12").json()

    assert body["count"] == 1
    forecast = body["results"][0]
    assert forecast["target_draw_no"] == 12
    assert forecast["forecaster"] == "statistical"
    assert forecast["ledger"]["index"] == 2
    assert forecast["ledger"]["commitment"] == chain[1].commitment
    assert forecast["recorded_at"].endswith("+09:00")


def test_the_forecast_list_refuses_a_bad_filter(chain):
    response = APIClient().get("/api/forecasts/?target_draw=zero")

    assert response.status_code == 400
    assert "target_draw" in response.json()["errors"]


def test_the_ledger_endpoint_gives_the_head_and_length(chain):
    body = APIClient().get("/api/forecasts/ledger/").json()

    assert body["head"] == chain[-1].commitment
    assert body["length"] == 3
    assert body["links"] is None
    assert body["algorithm"] == "sha256"


def test_since_a_saved_head_returns_the_links_after_it(chain):
    body = APIClient().get(f"/api/forecasts/ledger/?since={chain[0].commitment}").json()

    assert [link["index"] for link in body["links"]] == [2, 3]
    assert body["links"][0]["canonical"]["previous"] == chain[0].commitment


def test_an_unknown_or_malformed_head_is_refused(chain):
    unknown = APIClient().get("/api/forecasts/ledger/?since=" + "f" * 64)
    malformed = APIClient().get("/api/forecasts/ledger/?since=nothex")

    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_head"
    assert malformed.status_code == 400
    assert "since" in malformed.json()["errors"]


def documented_verifier():
    """The verification procedure in docs/STATISTICS.md, run as written."""
    docs = (ROOT / "docs" / "STATISTICS.md").read_text()
    section = docs[docs.index("## Ledger") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace = {}
    exec(compile(code, "STATISTICS.md", "exec"), namespace)  # noqa: S102
    return namespace["verify_export"]


def test_the_documented_standard_library_procedure_verifies_an_export(chain):
    export = APIClient().get(f"/api/forecasts/ledger/?since={GENESIS}").json()
    verify_export = documented_verifier()

    assert verify_export(export, saved_head=chain[0].commitment) == export["head"]

    export["links"][1]["canonical"]["top_numbers"] = [8, 9, 10, 11, 12, 13]
    with pytest.raises(ValueError, match="link 2"):
        verify_export(export, saved_head=None)


def test_the_documented_procedure_refuses_a_chain_that_drops_the_saved_head(chain):
    export = APIClient().get(f"/api/forecasts/ledger/?since={GENESIS}").json()
    verify_export = documented_verifier()

    with pytest.raises(ValueError, match="saved head"):
        verify_export(export, saved_head="e" * 64)
