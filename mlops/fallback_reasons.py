"""Why statistical mode served instead of the model: the one list of reasons.

Inference raises only these (recommendations/services/inference.py), the
registry's integrity errors carry three of them, the metrics pre-declare every
one (`ml_fallback_total{reason}`), the API and its OpenAPI schema document them,
and docs/ML_ENGINE.md lists them; tests/test_fallback_reasons.py holds them all
to this list. The values are machine codes: never translated.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FallbackReason(models.TextChoices):
    FORCED = (
        "forced",
        _("ML is switched off (use_ml_model=False or RECOMMENDATIONS_USE_ML=0)."),
    )
    INSUFFICIENT_DRAWS = (
        "insufficient_draws",
        _("Fewer draws are stored than the model needs (ML_MIN_DRAWS)."),
    )
    NO_MODEL = "no_model", _("No model version is active.")
    FILE_MISSING = "file_missing", _("The active model's file is missing.")
    CHECKSUM_MISMATCH = (
        "checksum_mismatch",
        _("The active model's file differs from its recorded sha256."),
    )
    LOAD_FAILED = "load_failed", _("The active model's file could not be loaded.")
    INFERENCE_ERROR = (
        "inference_error",
        _("The model failed to predict or returned invalid probabilities."),
    )
    MEMORY_ERROR = "memory_error", _("Out of memory while loading or predicting.")
    STORAGE_UNAVAILABLE = (
        "storage_unavailable",
        _(
            "The model store did not answer; nothing is known to be wrong with the file."
        ),
    )

    @property
    def retryable(self) -> bool:
        """A retry can cure it without a new draw or a new activation."""
        return self in RETRYABLE_REASONS


# A file put back, a transient error: a process tries the model again after
# ML_FALLBACK_RETRY_SECONDS. The others last until the state changes.
RETRYABLE_REASONS = frozenset(
    {
        FallbackReason.FILE_MISSING,
        FallbackReason.CHECKSUM_MISMATCH,
        FallbackReason.LOAD_FAILED,
        FallbackReason.INFERENCE_ERROR,
        FallbackReason.MEMORY_ERROR,
        FallbackReason.STORAGE_UNAVAILABLE,
    }
)
