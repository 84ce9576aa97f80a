"""The two Django storage backends model files live on (STORAGES["models"]).

`ModelFileSystemStorage`: the local disk under MODEL_ROOT. A new file becomes
visible atomically: it is written to a temp file in the same folder, fsynced,
then renamed over the final name (rename is atomic on POSIX), so a reader sees
the old file or the new one, never half of one. Names are overwritten, never
renamed to "name_abc123.pkl": the registry chooses unique names itself.

`ModelS3Storage`: S3 or an S3-compatible store through django-storages. A PUT is
atomic per object (a multipart upload too: the object appears only when the
upload completes), so readers see the old object or the new one.

Both refuse a name that leaves the root (`UnsafePathError`); the local one also
refuses a symbolic link that leads outside it.
"""

import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from storages.backends.s3 import S3Storage


class UnsafePathError(SuspiciousFileOperation, ValueError):
    """A name that would leave the model storage's root (absolute, '..', a link)."""


def clean_name(name: str) -> str:
    """`name` as a relative POSIX path inside the root; UnsafePathError if not."""
    pure = PurePosixPath(str(name).replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise UnsafePathError(
            f"{name!r} is not a path inside the model storage (MODEL_ROOT or MODEL_STORAGE_URL)"
        )
    return str(pure)


def fsync_directory(directory: str | Path) -> None:
    """Make a rename in `directory` durable; not every platform allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(target: Path, chunks) -> None:
    """Temp file in the target's folder, fsync, rename over the target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk if isinstance(chunk, bytes) else chunk.encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


class ModelFileSystemStorage(FileSystemStorage):
    """Model files on the local disk; atomic, overwriting writes; no escapes.

    Without a `location` it follows settings.MODEL_ROOT, read on every use (the
    test fixtures point MODEL_ROOT at a fresh directory per test).
    """

    @property
    def base_location(self):
        return self._location or str(settings.MODEL_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def path(self, name: str) -> str:
        relative = clean_name(name)
        root = Path(self.location).resolve()
        full = (root / relative).resolve()
        if full != root and root not in full.parents:
            raise UnsafePathError(
                f"{name!r} resolves outside the model storage (MODEL_ROOT)"
            )
        return str(full)

    def get_available_name(self, name, max_length=None):
        return clean_name(name)  # overwrite: the registry picks unique names

    def _save(self, name, content):
        if hasattr(content, "seek"):
            content.seek(0)
        write_atomically(Path(self.path(name)), content.chunks())
        return name

    def listdir(self, path):
        if path and not os.path.isdir(self.path(path)):
            return [], []
        directories, files = super().listdir(path)
        # Temp files of a write in progress start with a dot.
        return directories, [name for name in files if not name.startswith(".")]


class ModelS3Storage(S3Storage):
    """Model files in an S3 bucket under a prefix; objects are overwritten."""

    def get_default_settings(self):
        return {
            **super().get_default_settings(),
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": False,
        }

    def _normalize_name(self, name):
        return super()._normalize_name(clean_name(name))


# --- The registry's view: one store, routed by prefix -------------------------------

BACKUPS_PREFIX = "backups/"
# Read-cache entries kept per host: the active version, the one before (a
# rollback) and one more.
CACHE_KEEP = 3
MODELS_ALIAS = "models"
BACKUPS_ALIAS = "model_backups"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class StorageUnavailableError(OSError):
    """The store did not answer (S3 down, refused credentials): not the file's fault."""


def _not_found(error: ClientError) -> bool:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404


@contextmanager
def _translated(name: str):
    """S3's errors as the local disk's: 404 -> FileNotFoundError, else unavailable."""
    try:
        yield
    except ClientError as error:
        if _not_found(error):
            raise FileNotFoundError(name) from error
        raise StorageUnavailableError(f"{name}: {error}") from error
    except BotoCoreError as error:
        raise StorageUnavailableError(f"{name}: {error}") from error


class ModelStore:
    """The registry's files on Django's storages, by relative name.

    Names under backups/ go to STORAGES["model_backups"] when it is configured
    (MODEL_BACKUP_STORAGE_URL), everything else to STORAGES["models"]. Every
    write is atomic on both backends (see the module docstring).
    """

    def backend(self, name: str) -> Storage:
        if name.startswith(BACKUPS_PREFIX) and BACKUPS_ALIAS in settings.STORAGES:
            return storages[BACKUPS_ALIAS]
        return storages[MODELS_ALIAS]

    @property
    def is_remote(self) -> bool:
        """True when model files are not on this machine's disk (S3)."""
        return not isinstance(storages[MODELS_ALIAS], FileSystemStorage)

    def path(self, name: str) -> Path:
        """The local file of `name` (local backend only); refuses escapes."""
        name = clean_name(name)
        backend = self.backend(name)
        if not isinstance(backend, FileSystemStorage):
            raise NotImplementedError(f"{name!r} is not on a local disk")
        return Path(backend.path(name))

    def write_bytes(self, name: str, data: bytes) -> None:
        name = clean_name(name)
        with _translated(name):
            saved = self.backend(name).save(name, ContentFile(data))
        if saved != name:  # an overwriting backend never renames
            raise OSError(f"storage saved {name!r} as {saved!r}")

    def read_bytes(self, name: str) -> bytes:
        name = clean_name(name)
        backend = self.backend(name)
        if isinstance(backend, FileSystemStorage):
            return Path(backend.path(name)).read_bytes()
        with _translated(name), backend.open(name, "rb") as handle:
            return handle.read()

    def exists(self, name: str) -> bool:
        name = clean_name(name)
        backend = self.backend(name)
        if isinstance(backend, FileSystemStorage):
            return Path(backend.path(name)).is_file()
        with _translated(name):
            return backend.exists(name)

    def size(self, name: str) -> int:
        name = clean_name(name)
        with _translated(name):
            return self.backend(name).size(name)

    def delete(self, name: str) -> None:
        name = clean_name(name)
        backend = self.backend(name)
        if isinstance(backend, FileSystemStorage):
            Path(backend.path(name)).unlink(missing_ok=True)
        else:
            with _translated(name):
                backend.delete(name)

    def copy(self, source: str, target: str) -> None:
        """Copy atomically (the target appears whole or not at all)."""
        self.write_bytes(target, self.read_bytes(source))

    def modified_at(self, name: str) -> float:
        """When the file was last written (a POSIX timestamp)."""
        name = clean_name(name)
        with _translated(name):
            return self.backend(name).get_modified_time(name).timestamp()

    def list_files(self, folder: str) -> list[str]:
        """Names of the files below `folder`, recursively (temp files left out)."""
        folder = clean_name(folder)
        backend = self.backend(f"{folder}/")
        if isinstance(backend, S3Storage):
            with _translated(folder):
                return self._list_s3(backend, folder)
        found = []
        pending = [folder]
        while pending:
            current = pending.pop()
            directories, files = backend.listdir(current)
            found += [f"{current}/{name}" for name in files]
            pending += [f"{current}/{name}" for name in directories]
        return sorted(found)

    @staticmethod
    def _list_s3(backend: S3Storage, folder: str) -> list[str]:
        # One paginated listing of the whole prefix, not one request per folder.
        root = backend.location.strip("/")
        prefix = f"{root}/{folder}/" if root else f"{folder}/"
        client = backend.connection.meta.client
        found = []
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=backend.bucket_name, Prefix=prefix
        ):
            for item in page.get("Contents", ()):
                key = item["Key"]
                found.append(key[len(root) + 1 :] if root else key)
        return sorted(found)

    # --- The read cache ------------------------------------------------------------

    def cache_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise UnsafePathError(f"{sha256!r} is not a sha256")
        return Path(settings.MODEL_CACHE_DIR) / sha256

    def cached(self, sha256: str) -> bytes | None:
        """The cached bytes with this sha256 (re-hashed), or None."""
        path = self.cache_path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if sha256_bytes(data) != sha256:
            path.unlink(missing_ok=True)  # a damaged cache entry: fetch again
            return None
        return data

    def remember(self, sha256: str, data: bytes) -> Path:
        """Keep verified bytes in the cache (atomically; other processes read it)."""
        if sha256_bytes(data) != sha256:
            raise ValueError("only bytes that match their sha256 are cached")
        path = self.cache_path(sha256)
        if not path.is_file():
            write_atomically(path, [data])
            self._prune_cache(keep=CACHE_KEEP)
        return path

    @staticmethod
    def _prune_cache(*, keep: int) -> None:
        """Keep the `keep` newest entries: one per version a host served lately."""
        folder = Path(settings.MODEL_CACHE_DIR)
        entries = sorted(
            (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in entries[keep:]:
            # A process reading it keeps its open file; one about to read it
            # finds nothing and downloads the bytes again.
            old.unlink(missing_ok=True)


def get_storage() -> ModelStore:
    """The registry's store (STORAGES["models"], and "model_backups" if set)."""
    return ModelStore()
