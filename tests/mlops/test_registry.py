"""The model registry: files, checksums, the single active version, safe loading."""

import json
import os
import pickle
import threading

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mlops import storage_backends as storage_module
from mlops.ml import pipeline
from mlops.models import AuditEvent, ModelActivation, ModelVersion
from mlops.services.registry.audit import Actor
from mlops.services.registry.registry import (
    ModelIntegrityError,
    get_latest_model_path,
    model_version_activate,
    model_version_load,
    model_version_mark_corrupt,
    model_version_metadata,
    model_version_register,
)
from mlops.services.registry.storage import UnsafePathError, get_storage, sha256_bytes
from mlops.services.training.training import model_version_train
from tests.factories import store_draws

pytestmark = pytest.mark.django_db
# The read cache is for remote storage: these run on the S3 backend only.
ON_S3 = pytest.mark.parametrize("model_store", ["s3"], indirect=True)


def register(model_bytes: bytes, **overrides) -> ModelVersion:
    """Register bytes with plausible facts (the registry doesn't care what they are)."""
    facts = {
        "model_bytes": model_bytes,
        "draw_from": 1,
        "draw_to": 520,
        "draw_count": 520,
        "training_data_hash": "0" * 64,
        "feature_set_version": "fs-test",
        "hyperparameters": {"n_estimators": 10},
        "seed": 0,
        "training_seconds": 0.5,
        "validation_metrics": {"sample_size": 200},
    }
    return model_version_register(**{**facts, **overrides})


@pytest.fixture
def model_bytes():
    """A real fitted forest, dumped the way training dumps it."""
    rng = np.random.default_rng(0)
    X = rng.random((80, 145), dtype=np.float32)
    Y = (rng.random((80, 45)) < 6 / 45).astype(np.uint8)
    model = pipeline.build_model(n_estimators=3, min_samples_leaf=5).fit(X, Y)
    return pipeline.save_model_bytes(model)


