"""Shared by the observability tests: read /metrics back as numbers, make rows."""

import datetime as dt

from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from mlops.models import ModelVersion, Prediction, RetrainRun


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """{(sample name, frozenset of label items): value} for every sample."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def sample_names(text: str) -> set[str]:
    return {
        sample.name
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def family_names(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


def make_version(label: str, *, state="archived", age=dt.timedelta(0), **extra):
    version = ModelVersion.objects.create(
        version=label,
        file_path=f"trained/{label}.pkl",
        sha256="0" * 64,
        size_bytes=1,
        state=state,
        draw_from=1,
        draw_to=1200,
        draw_count=1200,
        training_data_hash="1" * 64,
        feature_set_version=extra.pop("feature_set_version", "fs-test-1"),
        **extra,
    )
    # created_at is auto_now_add: backdate it with an update.
    ModelVersion.objects.filter(pk=version.pk).update(created_at=timezone.now() - age)
    version.refresh_from_db()
    return version


def make_run(trigger: str, status: str, *, finished_ago=None, **extra) -> RetrainRun:
    finished_at = None if finished_ago is None else timezone.now() - finished_ago
    return RetrainRun.objects.create(
        trigger=trigger, status=status, finished_at=finished_at, **extra
    )


def make_prediction(draw_no: int, *, scored: bool, hits: int | None = None):
    return Prediction.objects.create(
        target_draw_no=draw_no,
        target_draw_date=dt.date(2002, 12, 7) + dt.timedelta(weeks=draw_no - 1),
        mode=Prediction.Mode.STATISTICAL,
        forecaster=Prediction.STATISTICAL_FORECASTER,
        probabilities=[1 / 45] * 45,
        top_numbers=[1, 2, 3, 4, 5, 6],
        scored_at=timezone.now() if scored else None,
        hits=hits if scored else None,
    )
