"""The forecast ledger: every recorded forecast is a link in one sha256 hash chain.

A link's commitment is sha256 over the canonical form of the forecast (target
draw, forecaster, model version and its sha256, top numbers, the slip's games,
probabilities, recorded time) together with the previous link's commitment.
Changing any recorded forecast, or removing or reordering one, changes every
commitment after it, so a consumer who saved the head before a draw can prove
that today's chain extends it (docs/STATISTICS.md, "Ledger", and
`manage.py verify_ledger`).

The canonical form is pinned: JSON with sorted keys and no spaces (ASCII),
probabilities as strings with six decimals, the recorded time in UTC with
microseconds and a "Z". Appending locks the one LedgerHead row first, so
concurrent recorders (threads, processes, machines) link one after another.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.db.models import F
from django.utils.translation import gettext as _

from mlops.models import LedgerHead, Prediction

GENESIS = "0" * 64  # the "previous commitment" of the first link
ALGORITHM = "sha256"


def canonical_time(moment: dt.datetime) -> str:
    """UTC with microseconds and Z: 2026-12-05T11:35:00.000000Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ledger_canonical(prediction: Prediction, *, previous: str) -> dict:
    """The exact fields a link's commitment covers (JSON-ready, pinned format)."""
    version = prediction.model_version  # None for statistical mode
    return {
        "target_draw_no": prediction.target_draw_no,
        "forecaster": prediction.forecaster,
        "model_version": version.version if version else None,
        "model_sha256": version.sha256 if version else None,
        "top_numbers": [int(n) for n in prediction.top_numbers],
        "games": [[int(n) for n in game] for game in prediction.combinations or []],
        "probabilities": [f"{float(p):.6f}" for p in prediction.probabilities],
        "recorded_at": canonical_time(prediction.created_at),
        "previous": previous,
    }


def ledger_commitment(canonical: dict) -> str:
    """sha256 (hex) of the canonical JSON: sorted keys, no spaces, ASCII."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def ledger_append(prediction: Prediction) -> Prediction:
    """Link a just-inserted forecast into the chain, in the caller's transaction.

    The head row is updated first: that takes its row lock (PostgreSQL) or the
    database's write lock (SQLite) until the transaction ends, so two recorders
    can't both read the same head.
    """
    if not LedgerHead.objects.filter(pk=LedgerHead.SINGLETON).update(
        length=F("length") + 1
    ):
        LedgerHead.objects.get_or_create(pk=LedgerHead.SINGLETON)
        LedgerHead.objects.filter(pk=LedgerHead.SINGLETON).update(
            length=F("length") + 1
        )
    head = LedgerHead.objects.get(pk=LedgerHead.SINGLETON)
    previous = head.commitment or GENESIS
    commitment = ledger_commitment(ledger_canonical(prediction, previous=previous))
    Prediction.objects.filter(pk=prediction.pk).update(
        ledger_index=head.length, commitment=commitment, previous_commitment=previous
    )
    LedgerHead.objects.filter(pk=LedgerHead.SINGLETON).update(commitment=commitment)
    prediction.ledger_index = head.length
    prediction.commitment, prediction.previous_commitment = commitment, previous
    return prediction


@dataclass(frozen=True)
class LedgerProblem:
    """The first broken link: where, which forecast, and what is wrong."""

    index: int | None
    prediction_id: int | None
    target_draw_no: int | None
    message: str


def ledger_verify(*, saved_head: str | None = None) -> LedgerProblem | None:
    """Recompute the whole chain; the first broken link, or None when it holds.

    With `saved_head` (a head saved earlier), the chain must also extend it:
    that commitment must be one of today's links.
    """
    previous, expected_index, seen_saved = GENESIS, 1, saved_head in (None, GENESIS)
    links = Prediction.objects.filter(ledger_index__isnull=False).select_related(
        "model_version"
    )
    for prediction in links.order_by("ledger_index").iterator():
        where = (prediction.ledger_index, prediction.pk, prediction.target_draw_no)
        if prediction.ledger_index != expected_index:
            return LedgerProblem(
                *where,
                _("link %(expected)s is missing (the next one is %(found)s)")
                % {"expected": expected_index, "found": where[0]},
            )
        if prediction.previous_commitment != previous:
            return LedgerProblem(
                *where, _("its previous commitment is not the link before it")
            )
        canonical = ledger_canonical(prediction, previous=previous)
        if ledger_commitment(canonical) != prediction.commitment:
            return LedgerProblem(
                *where, _("its contents no longer match its commitment (altered)")
            )
        seen_saved = seen_saved or prediction.commitment == saved_head
        previous, expected_index = prediction.commitment, expected_index + 1
    unlinked = Prediction.objects.filter(ledger_index__isnull=True, pre_ledger=False)
    stray = unlinked.order_by("pk").first()
    if stray is not None:
        return LedgerProblem(
            None,
            stray.pk,
            stray.target_draw_no,
            _("recorded after the ledger began but not linked into it"),
        )
    head = LedgerHead.objects.filter(pk=LedgerHead.SINGLETON).first()
    length, head_commitment = (head.length, head.commitment) if head else (0, "")
    if (length, head_commitment or GENESIS) != (expected_index - 1, previous):
        return LedgerProblem(
            None, None, None, _("the head row does not match the last link")
        )
    if not seen_saved:
        return LedgerProblem(
            None,
            None,
            None,
            _("the chain does not extend the saved head %(head)s: it was rewritten")
            % {"head": saved_head},
        )
    return None
