"""Settings for lotto_site: one module, driven by the environment, safe defaults.

No DATABASE_URL -> SQLite under var/ (the quickstart). Production sets DATABASE_URL
(PostgreSQL), SECRET_KEY, DEBUG=0 and ALLOWED_HOSTS; see .env.example.
"""

import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from lotto_site.api.rates import parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def env_list(name: str, default: str) -> list[str]:
    """A comma-separated setting; blanks dropped ("a.com, " is ["a.com"])."""
    items = (item.strip() for item in os.environ.get(name, default).split(","))
    return [item for item in items if item]


def env_networks(name: str, default: str) -> list[str]:
    """A list of IP networks; one that does not parse stops start-up, named."""
    networks = env_list(name, default)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {exc}") from exc
    return networks


DEV_SECRET_KEY = "dev-only-not-secret"


def secret_key_problem(key: str) -> str:
    """Why `key` can't sign anything in production ("" when it can).

    Django's own deploy check (security.W009), made fatal: at least 50
    characters, at least 5 different ones, not a development default.
    """
    if not key:
        return "SECRET_KEY is not set"
    if key == DEV_SECRET_KEY or key.startswith("django-insecure-"):
        return "SECRET_KEY is the development default"
    if len(key) < 50 or len(set(key)) < 5:
        return "SECRET_KEY is shorter than 50 characters or has fewer than 5 different"
    return ""


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
# Fail closed: production (DEBUG off) refuses to start without a real key.
if not DEBUG and (problem := secret_key_problem(SECRET_KEY)):
    raise ImproperlyConfigured(
        f"{problem}: production (DEBUG=0) needs a random SECRET_KEY of 50+ "
        "characters, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
        " (DEBUG=1 runs with a development key)."
    )
SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by us: no CDN
    "corsheaders",
    "django_q",
    "axes",  # login throttling (AXES_* below)
    "draws",
    "mlops",
    "recommendations",
    "lotto_site.api",  # error format, throttling, landing page, cache table
]

