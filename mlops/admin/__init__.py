"""The staff's view of the ML platform: registry, retrains, forecasts, audit trail.

Every row here is written by a service (registry, retraining, scoring, audit),
so every model is read-only; changes happen through actions and buttons that
call the same services as the commands and the API. Who may do what:

- Activate, Roll back: ``mlops.activate_modelversion``
- Back up: ``mlops.backup_modelversion``
- Restore from backup: ``mlops.restore_modelversion``
- Verify integrity: ``mlops.view_modelversion`` (it only reads and records)
- Retrain now: ``mlops.retrain_model``

A staff user without the permission gets 403; a non-staff user never gets past
the admin login.
"""

# Each module registers its model's admin when imported (admin.autodiscover).
from . import (  # noqa: F401
    activations,
    audit_events,
    backups,
    model_versions,
    predictions,
    retrain_runs,
)
