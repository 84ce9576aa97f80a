"""Signal handlers: how the mlops app hears about events in other apps."""

from draws.signals import draws_imported
from mlops.services.monitoring import fairness as draw_fairness
from mlops.services.monitoring.predictions import on_model_activated
from mlops.services.monitoring.scoring import on_draws_imported
from mlops.services.operations import (
    backups,  # noqa: F401  (receivers)
    integrity,  # noqa: F401  (receivers)
)
from mlops.services.registry import prefetch  # noqa: F401  (receivers)
from mlops.signals import model_activated

draws_imported.connect(on_draws_imported, dispatch_uid="mlops.scoring.draws_imported")
draws_imported.connect(
    draw_fairness.on_draws_imported, dispatch_uid="mlops.fairness.draws_imported"
)
model_activated.connect(
    on_model_activated, dispatch_uid="mlops.predictions.model_activated"
)