MIDDLEWARE = [
    "mlops.observability.middleware.HttpMetricsMiddleware",  # outermost: times all
    # Before anything that can answer (WhiteNoise, CommonMiddleware's redirects).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # 400 for a NUL character or an out-of-range number (lotto_site/middleware.py).
    "lotto_site.middleware.RefuseBadInputMiddleware",
    # Serves the admin's static files from gunicorn itself: no proxy rule needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Korean by default, English on Accept-Language: en; adds Vary: Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lotto_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = "lotto_site.wsgi.application"

# No DATABASE_URL -> SQLite under var/. Postgres: DATABASE_URL=postgres://user@host/lotto
SQLITE_URL = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.config(
        default=SQLITE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The web server, the Q2 cluster and management commands share one file:
    # wait for a lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # libpq waits for a connection without limit by default: a database host
    # that drops packets would hang requests, and a worker's shutdown, for
    # minutes. Fail after this many seconds instead (the API answers 503).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after LOGIN_FAILURE_LIMIT wrong passwords for one user name
# from one address, that pair is locked out for LOGIN_COOLOFF_MINUTES (429), even
# with the right password. The attempts live in the database, so every web
# process sees them. The address is REMOTE_ADDR (a forwarded header can be
# forged); behind a proxy that is the proxy's, so the lock is per user name.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_LOCKOUT_CALLABLE = "lotto_site.lockout.login_locked_out"  # 429 + Retry-After

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Korean first: what a person reads is Korean unless the request asks for English
# (Accept-Language: en). An Accept-Language we don't speak gets LANGUAGE_CODE.
LANGUAGES = [("ko", "한국어"), ("en", "English")]
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "ko").strip() or "ko"
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ImproperlyConfigured(
        f"LANGUAGE_CODE={LANGUAGE_CODE!r} is not one of: "
        + ", ".join(code for code, _name in LANGUAGES)
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
# Datetimes in the admin (lists, read-only fields) read 2026-12-08 00:00 KST.
FORMAT_MODULE_PATH = ["lotto_site.formats"]
TIME_ZONE = "Asia/Seoul"  # times shown to people are KST, and say so
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# Without collectstatic (the quickstart, tests) WhiteNoise finds the files itself.
WHITENOISE_USE_FINDERS = True

# Production hardening; a TLS-terminating proxy sets X-Forwarded-Proto.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    # The proxy redirects http -> https (security.W008 left, see OPERATIONS.md);
    # with it on here, probes and Prometheus still reach these over plain http.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"


def env_rate(name: str, default: str) -> str:
    """A DRF rate string (120/min); anything else stops start-up in one line."""
    value = os.environ.get(name, "").strip() or default
    try:
        parse_rate(value)
    except ValueError as exc:
        sys.exit(f"{name}: {exc}")
    return value


# One URL for every Redis use: the default cache (rate-limit counters) and
# Django-Q2's broker and stats. Q_REDIS_URL is the older name of the same thing.
REDIS_URL = os.environ.get("REDIS_URL", "") or os.environ.get("Q_REDIS_URL", "")
REDIS_TIMEOUT_SECONDS = env_float("REDIS_TIMEOUT_SECONDS", 0.5)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "lotto_site.api.schema.ApiAutoSchema",
    # Token first: a bogus token, or none where one is needed, answers 401 with
    # `WWW-Authenticate: Token` (with the session first DRF would answer 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON nested too deeply is a 400, not a RecursionError (lotto_site/parsers.py).
    # The staff API accepts JSON only (mlops/api/permissions.py).
    # ?format=<unknown> chooses by Accept instead of answering 404.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": (
        "lotto_site.negotiation.LenientContentNegotiation"
    ),
    "DEFAULT_PARSER_CLASSES": [
        "lotto_site.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "lotto_site.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "lotto_site.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "lotto_site.api.throttling.AnonRateThrottle",
        "lotto_site.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "120/min"),
        "user": env_rate("API_THROTTLE_USER", "1200/min"),
    },
    # Proxies in front of gunicorn that append to X-Forwarded-For. 0: the
    # client is REMOTE_ADDR, and a forged X-Forwarded-For changes nothing.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "lotto-mlops API",
    # DESCRIPTION: lotto_site.api.schema.API_DESCRIPTION, in the reader's language.
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files: works offline.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # DESCRIPTION above in the request's language, and serializers' docstrings.
        "lotto_site.api.schema.translate_schema_texts",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache plus the throttle's one-round-trip increment.
            "BACKEND": "lotto_site.api.throttling.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "lotto"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    # Shared by every process on the database; `migrate` creates the table
    # (lotto_site/api/migrations/0001_cache_table.py).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "lotto_cache",
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "lotto"),
        }
    }

# CORS for browser apps on other origins: none allowed unless listed
# (https://app.example.com,https://other.example.com), and only under /api/.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["Retry-After", "Content-Language"]
CORS_PREFLIGHT_MAX_AGE = env_int("CORS_PREFLIGHT_MAX_AGE", 86400)