class MarkerOnUnpickle:
    """Unpickling this creates a directory: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_register_writes_the_model_and_metadata_with_the_same_facts(
    model_store, model_bytes
):
    version = register(model_bytes)

    day = timezone.localdate().strftime("%Y%m%d")
    assert version.version == f"lotto_model_{day}"
    assert version.file_path == f"trained/lotto_model_{day}.pkl"
    assert version.metadata_path == f"metadata/lotto_model_{day}_metadata.json"
    on_disk = model_store.read(version.file_path)
    assert on_disk == model_bytes
    assert version.sha256 == sha256_bytes(on_disk)
    assert (
        version.size_bytes == len(on_disk) == len(model_store.read(version.file_path))
    )
    metadata = json.loads(model_store.read(version.metadata_path).decode())
    version.refresh_from_db()
    assert metadata == json.loads(json.dumps(model_version_metadata(version)))
    assert metadata["sha256"] == version.sha256
    assert metadata["state"] == "archived"
    assert metadata["draw_range"] == [1, 520]


def test_a_second_model_on_the_same_day_gets_a_suffix_instead_of_overwriting(
    model_store, model_bytes
):
    first = register(model_bytes)
    second = register(model_bytes + b"")
    third = register(model_bytes)

    assert second.version == f"{first.version}_2"
    assert third.version == f"{first.version}_3"
    assert second.metadata_path == f"metadata/{first.version}_2_metadata.json"
    files = get_storage().list_files("trained")
    assert files == sorted([first.file_path, second.file_path, third.file_path])
    assert model_store.read(first.file_path) == model_bytes


def test_the_database_refuses_a_second_active_version(model_store, model_bytes):
    first = register(model_bytes)
    second = register(model_bytes)
    ModelVersion.objects.filter(pk=first.pk).update(state="active")

    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=second.pk).update(state="active")

    assert ModelVersion.objects.filter(state="active").count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks (select_for_update) need PostgreSQL; SQLite has none",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_active", [True, False])
def test_two_activations_at_once_both_succeed_and_leave_one_active_version(
    model_store, model_bytes, with_active
):
    # The second waits on the old active row, then used to hit the one-active
    # index with an IntegrityError (a 500, or a failed retrain run).
    old, first, second = (register(model_bytes) for _ in range(3))
    if with_active:
        model_version_activate(version=old)
    start = threading.Barrier(2)
    errors = []

    def operator(version):
        try:
            start.wait(timeout=10)
            model_version_activate(version=version)
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=operator, args=(v,)) for v in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    active = ModelVersion.objects.get(state="active")
    assert active in (first, second)
    current = ModelActivation.objects.get(is_current=True)
    assert current.model_version == active
    started = ModelActivation.objects.filter(model_version__in=[first, second])
    assert started.count() == 2


def test_activate_archives_the_previous_version_and_records_the_history(
    model_store, model_bytes
):
    first = model_version_activate(version=register(model_bytes), reason="first")
    second = register(model_bytes)

    model_version_activate(version=second, actor=Actor.cli(), reason="better")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("archived", "active")
    periods = list(ModelActivation.objects.order_by("activated_at", "id"))
    assert [p.model_version_id for p in periods] == [first.pk, second.pk]
    assert periods[0].is_current is False
    assert periods[0].deactivated_at is not None
    assert periods[0].deactivation_reason == f"replaced by {second.version}"
    assert (periods[1].is_current, periods[1].reason) == (True, "better")
    assert periods[1].activated_by == "cli"
    event = AuditEvent.objects.filter(action="activate").first()
    assert event.details["previous"] == first.version
    assert event.object_id == str(second.pk)
    metadata = json.loads(model_store.read(first.metadata_path).decode())
    assert metadata["state"] == "archived"


@pytest.mark.parametrize("state", ["corrupt", "deleted"])
def test_activate_refuses_a_corrupt_or_deleted_version(model_store, model_bytes, state):
    version = register(model_bytes)
    ModelVersion.objects.filter(pk=version.pk).update(state=state)
    version.refresh_from_db()

    with pytest.raises(ValidationError, match=state):
        model_version_activate(version=version)

    assert not ModelVersion.objects.filter(state="active").exists()


def test_activate_refuses_a_version_deleted_since_it_was_read(model_store, model_bytes):
    # A cleanup may mark it deleted after the caller loaded it (still archived).
    version = register(model_bytes)
    ModelVersion.objects.filter(pk=version.pk).update(state="deleted")

    with pytest.raises(ValidationError, match="is deleted"):
        model_version_activate(version=version)

    assert ModelVersion.objects.get(pk=version.pk).state == "deleted"
    assert not ModelActivation.objects.exists()


def test_activate_refuses_a_version_whose_file_changed(model_store, model_bytes):
    version = register(model_bytes)
    model_store.write(version.file_path, model_bytes[:-1] + b"\x00")

    with pytest.raises(ModelIntegrityError) as caught:
        model_version_activate(version=version)

    assert caught.value.reason == "checksum_mismatch"
    assert not ModelVersion.objects.filter(state="active").exists()


def test_mark_corrupt_closes_the_active_period(model_store, model_bytes):
    version = model_version_activate(version=register(model_bytes))

    model_version_mark_corrupt(version=version, reason="bad bytes")

    version.refresh_from_db()
    assert version.state == "corrupt"
    period = ModelActivation.objects.get(model_version=version)
    assert period.is_current is False
    assert period.deactivation_reason == "corrupt: bad bytes"


def test_the_malicious_pickle_used_below_really_runs_code_when_unpickled(tmp_path):
    marker = tmp_path / "control-marker"

    pickle.loads(pickle.dumps(MarkerOnUnpickle(marker)))

    assert marker.exists()


def test_load_checks_the_sha256_before_unpickling_anything(
    model_store, model_bytes, tmp_path
):
    version = register(model_bytes)
    marker = tmp_path / "pwned"
    model_store.write(version.file_path, pickle.dumps(MarkerOnUnpickle(marker)))

    with pytest.raises(ModelIntegrityError) as caught:
        model_version_load(version)

    assert caught.value.reason == "checksum_mismatch"
    assert not marker.exists()


def test_load_returns_the_registered_forest(model_store, model_bytes):
    version = register(model_bytes)

    model = model_version_load(version)

    rows = np.random.default_rng(1).random((5, 145), dtype=np.float32)
    expected = pipeline.load_model_bytes(model_bytes)
    assert np.array_equal(
        pipeline.predict_probabilities(model, rows),
        pipeline.predict_probabilities(expected, rows),
    )


def test_load_reports_a_missing_file(model_store, model_bytes):
    version = register(model_bytes)
    model_store.delete(version.file_path)

    with pytest.raises(ModelIntegrityError) as caught:
        model_version_load(version)

    assert caught.value.reason == "file_missing"


def test_load_reports_bytes_that_match_their_checksum_but_are_no_forest(model_store):
    version = register(pickle.dumps({"not": "a forest"}))

    with pytest.raises(ModelIntegrityError) as caught:
        model_version_load(version)

    assert caught.value.reason == "load_failed"


@pytest.mark.parametrize(
    "path", ["../outside.pkl", "/etc/passwd", "trained/../../outside.pkl", ""]
)
def test_storage_refuses_paths_outside_model_root(model_store, path):
    with pytest.raises(UnsafePathError):
        get_storage().path(path)


def test_storage_refuses_a_link_that_leads_outside_model_root(model_root, tmp_path):
    outside = tmp_path / "outside.pkl"
    outside.write_bytes(b"secret")
    (model_root / "trained").mkdir()
    (model_root / "trained" / "link.pkl").symlink_to(outside)

    with pytest.raises(UnsafePathError):
        get_storage().read_bytes("trained/link.pkl")


def test_a_version_pointing_outside_model_root_is_never_read(
    model_store, model_bytes, tmp_path
):
    version = register(model_bytes)
    (tmp_path / "evil.pkl").write_bytes(model_bytes)
    version.file_path = "../evil.pkl"

    with pytest.raises(ModelIntegrityError) as caught:
        model_version_load(version)

    assert caught.value.reason == "file_missing"
    assert "MODEL_ROOT" in caught.value.detail


def test_a_crash_in_the_rename_leaves_the_previous_model_active_and_loadable(
    model_root, monkeypatch
):
    store_draws(520)
    previous = model_version_train()

    def crash(*args, **kwargs):
        raise OSError("simulated crash during rename")

    monkeypatch.setattr(storage_module.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        model_version_train(params={"seed": 1})
    monkeypatch.undo()

    assert list(ModelVersion.objects.values_list("version", flat=True)) == [
        previous.version
    ]
    assert ModelVersion.objects.get(state="active").pk == previous.pk
    assert model_version_load(previous) is not None
    assert sorted(p.name for p in (model_root / "trained").iterdir()) == [
        f"{previous.version}.pkl"
    ]


def test_a_crash_halfway_through_writing_leaves_no_partial_file_under_a_final_name(
    model_root, monkeypatch
):
    store_draws(520)
    previous = model_version_train()
    real_fdopen = os.fdopen

    class HalfWrite:
        """A file handle that writes half the bytes, then the disk 'fails'."""

        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError("simulated crash mid-write")

    monkeypatch.setattr(
        storage_module.os, "fdopen", lambda fd, mode: HalfWrite(real_fdopen(fd, mode))
    )
    with pytest.raises(OSError, match="mid-write"):
        model_version_train(params={"seed": 1})
    monkeypatch.undo()

    # Neither the final name nor a leftover temp file: the folder is as before.
    assert sorted(p.name for p in (model_root / "trained").iterdir()) == [
        f"{previous.version}.pkl"
    ]
    assert ModelVersion.objects.get(state="active").pk == previous.pk
    assert model_version_load(previous) is not None


def test_get_latest_model_path_is_the_active_file_or_none(model_store, model_bytes):
    assert get_latest_model_path() is None
    version = register(model_bytes)
    assert get_latest_model_path() is None

    model_version_activate(version=version)

    path = get_latest_model_path()
    assert path.read_bytes() == model_bytes
    if model_store.backend == "local":
        assert path == (model_store.root / version.file_path).resolve()
    else:  # this host's cached copy, named by its sha256
        assert path.name == version.sha256


@ON_S3
def test_on_s3_a_host_loads_a_model_from_its_cache_after_the_first_download(
    model_store, model_bytes, settings
):
    version = register(model_bytes)
    model_version_load(version)
    assert (settings.MODEL_CACHE_DIR / version.sha256).read_bytes() == model_bytes
    # Same size, other bytes: only a download would see them. The cached copy
    # (re-hashed) is loaded; models_verify hashes the stored object itself.
    model_store.write(version.file_path, model_bytes[:-1] + b"\x00")
    assert model_version_load(version) is not None


@ON_S3
def test_on_s3_a_deleted_object_is_noticed_even_when_cached(model_store, model_bytes):
    version = register(model_bytes)
    model_version_load(version)
    model_store.delete(version.file_path)

    with pytest.raises(ModelIntegrityError) as caught:
        model_version_load(version)

    assert caught.value.reason == "file_missing"


@ON_S3
def test_a_damaged_cache_entry_is_downloaded_again(model_store, model_bytes, settings):
    version = register(model_bytes)
    model_version_load(version)
    cached = settings.MODEL_CACHE_DIR / version.sha256
    cached.write_bytes(pickle.dumps(MarkerOnUnpickle(settings.MODEL_CACHE_DIR / "x")))

    assert model_version_load(version) is not None
    assert cached.read_bytes() == model_bytes
    assert not (settings.MODEL_CACHE_DIR / "x").exists()
