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
    # Why a retrain was requested (RetrainRun.options, audit trail).
    "retrain.admin": _("requested in the admin"),
    "retrain.scheduled": _("weekly scheduled retrain"),
    "retrain.manual": _("manual retrain"),
    "retrain.emergency": _("emergency retrain"),
    "retrain.cli": _("retrain from the command line"),
    "retrain.accuracy_critical": _(
        "accuracy %(accuracy)s%% over the last %(sample_size)s scored forecasts is "
        "below the critical threshold %(threshold)s%% (chance: %(baseline)s%%) and "
        "worse than chance (exact p = %(p_value)s)"
    ),
    "retrain.self_heal": _(
        "self-heal: model %(version)s is %(reason)s and could not be restored "
        "(%(outcome)s)"
    ),
    # Why a rollback passed a version over (audit "rollback" details.skipped).
    "rollback.unusable": _("file missing or corrupt and no good backup"),
    # Why a warm-start retrain refitted instead (RetrainRun.tuning["warm_start"]).
    "warm_start.no_active": _("no active model to grow"),
    "warm_start.feature_set": _("the active model uses feature set %(feature_set)s"),
    "warm_start.no_new_draws": _("no new draws since the active model was trained"),
    "warm_start.history_changed": _(
        "the draws the active model learned from have changed since"
    ),
    "warm_start.not_possible": _("the forest can't be grown: %(error)s"),
    # Why a retrain run failed (RetrainRun.error_message_message).
    "run.abandoned": _(
        "abandoned: no sign of life since %(since)s (more than %(limit)s s while "
        "%(status)s); %(cause)s"
    ),
    "run.worker_died": _("the worker running it probably died"),
    "run.never_picked_up": _("no worker picked it up (is a Q2 cluster running?)"),
    "run.not_queued": _("could not queue the task: %(error)s"),
    "run.out_of_memory": _("out of memory (MemoryError) while training"),
    "run.crashed": _("%(type)s: %(error)s"),
    "run.insufficient_draws": _(
        "Only %(count)s draws are stored; training needs at least %(minimum)s "
        "(ML_MIN_DRAWS)."
    ),
    # What is wrong with a model file (ModelIntegrityError, audit, self-heal).
    "integrity.file_missing": _("the file is missing (%(error)s)"),
    "integrity.storage_unavailable": _("the model store did not answer (%(error)s)"),
    "integrity.checksum_mismatch": _("recorded %(recorded)s…, file has %(actual)s…"),
    "integrity.size_mismatch": _(
        "recorded %(recorded)s bytes, the stored object has %(actual)s"
    ),
    "integrity.load_failed": _("the file does not load (%(error)s)"),
    # A problem code (file_missing, ...) and its detail message.
    "integrity.problem": _("%(problem)s: %(detail)s"),
    "integrity.no_active": _("no active model"),
    "integrity.active_ok": _("%(version)s: file present, matches its sha256"),
    "integrity.active_failed": _("%(version)s: %(problem)s; self-heal: %(outcome)s"),
    "integrity.restored": _("restored"),
    "integrity.not_restored": _("not restored"),
    # Why recommendations fell back to statistical mode (audit trail).
    "fallback.forced": _(
        "ML disabled (use_ml_model=False or RECOMMENDATIONS_USE_ML=0)"
    ),
    "fallback.insufficient_draws": _(
        "%(count)s draws stored, ML_MIN_DRAWS is %(minimum)s"
    ),
    "fallback.no_model": _("no model version is active"),
    "fallback.memory_loading": _("MemoryError while loading the model"),
    "fallback.memory_inference": _("MemoryError during inference"),
    "fallback.feature_set": _(
        "model %(version)s was trained on feature set %(trained)s, this code "
        "builds %(current)s"
    ),
    "fallback.inference_error": _("the model raised %(error)s"),
    "fallback.invalid_probabilities": _(
        "model returned invalid probabilities (shape %(shape)s)"
    ),
    "fallback.healed_failed_too": _(
        "%(error)s; the self-healed %(version)s failed too: %(second)s"
    ),
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
