"""Where model files live: the layout, and the store every service goes through.

The store (`get_storage()`, mlops/storage_backends.py) puts the files on Django's
storage API: STORAGES["models"] is the local disk under MODEL_ROOT by default or
an S3 bucket/prefix (MODEL_STORAGE_URL); backups may go to their own bucket or
prefix (MODEL_BACKUP_STORAGE_URL, STORAGES["model_backups"]).
"""

from mlops.storage_backends import (
    ModelStore,
    StorageUnavailableError,
    UnsafePathError,
    get_storage,
    sha256_bytes,
)

# The layout the operations guide knows: prefixes on every backend.
TRAINED_DIR = "trained"
METADATA_DIR = "metadata"
BACKUPS_DIR = "backups"
REPORTS_DIR = "reports"

__all__ = [
    "BACKUPS_DIR",
    "METADATA_DIR",
    "REPORTS_DIR",
    "TRAINED_DIR",
    "ModelStore",
    "StorageUnavailableError",
    "UnsafePathError",
    "get_storage",
    "sha256_bytes",
]