# --- Draw history -----------------------------------------------------------
DRAWS_SHIPPED_CSV = BASE_DIR / "draws" / "data" / "lotto645_draws.csv"
DRAWS_SOURCE_BASE_URL = os.environ.get(
    "DRAWS_SOURCE_BASE_URL", "https://dhlottery.co.kr"
)
DRAWS_LEGACY_BASE_URL = os.environ.get(
    "DRAWS_LEGACY_BASE_URL", "https://www.dhlottery.co.kr"
)
DRAWS_SYNC_TIMEOUT_SECONDS = env_float("DRAWS_SYNC_TIMEOUT_SECONDS", 10.0)
DRAWS_SYNC_RETRIES = env_int("DRAWS_SYNC_RETRIES", 3)
DRAWS_SYNC_BACKOFF_SECONDS = env_float("DRAWS_SYNC_BACKOFF_SECONDS", 2.0)
DRAWS_SYNC_MAX_DRAWS = env_int("DRAWS_SYNC_MAX_DRAWS", 60)
# Stored draws with missing prize figures a sync asks for again, newest first.
DRAWS_SYNC_REFILL_MAX = env_int("DRAWS_SYNC_REFILL_MAX", 5)
# import_draws refuses a larger file (the whole history is about 100 KB).
DRAWS_IMPORT_MAX_BYTES = env_int("DRAWS_IMPORT_MAX_BYTES", 5_000_000)
# How long a web process trusts its idea of the draw history's version (ETags).
DRAWS_VERSION_CHECK_SECONDS = env_float("DRAWS_VERSION_CHECK_SECONDS", 2.0)
# A web process keeps the shown columns of up to this many draws in memory (about
# 300 bytes a draw) and serves list pages from them; a longer history is read per
# page (one indexed query).
DRAWS_ROWS_IN_MEMORY_MAX = env_int("DRAWS_ROWS_IN_MEMORY_MAX", 50_000)
# A draw not stored this long after its broadcast (Saturday 20:35 KST) makes the
# history "stale" (/readyz, /metrics, alert, operations page, check_draws). 24 h
# lets the Saturday 21:30 sync and the Sunday 09:00 follow-up both have their try.
DRAWS_STALE_GRACE_HOURS = env_float("DRAWS_STALE_GRACE_HOURS", 24.0)

# --- Model registry and training ----------------------------------------------
MODEL_ROOT = Path(os.environ.get("MODEL_ROOT", VAR_DIR / "models"))
# Where model files live (Django's storage API, alias "models"). Empty: the local
# disk under MODEL_ROOT. s3://bucket/prefix: S3 or any S3-compatible store (MinIO)
# through django-storages; AWS_S3_ENDPOINT_URL names a non-AWS endpoint, and the
# credentials are boto3's usual ones (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
MODEL_STORAGE_URL = os.environ.get("MODEL_STORAGE_URL", "").strip()
# Backups in a separate prefix or bucket (alias "model_backups"); empty: next to
# the models, under backups/ of MODEL_STORAGE_URL.
MODEL_BACKUP_STORAGE_URL = os.environ.get("MODEL_BACKUP_STORAGE_URL", "").strip()
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL", "").strip() or None
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME", "").strip() or None
# Each process keeps the model bytes it downloaded here, named by sha256, so a
# request never downloads a model the host already holds (remote storage only).
MODEL_CACHE_DIR = Path(os.environ.get("MODEL_CACHE_DIR", VAR_DIR / "model-cache"))


def model_storage_config(url: str) -> dict:
    """A STORAGES entry for a model storage URL ('' = the local MODEL_ROOT)."""
    if not url:
        # No location: the backend follows settings.MODEL_ROOT (tests move it).
        return {"BACKEND": "mlops.storage_backends.ModelFileSystemStorage"}
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.path:
        return {
            "BACKEND": "mlops.storage_backends.ModelFileSystemStorage",
            "OPTIONS": {"location": parts.path},
        }
    if parts.scheme == "s3" and parts.netloc:
        return {
            "BACKEND": "mlops.storage_backends.ModelS3Storage",
            "OPTIONS": {
                "bucket_name": parts.netloc,
                "location": parts.path.strip("/"),
                "endpoint_url": AWS_S3_ENDPOINT_URL,
                "region_name": AWS_S3_REGION_NAME,
                # MinIO and moto answer on one host name: path-style addressing.
                "addressing_style": "path" if AWS_S3_ENDPOINT_URL else None,
            },
        }
    raise ImproperlyConfigured(
        f"MODEL_STORAGE_URL/MODEL_BACKUP_STORAGE_URL {url!r}: expected "
        "s3://bucket/prefix or file:///absolute/path"
    )


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "models": model_storage_config(MODEL_STORAGE_URL),
}
if MODEL_BACKUP_STORAGE_URL:
    STORAGES["model_backups"] = model_storage_config(MODEL_BACKUP_STORAGE_URL)
