"""The model's life, one sub-package per concern (docs/ARCHITECTURE.md):

registry/    storage under MODEL_ROOT, the version registry, the audit trail
training/    fitting, retraining (one door), challenger, promotion gate, schedules
monitoring/  recorded forecasts, scoring, the health monitor, the backtest
operations/  backups, restore and rollback, cleanup, integrity, self-healing
"""
