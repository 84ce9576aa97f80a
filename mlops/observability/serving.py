"""What this process is serving right now, as the serving app reports it.

mlops may not import recommendations (imports flow one way), yet /readyz and the
operations page must say what this process serves: a warm process keeps serving
the model it loaded even when the file on disk has gone. The recommendations app
registers a provider in its AppConfig.ready(); without one (a management
command, the task cluster) the process serves nothing and says so.
"""

from collections.abc import Callable

_providers: list[Callable[[], dict | None]] = []


def serving_state_provider_register(provider: Callable[[], dict | None]) -> None:
    """Register the function that reports this process's serving state."""
    if provider not in _providers:
        _providers.append(provider)


def serving_state() -> dict | None:
    """{"mode", "model_version", "model_version_id", "model_sha256",
    "fallback_reason"} of the forecast this process serves, or None before the
    first one (or in a process that does not serve)."""
    for provider in _providers:
        state = provider()
        if state is not None:
            return state
    return None
