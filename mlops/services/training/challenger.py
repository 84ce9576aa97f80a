"""The body of a retrain run: train a challenger, then let the promotion gate decide.

The challenger is trained with `activate=False` (a full refit, tuned or not, or
a warm start that grows the active forest), so nothing that fails can touch the
active model; it is activated only if the gate says so.
"""

import hashlib
import json
import logging

import sklearn
from django.conf import settings

from draws.models import LottoDraw
from mlops.messages import message, render_english
from mlops.ml import features, incremental, tuning
from mlops.models import ModelVersion, RetrainRun
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    ModelIntegrityError,
    model_version_activate,
    model_version_active,
    model_version_load,
    model_version_read_verified,
    model_version_write_metadata,
)
from mlops.services.training.promotion import promotion_verdict
from mlops.services.training.training import (
    ensure_enough_draws,
    model_version_register_trained,
    model_version_train,
    training_history,
    training_params,
)

logger = logging.getLogger(__name__)


def challenger_train_and_gate(
    run: RetrainRun, *, reason: str | dict, activated_by: str = "retrain"
) -> dict:
    """Train the challenger (archived), then promote it if the gate says so."""
    draw_nos, numbers, data_hash = training_history()
    outcome = {
        "draw_count": len(draw_nos),
        "draw_from": draw_nos[0] if draw_nos else None,
        "draw_to": draw_nos[-1] if draw_nos else None,
    }
    try:
        ensure_enough_draws(len(draw_nos))
        unchanged = retrain_unchanged_reason(run, model_version_active(), data_hash)
        if unchanged:
            logger.info("Retrain run %s: %s", run.pk, render_english(unchanged))
            outcome.update(
                status=RetrainRun.Status.UNCHANGED, promotion_reason_message=unchanged
            )
            return outcome
        actor = Actor("system", f"retrain run {run.pk}")
        if run.options.get("warm_start"):
            version = _warm_start_or_refit(run, draw_nos, numbers, data_hash, actor)
        else:
            version = _train_full(run, numbers, actor)
        outcome.update(
            model_version=version,
            validation_metrics=version.validation_metrics,
            tuning=run.tuning,
        )
        champion = model_version_active()
        promote, gate_reason = promotion_verdict(
            challenger=version,
            champion=champion,
            tolerance=settings.RETRAIN_PROMOTION_TOLERANCE,
            force=bool(run.options.get("force")),
        )
        outcome["promotion_reason_message"] = gate_reason
        still_ours = RetrainRun.objects.filter(
            pk=run.pk, status=RetrainRun.Status.RUNNING
        ).exists()
        if promote and not still_ours:
            outcome["promotion_reason_message"] = message(
                "gate.abandoned", reason=gate_reason
            )
        elif promote:
            model_version_activate(
                version=version,
                actor=actor,
                reason=message("activation.retrain", reason=reason, gate=gate_reason),
                activated_by=activated_by,
                retrain_run=run,
            )
            outcome["promoted"] = True
    except BaseException:
        # The caller records the failure; keep what we know about the data.
        run.draw_count = outcome["draw_count"]
        run.draw_from, run.draw_to = outcome["draw_from"], outcome["draw_to"]
        if "model_version" in outcome:
            run.model_version = outcome["model_version"]
        raise
    return outcome


def retrain_unchanged_reason(
    run: RetrainRun, champion: ModelVersion | None, data_hash: str
) -> dict | None:
    """Why this run would only repeat the active model (a stored message), or None.

    Nothing new to learn: the stored draws hash the same, the parameters and the
    feature set and scikit-learn version are the ones the active model was
    trained with, and its file verifies. A forced run (`--force`, and the one
    self-heal queues) and a tuning run (it searches the parameters again)
    always train.
    """
    if champion is None or run.options.get("force") or run.options.get("tune"):
        return None
    same = (
        champion.training_data_hash == data_hash
        and champion.feature_set_version == features.FEATURE_SET_VERSION
        and champion.hyperparameters == json_roundtrip(training_params())
        and (champion.training_info or {}).get("sklearn_version") == sklearn.__version__
    )
    if not same:
        return None
    try:
        model_version_read_verified(champion)
    except ModelIntegrityError:
        return None
    return message(
        "retrain.unchanged",
        version=champion.version,
        count=champion.draw_count,
        hash=data_hash[:12],
        feature_set=champion.feature_set_version,
    )


