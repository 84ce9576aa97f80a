"""The promotion gate: may a retrain's challenger replace the active champion?"""

import math

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
    """Whether the challenger may replace the champion, and the reason in words.

    Worse means: on any gate metric, the challenger's validation figure is
    below the champion's by more than `tolerance` (absolute: rate points for
    the any-hit rate, skill points for the Brier skill score). Each figure was
    measured on its own model's held-out draws.
    """
    if champion is None:
        return True, "promoted: no model was active"
    comparisons, worse = [], []
    for name, _higher_is_better in GATE_METRICS:
        new = promotion_metric_value(challenger.validation_metrics, name)
        old = promotion_metric_value(champion.validation_metrics, name)
        if new is None or old is None:
            continue
        comparisons.append(f"{name} {new:.4f} vs {old:.4f}")
        if new < old - tolerance:
            worse.append(name)
    facts = (
        f"{'; '.join(comparisons)} (champion {champion.version}, tolerance {tolerance})"
    )
    if not comparisons:
        return True, (
            f"promoted: champion {champion.version} has no comparable validation "
            "metrics"
        )
    if not worse:
        return True, f"promoted: not worse than the champion: {facts}"
    if force:
        return True, f"promoted by force although worse on {', '.join(worse)}: {facts}"
    return False, (
        f"kept champion: challenger worse on {', '.join(worse)} beyond the "
        f"tolerance: {facts}"
    )


def promotion_metric_value(metrics: dict, name: str) -> float | None:
    """A stored validation figure as a finite float, or None when absent/invalid."""
    value = (metrics or {}).get(name, {})
    value = value.get("value") if isinstance(value, dict) else value
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None
