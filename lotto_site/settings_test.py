import os
import tempfile
from pathlib import Path

# Production settings refuse to load without a real key (DEBUG is off here too).
os.environ.setdefault("SECRET_KEY", "test-only-" + "0123456789abcdef" * 4)

from .settings import *  # noqa: E402, F403
from .settings import Q_CLUSTER  # noqa: E402

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
# English in tests, so assertions on English text stand; each Korean surface has a
# test of its own that asks for Korean (Accept-Language: ko or translation.override).
LANGUAGE_CODE = "en"
# Every request reads the draw history version afresh (ETags): factories bypass
# the services that would tell the memo.
DRAWS_VERSION_CHECK_SECONDS = 0.0
