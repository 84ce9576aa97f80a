"""The promotion gate: may a retrain's challenger replace the active champion?"""

import math

from mlops.messages import message, render_english
from mlops.models import ModelVersion

# (metric in evaluate_forecasts' output, higher is better). any_hit_rate is the
# monitored accuracy; the Brier skill score checks the 45 probabilities too.
GATE_METRICS = (("any_hit_rate", True), ("brier_skill_score", True))


def promotion_decision(
    *,
    challenger: ModelVersion,
    champion: ModelVersion | None,
    tolerance: float,
    force: bool = False,
) -> tuple[bool, str]:
    """Whether the challenger may replace the champion, and the reason in English.

    The reason as a stored message (code and parameters, read in any language):
    `promotion_verdict`.
    """
    promote, reason = promotion_verdict(
        challenger=challenger, champion=champion, tolerance=tolerance, force=force
    )
    return promote, render_english(reason)


def promotion_verdict(
    *,
    challenger: ModelVersion,
    champion: ModelVersion | None,
    tolerance: float,
    force: bool = False,
) -> tuple[bool, dict]:
    """Whether the challenger may replace the champion, and why (a stored message).

    Worse means: on any gate metric, the challenger's validation figure is
    below the champion's by more than `tolerance` (absolute: rate points for
    the any-hit rate, skill points for the Brier skill score). Each figure was
    measured on its own model's held-out draws.
    """
    if champion is None:
        return True, message("gate.no_champion")
    comparisons, worse = [], []
    for name, _higher_is_better in GATE_METRICS:
        new = promotion_metric_value(challenger.validation_metrics, name)
        old = promotion_metric_value(champion.validation_metrics, name)
        if new is None or old is None:
            continue
        comparisons.append(f"{name} {new:.4f} vs {old:.4f}")
        if new < old - tolerance:
            worse.append(name)
    if not comparisons:
        return True, message("gate.no_comparable_metrics", champion=champion.version)
    facts = message(
        "gate.facts",
        comparisons="; ".join(comparisons),
        champion=champion.version,
        tolerance=tolerance,
    )
    if not worse:
        return True, message("gate.not_worse", facts=facts)
    if force:
        return True, message("gate.forced", worse=", ".join(worse), facts=facts)
    return False, message("gate.kept_champion", worse=", ".join(worse), facts=facts)


def promotion_metric_value(metrics: dict, name: str) -> float | None:
    """A stored validation figure as a finite float, or None when absent/invalid."""
    value = (metrics or {}).get(name, {})
    value = value.get("value") if isinstance(value, dict) else value
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None
