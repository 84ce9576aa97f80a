"""When a server or tool a test needs (PostgreSQL, Redis, promtool) is absent."""

import os

import pytest


def missing_dependency(reason: str):
    """Skip on a developer's machine; fail in CI, where .ci/run starts every server.

    A skip in CI would let a broken process-level test land as "passed".
    """
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI must have it: .ci/run starts it)")
    pytest.skip(reason)
