"""The model store on both backends: the local disk and S3 (moto's server)."""

import hashlib
import os
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from lotto_site.settings import model_storage_config
from mlops.storage_backends import UnsafePathError, get_storage


@pytest.fixture
def store(model_store):
    return get_storage()


def test_it_writes_reads_and_deletes_a_file(model_store, store):
    store.write_bytes("trained/a.pkl", b"model bytes")
    assert model_store.read("trained/a.pkl") == b"model bytes"
    assert store.read_bytes("trained/a.pkl") == b"model bytes"
    assert store.exists("trained/a.pkl")
    assert store.size("trained/a.pkl") == len(b"model bytes")
    store.delete("trained/a.pkl")
    assert not model_store.exists("trained/a.pkl")
    assert not store.exists("trained/a.pkl")


def test_a_write_replaces_the_file_under_the_same_name(model_store, store):
    store.write_bytes("metadata/a.json", b"{}")
    store.write_bytes("metadata/a.json", b'{"v": 2}')
    assert model_store.files() == {"metadata/a.json"}
    assert store.read_bytes("metadata/a.json") == b'{"v": 2}'


def test_a_missing_file_is_file_not_found(store):
    with pytest.raises(FileNotFoundError):
        store.read_bytes("trained/missing.pkl")
    with pytest.raises(FileNotFoundError):
        store.size("trained/missing.pkl")
    with pytest.raises(FileNotFoundError):
        store.modified_at("trained/missing.pkl")
    store.delete("trained/missing.pkl")  # deleting nothing is no error


def test_it_lists_the_files_below_a_folder_recursively(model_store, store):
    for name in ("trained/a.pkl", "backups/v1/a.pkl", "backups/v2/b.json"):
        model_store.write(name, b"x")
    model_store.write("reports/r.json", b"x")
    assert store.list_files("backups") == ["backups/v1/a.pkl", "backups/v2/b.json"]
    assert store.list_files("trained") == ["trained/a.pkl"]
    assert store.list_files("metadata") == []


def test_it_reports_when_a_file_was_written(model_store, store):
    store.write_bytes("trained/a.pkl", b"x")
    model_store.age("trained/a.pkl", 60)
    store.write_bytes("trained/b.pkl", b"x")
    age = store.modified_at("trained/b.pkl") - store.modified_at("trained/a.pkl")
    assert 59 * 86400 < age < 61 * 86400


def test_copy_makes_an_identical_file(model_store, store):
    store.write_bytes("trained/a.pkl", b"\x00\x01 model")
    store.copy("trained/a.pkl", "backups/a/a_1.pkl")
    assert model_store.read("backups/a/a_1.pkl") == b"\x00\x01 model"


def test_backups_go_to_their_own_storage_when_one_is_configured(
    model_store, store, settings
):
    store.write_bytes("backups/v/v_1.pkl", b"copy")
    if model_store.backend == "s3":
        bucket, prefix = model_store.routes["backups"]
        assert bucket != model_store.routes[""][0]
        listed = model_store.client.list_objects_v2(Bucket=bucket)["Contents"]
        assert [item["Key"] for item in listed] == [f"{prefix}/backups/v/v_1.pkl"]
    else:
        assert "model_backups" not in settings.STORAGES
        assert model_store.exists("backups/v/v_1.pkl")


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../outside.pkl", "trained/../../x", "", "."]
)
def test_it_refuses_names_outside_the_root(store, name):
    with pytest.raises(UnsafePathError):
        store.write_bytes(name, b"x")
    with pytest.raises(UnsafePathError):
        store.read_bytes(name)


def test_a_local_link_out_of_the_root_is_refused(model_root, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret")
    (model_root / "trained").mkdir()
    (model_root / "trained" / "link.pkl").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        get_storage().read_bytes("trained/link.pkl")


def test_local_writes_leave_no_temp_file_behind(model_root):
    store = get_storage()
    threads = [
        threading.Thread(target=store.write_bytes, args=("trained/a.pkl", bytes([i])))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p.name for p in (model_root / "trained").iterdir()] == ["a.pkl"]
    assert len((model_root / "trained" / "a.pkl").read_bytes()) == 1


def test_the_read_cache_keeps_verified_bytes_by_sha256(model_store, store, settings):
    data = b"the model"
    digest = hashlib.sha256(data).hexdigest()
    assert store.cached(digest) is None
    path = store.remember(digest, data)
    assert path == settings.MODEL_CACHE_DIR / digest
    assert store.cached(digest) == data
    path.write_bytes(b"bit rot")
    assert store.cached(digest) is None  # re-hashed on every read
    assert not path.exists()
    with pytest.raises(ValueError, match="sha256"):
        store.remember(digest, b"other bytes")
    with pytest.raises(UnsafePathError):
        store.cached("../../etc/passwd")


def test_only_s3_counts_as_remote(model_store, store):
    assert store.is_remote == (model_store.backend == "s3")


@pytest.mark.parametrize(
    ("url", "backend", "options"),
    [
        ("", "ModelFileSystemStorage", {}),
        ("file:///srv/models", "ModelFileSystemStorage", {"location": "/srv/models"}),
        (
            "s3://bucket/some/prefix/",
            "ModelS3Storage",
            {"bucket_name": "bucket", "location": "some/prefix"},
        ),
        ("s3://bucket", "ModelS3Storage", {"bucket_name": "bucket", "location": ""}),
    ],
)
def test_a_storage_url_becomes_a_storages_entry(url, backend, options):
    config = model_storage_config(url)
    assert config["BACKEND"].rsplit(".", 1)[1] == backend
    assert options.items() <= config.get("OPTIONS", {}).items()


@pytest.mark.parametrize("url", ["ftp://host/x", "s3://", "s3:///prefix", "models"])
def test_an_unknown_storage_url_stops_the_start(url):
    with pytest.raises(ImproperlyConfigured, match="MODEL_STORAGE_URL"):
        model_storage_config(url)


def test_the_read_cache_keeps_only_the_newest_entries(store, settings):
    from mlops.storage_backends import CACHE_KEEP

    digests = []
    for i in range(CACHE_KEEP + 2):
        data = f"model {i}".encode()
        digests.append(hashlib.sha256(data).hexdigest())
        path = store.remember(digests[-1], data)
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # written in this order
    kept = sorted(p.name for p in settings.MODEL_CACHE_DIR.iterdir())
    assert kept == sorted(digests[-CACHE_KEEP:])
