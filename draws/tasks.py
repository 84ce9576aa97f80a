"""Django-Q2 calls these by dotted path; each only calls a service."""

from .sync_service import draw_sync_latest


def draw_sync_latest_task() -> dict:
    """Sync the newest draws; a failure raises, so Q2 records it as failed."""
    return draw_sync_latest().as_dict()
