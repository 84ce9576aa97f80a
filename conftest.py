"""Fixtures shared by every test package."""

import pytest
from django.conf import settings as django_settings


@pytest.fixture
def model_root(tmp_path, settings):
    """A fresh, empty MODEL_ROOT for this test."""
    root = tmp_path / "models"
    root.mkdir()
    settings.MODEL_ROOT = root
    return root


@pytest.fixture
def shipped_draws(db):
    """The real 1,220-draw history, loaded through the import service."""
    from draws.services import draw_import_file

    draw_import_file(django_settings.DRAWS_SHIPPED_CSV)
    from draws.models import LottoDraw

    return LottoDraw.objects.order_by("draw_no")