def json_roundtrip(value):
    """`value` as a JSONField gives it back (tuples become lists, and so on)."""
    return json.loads(json.dumps(value))


def _train_full(run: RetrainRun, numbers, actor: Actor) -> ModelVersion:
    # The request's params (seed, n_estimators) override the settings; tuning
    # searches around them.
    params = run.options.get("params") or None
    if run.options.get("tune"):
        run.tuning = tuning.tune_hyperparameters(
            numbers,
            base_params={**training_params(), **(params or {})},
            grid=settings.RETRAIN_TUNE_GRID or tuning.DEFAULT_GRID,
            n_splits=settings.RETRAIN_TUNE_SPLITS,
            n_jobs=settings.RETRAIN_TUNE_N_JOBS,
        )
        params = run.tuning["best_params"]
        logger.info(
            "Retrain run %s: tuning chose %s (CV %s %.4f) in %.1f s",
            run.pk,
            params,
            run.tuning["scoring"],
            run.tuning["best_score"],
            run.tuning["seconds"],
        )
    version = model_version_train(
        params=params, activate=False, actor=actor, retrain_run=run
    )
    if run.tuning:
        summary = {k: v for k, v in run.tuning.items() if k != "candidates"}
        version.training_info = {**version.training_info, "tuning": summary}
        version.save(update_fields=["training_info"])
        model_version_write_metadata(version)
    return version


def _history_hash(draw_count: int) -> str:
    """training_history's hash of the first `draw_count` stored draws."""
    rows = LottoDraw.objects.order_by("draw_no").values_list(
        "draw_no", "n1", "n2", "n3", "n4", "n5", "n6", "bonus"
    )[:draw_count]
    text = "\n".join(",".join(map(str, row)) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def _warm_start_or_refit(run, draw_nos, numbers, data_hash, actor) -> ModelVersion:
    """Grow the active forest with trees for the new draws, or say why not."""
    champion = model_version_active()
    why_not = _warm_start_obstacle(champion, draw_nos)
    if why_not is None:
        try:
            model, metrics, info = incremental.grow_and_validate(
                model_version_load(champion),
                numbers,
                base_draw_count=champion.draw_count,
                params=champion.hyperparameters,
            )
        except incremental.WarmStartNotPossible as exc:
            why_not = message("warm_start.not_possible", error=str(exc))
    if why_not is not None:
        text = render_english(why_not)
        logger.info(
            "Retrain run %s: full refit instead of warm start: %s", run.pk, text
        )
        # The English text for programs and search, the code for people.
        run.tuning = {
            "warm_start": {"used": False, "reason": text, "reason_message": why_not}
        }
        return model_version_train(activate=False, actor=actor, retrain_run=run)
    info["warm_start"]["base_version"] = champion.version
    run.tuning = {"warm_start": {"used": True, **info["warm_start"]}}
    return model_version_register_trained(
        model=model,
        draw_nos=draw_nos,
        data_hash=data_hash,
        params=info["params"],
        validation_metrics=metrics,
        info=info,
        actor=actor,
        details={"warm_start": info["warm_start"]},
    )


def _warm_start_obstacle(champion: ModelVersion | None, draw_nos: list) -> dict | None:
    """Why the active model can't be grown (a stored message), or None."""
    if champion is None:
        return message("warm_start.no_active")
    if champion.feature_set_version != features.FEATURE_SET_VERSION:
        return message(
            "warm_start.feature_set", feature_set=champion.feature_set_version
        )
    if champion.draw_count >= len(draw_nos):
        return message("warm_start.no_new_draws")
    if _history_hash(champion.draw_count) != champion.training_data_hash:
        return message("warm_start.history_changed")
    return None