ML_MIN_DRAWS = env_int("ML_MIN_DRAWS", 500)
ML_N_ESTIMATORS = env_int("ML_N_ESTIMATORS", 100)
ML_MAX_DEPTH = env_int("ML_MAX_DEPTH", 0) or None
ML_MIN_SAMPLES_LEAF = env_int("ML_MIN_SAMPLES_LEAF", 0) or None
ML_SEED = env_int("ML_SEED", 0)
# Fit on at most this many recent draws: bounded training time and model size.
ML_TRAINING_WINDOW = env_int("ML_TRAINING_WINDOW", 2000)
ML_N_JOBS = env_int("ML_N_JOBS", 2)
RECOMMENDATIONS_USE_ML = env_bool("RECOMMENDATIONS_USE_ML", True)
# How long a web process trusts its idea of "the active model" before asking the
# database again; another worker's promotion is seen within this time.
ML_ACTIVE_CHECK_SECONDS = env_float("ML_ACTIVE_CHECK_SECONDS", 2.0)
# Model files on S3: each web worker downloads the active model into its host's
# read cache at start and then checks for a new active version this often
# (0 = no prefetch: the first request after an activation downloads it), so no
# request downloads a model. Requests keep serving the previous model while the
# prefetch fetches the new one, for at most ML_PREFETCH_GRACE_SECONDS.
ML_PREFETCH_SECONDS = env_float("ML_PREFETCH_SECONDS", 0.5)
ML_PREFETCH_GRACE_SECONDS = env_float("ML_PREFETCH_GRACE_SECONDS", 30.0)
# After a fallback a retry could cure (file put back, transient error), a web
# process tries the model again after this long.
ML_FALLBACK_RETRY_SECONDS = env_float("ML_FALLBACK_RETRY_SECONDS", 60.0)
# How long a process trusts its last check of the served model's file (/readyz,
# the response's model_file, the operations page share it); a file that went is
# noticed within this time. Holding the model, the check hashes the file (S3: a
# HEAD); not holding it, it loads it.
ML_MODEL_FILE_RECHECK_SECONDS = env_float("ML_MODEL_FILE_RECHECK_SECONDS", 60.0)
# Each web process adds up how often it served a forecast and writes the sum at
# most this often (0 = one UPDATE per response).
ML_SERVED_FLUSH_SECONDS = env_float("ML_SERVED_FLUSH_SECONDS", 5.0)

# --- Retraining ----------------------------------------------------------------
RETRAIN_PROMOTION_TOLERANCE = env_float("RETRAIN_PROMOTION_TOLERANCE", 0.05)
# A running retrain beats a heartbeat every RETRAIN_HEARTBEAT_TIMEOUT_SECONDS / 6;
# silent for the whole timeout, its worker is taken for dead: the run is failed,
# its lock released and the abandonment audited by the watchdog schedule
# (RETRAIN_WATCHDOG_CRON). A queued run may wait for a busy worker: it counts as
# never picked up after RETRAIN_ABANDON_AFTER_SECONDS.
RETRAIN_HEARTBEAT_TIMEOUT_SECONDS = env_int("RETRAIN_HEARTBEAT_TIMEOUT_SECONDS", 180)
RETRAIN_ABANDON_AFTER_SECONDS = env_int("RETRAIN_ABANDON_AFTER_SECONDS", 1800)
RETRAIN_WATCHDOG_CRON = os.environ.get("RETRAIN_WATCHDOG_CRON", "*/2 * * * *")
RETRAIN_CRON = os.environ.get("RETRAIN_CRON", "0 0 * * 2")  # Tuesday 00:00 KST
DRAW_SYNC_CRON = os.environ.get("DRAW_SYNC_CRON", "30 21 * * 6")  # Saturday 21:30
# A second try for a result the official site published late (Sunday 09:00 KST).
DRAW_SYNC_FOLLOWUP_CRON = os.environ.get("DRAW_SYNC_FOLLOWUP_CRON", "0 9 * * 0")
# The active model's file every 5 minutes (self-heal at once if it fails), every
# model, metadata and backup file daily at 04:15 KST.
INTEGRITY_ACTIVE_CRON = os.environ.get("INTEGRITY_ACTIVE_CRON", "*/5 * * * *")
INTEGRITY_FULL_CRON = os.environ.get("INTEGRITY_FULL_CRON", "15 4 * * *")
# --tune: None = mlops.ml.tuning.DEFAULT_GRID (a dict of lists to override).
RETRAIN_TUNE_GRID = None
RETRAIN_TUNE_SPLITS = env_int("RETRAIN_TUNE_SPLITS", 3)
RETRAIN_TUNE_N_JOBS = env_int("RETRAIN_TUNE_N_JOBS", 2)

