"""One list of fallback reasons: what inference raises, the metrics declare, the
API documents and the docs list are the same FallbackReason enum."""

import ast
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from mlops.fallback_reasons import RETRYABLE_REASONS, FallbackReason
from mlops.observability.metrics import FALLBACK_REASONS, record_fallback
from mlops.services.registry.registry import ModelIntegrityError
from recommendations.api.serializers import RecommendationOutputSerializer
from recommendations.services.fallback import FallbackError
from tests.test_architecture import MODULES

ROOT = Path(__file__).resolve().parent.parent
# The exceptions that carry a reason, and where their reason argument sits.
REASON_CARRIERS = {"FallbackError": 0, "ModelIntegrityError": 1}


def reason_arguments():
    """(where, reason expression) for every FallbackError/ModelIntegrityError call."""
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in REASON_CARRIERS:
                continue
            position = REASON_CARRIERS[name]
            keyword = [k.value for k in node.keywords if k.arg == "reason"]
            argument = keyword[0] if keyword else node.args[position]
            yield f"{module}:{node.lineno}", argument


def test_code_raises_only_reasons_the_enum_lists():
    raised = list(reason_arguments())
    assert len(raised) >= 10  # guards the walk: inference and the registry raise
    unknown = []
    for where, argument in raised:
        if isinstance(argument, ast.Attribute) and argument.attr == "reason":
            continue  # passes on a reason another carrier already checked
        if (
            isinstance(argument, ast.Attribute)
            and getattr(argument.value, "id", None) == "FallbackReason"
            and argument.attr in FallbackReason.names
        ):
            continue
        unknown.append(f"{where}: {ast.unparse(argument)}")
    assert unknown == []


def test_a_reason_the_enum_lacks_cannot_be_raised():
    with pytest.raises(ValueError, match="not_a_reason"):
        FallbackError("not_a_reason", "made up")
    with pytest.raises(ValueError, match="not_a_reason"):
        ModelIntegrityError(None, "not_a_reason")


def test_the_retryable_reasons_are_the_ones_a_retry_can_cure():
    assert {r for r in FallbackReason if r.retryable} == RETRYABLE_REASONS
    assert not FallbackReason.NO_MODEL.retryable
    assert not FallbackReason.FORCED.retryable
    assert FallbackReason.FILE_MISSING.retryable


def test_the_metrics_declare_every_reason_at_zero():
    assert set(FALLBACK_REASONS) == set(FallbackReason.values)
    for reason in FallbackReason.values:
        value = REGISTRY.get_sample_value("ml_fallback_total", {"reason": reason})
        assert value is not None, reason


def test_the_metrics_count_a_reason_under_its_own_label():
    before = REGISTRY.get_sample_value("ml_fallback_total", {"reason": "no_model"})
    record_fallback(FallbackReason.NO_MODEL)
    after = REGISTRY.get_sample_value("ml_fallback_total", {"reason": "no_model"})
    assert after == before + 1


def test_the_api_schema_documents_every_reason():
    field = RecommendationOutputSerializer().fields["fallback_reason"]
    assert set(field.choices) == set(FallbackReason.values)


def test_the_docs_list_every_reason():
    engine = (ROOT / "docs" / "ML_ENGINE.md").read_text()
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text()
    for reason in FallbackReason.values:
        assert f"`{reason}`" in engine, reason
        assert f"`{reason}`" in operations, reason
