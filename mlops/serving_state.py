"""What this process serves, for mlops pages that must say so.

mlops never imports serving (the recommendations app). Where mlops must read
serving's state (/readyz, /metrics, the operations page show the mode and the
model a process holds), serving registers a provider here in its
AppConfig.ready() and mlops calls `serving_state()`.
"""

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServingState:
    """The forecast this process serves now; all None before it computed one."""

    mode: str | None = None  # "ml" | "statistical"
    model_version: str | None = None
    fallback_reason: str | None = None
    target_draw_no: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class _Providers:
    """The registered provider (one: the serving app's)."""

    provider: Callable[[], ServingState] | None = None


def serving_state_provider_register(provider: Callable[[], ServingState]) -> None:
    """Make `provider` the source of `serving_state()` (serving's AppConfig.ready)."""
    _Providers.provider = provider


def serving_state() -> ServingState:
    """This process's serving state; empty when no provider answers."""
    provider = _Providers.provider
    if provider is None:
        return ServingState()
    try:
        return provider()
    except Exception:
        logger.exception("The serving state provider failed")
        return ServingState()
