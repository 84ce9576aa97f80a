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

import os
import tempfile
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage
from storages.backends.s3 import S3Storage


class UnsafePathError(SuspiciousFileOperation, ValueError):
    """A name that would leave the model storage's root (absolute, '..', a link)."""


def clean_name(name: str) -> str:
    """`name` as a relative POSIX path inside the root; UnsafePathError if not."""
    pure = PurePosixPath(str(name).replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise UnsafePathError(f"{name!r} is not a path inside the model storage")
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
            raise UnsafePathError(f"{name!r} resolves outside the model storage")
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
