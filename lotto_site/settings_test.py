import tempfile
from pathlib import Path

from .settings import *  # noqa: F403
from .settings import Q_CLUSTER

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# django-q2 reads Q_CLUSTER at import time, so sync mode must be set here.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Tests that touch model files point MODEL_ROOT at their own tmp dir (a fixture);
# this default keeps a stray test from writing into the developer's var/.
MODEL_ROOT = Path(tempfile.mkdtemp(prefix="lotto-test-models-"))
ML_N_ESTIMATORS = 10
ML_N_JOBS = 1
DRAWS_SYNC_BACKOFF_SECONDS = 0.01
DEBUG = False
# Rate limits: the API tests make many requests from one address; the
# throttling tests set their own rates. A per-process cache keeps tests apart
# (tests/api covers the database cache and Redis).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min"},
}
CACHES = {
    **CACHES,  # noqa: F405
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
