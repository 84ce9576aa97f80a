"""Where model files live. Everything touching MODEL_ROOT goes through here, so a
shared store (Django's storage API, S3) can replace the local disk by implementing
the same few methods and naming the class in MODEL_STORAGE_CLASS.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.module_loading import import_string

# The layout the operations guide knows.
TRAINED_DIR = "trained"
METADATA_DIR = "metadata"
BACKUPS_DIR = "backups"
REPORTS_DIR = "reports"


class UnsafePathError(ValueError):
    """A path that would leave MODEL_ROOT (absolute, '..', or a link outside)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalModelStorage:
    """Model files on the local disk under one root; writes are atomic."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, relative: str) -> Path:
        """The absolute path of `relative`; refuses anything outside the root."""
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise UnsafePathError(f"{relative!r} is not a path inside MODEL_ROOT")
        full = (self.root / pure).resolve()
        root = self.root.resolve()
        if full != root and root not in full.parents:
            raise UnsafePathError(f"{relative!r} resolves outside MODEL_ROOT")
        return full

    def write_bytes(self, relative: str, data: bytes) -> None:
        """Write atomically: temp file in the same folder, fsync, rename.

        A crash at any point leaves either the old file or the new one, never a
        half-written file under the final name.
        """
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self._fsync_dir(target.parent)

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        # Makes the rename itself durable; not every platform allows it.
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

    def read_bytes(self, relative: str) -> bytes:
        return self.path(relative).read_bytes()

    def exists(self, relative: str) -> bool:
        return self.path(relative).is_file()

    def size(self, relative: str) -> int:
        return self.path(relative).stat().st_size

    def delete(self, relative: str) -> None:
        self.path(relative).unlink(missing_ok=True)

    def copy(self, source: str, target: str) -> None:
        """Copy atomically (the target appears whole or not at all)."""
        target_path = self.path(target)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(
            dir=target_path.parent, prefix=f".{target_path.name}."
        )
        os.close(fd)
        try:
            shutil.copyfile(self.path(source), temp_name)
            with open(temp_name, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(temp_name, target_path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def modified_at(self, relative: str) -> float:
        return self.path(relative).stat().st_mtime

    def list_files(self, folder: str) -> list[str]:
        """Relative paths of the regular files below `folder` (temp files left out)."""
        base = self.path(folder) if folder else self.root.resolve()
        if not base.is_dir():
            return []
        root = self.root.resolve()
        return sorted(
            str(PurePosixPath(p.relative_to(root)))
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )


def get_storage() -> LocalModelStorage:
    """The configured model storage, rooted at settings.MODEL_ROOT."""
    storage_class = import_string(
        getattr(
            settings,
            "MODEL_STORAGE_CLASS",
            "mlops.services.registry.storage.LocalModelStorage",
        )
    )
    return storage_class(settings.MODEL_ROOT)