# --- Accuracy monitoring --------------------------------------------------------
MONITOR_GOOD_THRESHOLD = env_float("MONITOR_GOOD_THRESHOLD", 70.0)
MONITOR_CRITICAL_THRESHOLD = env_float("MONITOR_CRITICAL_THRESHOLD", 50.0)
MONITOR_WINDOW = env_int("MONITOR_WINDOW", 52)
MONITOR_MIN_SAMPLES = env_int("MONITOR_MIN_SAMPLES", 20)
MONITOR_EMERGENCY_COOLDOWN_DAYS = env_int("MONITOR_EMERGENCY_COOLDOWN_DAYS", 7)
# Warm-up: draws the walk-forward replay covers at first deploy (0 turns it off).
MONITOR_REPLAY_DRAWS = env_int("MONITOR_REPLAY_DRAWS", 52)

# --- Operations -----------------------------------------------------------------
CLEANUP_OLDER_THAN_DAYS = env_int("CLEANUP_OLDER_THAN_DAYS", 30)
SELF_HEAL_QUEUE_RETRAIN = env_bool("SELF_HEAL_QUEUE_RETRAIN", True)

# --- Metrics ----------------------------------------------------------------------
# Empty token: /metrics answers loopback only (below). Set a token in
# production and give it to Prometheus as a bearer token.
METRICS_BEARER_TOKEN = os.environ.get("METRICS_BEARER_TOKEN", "")
# Without a token: who may scrape, not via a proxy. Fail closed: loopback unless
# networks are configured explicitly (a bad network stops start-up, named).
METRICS_ALLOWED_NETWORKS = env_networks(
    "METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128"
)

# --- Django-Q2 ----------------------------------------------------------------------
# timeout < retry: a task still running when `retry` passes would be delivered
# again; single-flight retraining makes even that harmless.
Q_CLUSTER = {
    # The queue's name: deployments (or test runs) sharing one Redis need their own.
    "name": os.environ.get("Q_CLUSTER_NAME", "lotto_site"),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 1200),
    "retry": env_int("Q_RETRY", 1500),
    "max_attempts": 1,
    "time_zone": "Asia/Seoul",
    "catch_up": False,
    "save_limit": 250,
    "label": "Django Q2",
    "orm": "default",
}
# The cluster's heartbeat (django_q Stat) lives in a cache. The default cache is
# per process, so the web process could never see the cluster: keep the stats in
# files under VAR_DIR, shared by every process on this machine. (With the Redis
# broker the stats live in Redis itself and this cache is not used for them.)
CACHES["django_q"] = {
    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
    "LOCATION": os.environ.get("Q_STAT_CACHE_DIR", str(VAR_DIR / "cache" / "django_q")),
}
Q_CLUSTER["cache"] = "django_q"
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = REDIS_URL

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # Django sets the process time zone to TIME_ZONE, so %Z labels it (KST).
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
            "datefmt": "%Y-%m-%d %H:%M:%S %Z",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs every login at INFO; lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}
