"""Texts the service writes for people, stored as a code with parameters.

A row keeps `{"code": "gate.kept_champion", "params": {...}}` and whoever reads it
sees the sentence in their own language, at read time. A parameter may itself be a
stored message (rendered the same way). Rows written before codes existed hold
plain text only: they read as they were stored.

    stored = message("gate.no_champion")           # what a service stores
    render(stored)                                 # in the active language
    render(row.reason_message, fallback=row.reason)
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from mlops.ml import metrics

MESSAGES = {
    # The promotion gate (mlops.services.training.promotion).
    "gate.no_champion": _("promoted: no model was active"),
    "gate.no_comparable_metrics": _(
        "promoted: champion %(champion)s has no comparable validation metrics"
    ),
    "gate.not_worse": _("promoted: not worse than the champion: %(facts)s"),
    "gate.forced": _("promoted by force although worse on %(worse)s: %(facts)s"),
    "gate.kept_champion": _(
        "kept champion: challenger worse on %(worse)s beyond the tolerance: %(facts)s"
    ),
    "gate.facts": _("%(comparisons)s (champion %(champion)s, tolerance %(tolerance)s)"),
    "gate.abandoned": _(
        "not promoted: the run was marked abandoned meanwhile (%(reason)s)"
    ),
    # A retrain with nothing new to learn (mlops.services.training.challenger).
    "retrain.unchanged": _(
        "unchanged: the active model %(version)s was trained on the same "
        "%(count)s draws (data hash %(hash)s…), parameters and feature set "
        "%(feature_set)s, and its file verifies; nothing was registered (force a "
        "retrain to fit again anyway)"
    ),
    # Why a version became active, or stopped being active (ModelActivation).
    "activation.replaced_by": _("replaced by %(version)s"),
    "activation.corrupt": _("corrupt: %(reason)s"),
    "activation.admin": _("activated in the admin"),
    "activation.restored": _("restored from backup"),
    "activation.rolled_back": _("rolled back to the previous version"),
    "activation.train_model_command": _("train_model command"),
    "activation.trained": _("trained on the stored history"),
    "activation.self_heal": _(
        "self-heal after %(reason)s: restored from backup %(backup)s"
    ),
    "activation.retrain": _("%(reason)s; %(gate)s"),
    # The integrity check's summary (audit trail, verify_models, the admin).
    "verify.summary": _(
        "%(checked)d file(s) checked: %(ok)d ok, %(missing)d missing, "
        "%(corrupt)d corrupt; %(orphans)d orphan file(s)"
    ),
    # Why a retrain was requested (RetrainRun, audit trail).
    "retrain.admin": _("requested in the admin"),
}

MISSING = "—"


def message(code: str, **params: Any) -> dict:
    """What a row stores: the code and its parameters (JSON-safe values)."""
    if code not in MESSAGES:
        raise KeyError(f"unknown message code {code!r}: add it to mlops.messages")
    return {"code": code, "params": params}


def is_message(value: Any) -> bool:
    return isinstance(value, dict) and value.get("code") in MESSAGES


def render(stored: Any, *, fallback: str = "") -> str:
    """The stored message in the active language; plain text as it was stored."""
    if not is_message(stored):
        if isinstance(stored, str) and stored:
            return stored
        return fallback or ""
    params = {
        key: render(value) if is_message(value) else value
        for key, value in (stored.get("params") or {}).items()
    }
    template = str(MESSAGES[stored["code"]])
    try:
        return template % params if params else template
    except (KeyError, TypeError, ValueError):
        # A row written by another version of this code: never fail a page on it.
        return fallback or template


def render_english(stored: Any, *, fallback: str = "") -> str:
    """The English text, for the searchable text column kept beside the code."""
    with override("en"):
        return render(stored, fallback=fallback)


def stored_text(value: Any) -> tuple[str, dict | None]:
    """(English text, stored message) for a reason that may be either.

    A service passes a message; a person's typed reason is plain text and has
    no code: it is kept and shown as typed.
    """
    if is_message(value):
        return render_english(value), value
    return (value or ""), None


def code_of(stored: Any) -> str | None:
    """The machine code beside a translated text (None for an old free-text row)."""
    return stored["code"] if is_message(stored) else None


# The verdict beside every figure, in the reader's language (codes: mlops.ml.metrics).
VERDICTS = {
    metrics.BETTER: _("better than chance"),
    metrics.NO_EVIDENCE: _("no evidence of skill"),
    metrics.WORSE: _("worse than chance"),
    metrics.INSUFFICIENT_DATA: _("insufficient data"),
}
# Figures stored before verdict codes existed carry the English words only.
_CODES_BY_WORDS = {words: code for code, words in metrics.VERDICT_WORDS.items()}


def verdict_fields(figure: dict) -> dict:
    """`verdict` in the reader's language and the untranslated `verdict_code`."""
    code = figure.get("verdict_code") or _CODES_BY_WORDS.get(figure.get("verdict"))
    if code in VERDICTS:
        return {"verdict": str(VERDICTS[code]), "verdict_code": code}
    return {"verdict": figure.get("verdict") or "", "verdict_code": code}
