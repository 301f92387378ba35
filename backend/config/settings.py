"""Settings for the Whale backend: every value comes from the environment via config.env."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from inference.broker import transport_for as broker_transport_for

from .env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent
VAR_DIR = Path(env_str("WHALE_VAR_DIR", str(REPO_DIR / "var")))

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", True)
ENVIRONMENT = env_str("WHALE_ENV", "development")  # development | test | production

if ENVIRONMENT == "production":
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("Refusing to start in production with the dev SECRET_KEY.")
    if DEBUG:
        raise ImproperlyConfigured("Refusing to start in production with DEBUG on.")

# Served over HTTPS in production (TLS ends at the ingress or proxy; uvicorn's --proxy-headers marks
# those requests secure): cookies only over HTTPS, and browsers told to keep to HTTPS. The redirect
# from HTTP is the ingress's job; here it would also redirect the plain-HTTP health probes.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", ENVIRONMENT == "production")
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", ENVIRONMENT == "production")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 30 * 24 * 3600 if ENVIRONMENT == "production" else 0)
# Domain-wide choices for the operator (check --deploy lists them while off).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_SSL_REDIRECT else ["security.W008"]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
# The origin users reach the web chat at (https://chat.example.com), for links the backend hands out
# (a share link's `url`); empty: the origin of the request that asked for the link.
WHALE_PUBLIC_URL = env_str("WHALE_PUBLIC_URL", "").rstrip("/")
if WHALE_PUBLIC_URL and not WHALE_PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("WHALE_PUBLIC_URL must start with http:// or https://.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", ["http://127.0.0.1:8000", "http://localhost:8000"])

INSTALLED_APPS = [
    "unfold",  # the admin theme: before django.contrib.admin so its templates win
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "channels",
    "common",
    "accounts",
    "chat",
    "turns",
    "ratelimits",
    "partners",
    "research",
    "files",
    "dashboard",
]

MIDDLEWARE = [
    "common.logging.RequestIdMiddleware",
    "common.api_errors.ApiErrorShapeMiddleware",  # /api/ and /v1/ errors in their JSON shape, DEBUG or not
    "common.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "common.staticfiles.AsyncWhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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

# SQLite is the embedded default; DATABASE_URL switches to Postgres.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'whale.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# SQLite as a server's database (the one-command dev run): readers never wait for the writer (WAL),
# a writer waits its turn instead of failing with "database is locked" at once (timeout, in seconds),
# and a write transaction takes the write lock when it begins (IMMEDIATE), so two of them never both
# read and then deadlock trying to write. Transactions stay short: limits are checked before them.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # The day's usage row has a unique constraint that treats a null key as one subject (NULLS NOT DISTINCT),
    # which SQLite cannot create; on SQLite ratelimits.services.usage_record updates, else creates, instead.
    SILENCED_SYSTEM_CHECKS.append("models.W047")
# Under ASGI each request runs in its own thread, so persistent connections (DB_CONN_MAX_AGE > 0)
# would leave one open connection behind per request until Postgres refuses clients. Postgres gets
# a pool per process instead (DB_POOL_MAX_SIZE=0 turns it off); requests wait for a free connection.
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 8)
if DATABASE_IS_POSTGRES and DB_POOL_MAX_SIZE > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Django then gives the pool psycopg_pool's check: each checkout is tested first (an empty
    # query), so after a Postgres restart the pool hands out fresh connections instead of dead ones
    # ("terminating connection due to administrator command").
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env_float("DB_POOL_TIMEOUT_SECONDS", 10.0),
    }
# Lets two test runs on one Postgres (two checkouts, CI beside a developer) keep separate test databases.
if env_str("WHALE_TEST_DB_NAME", ""):
    DATABASES["default"]["TEST"] = {"NAME": env_str("WHALE_TEST_DB_NAME", "")}

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The web build of the Expo app (mobile/dist) is served at / when it exists.
WEB_BUILD_DIR = Path(env_str("WEB_BUILD_DIR", str(REPO_DIR / "mobile" / "dist")))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: one URL for the channel layer, Celery, turn streams and limits.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNELS_PREFIX", "whale:asgi")},
    }
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
# kombu's Redis transport with the fix that lets a worker survive a Redis restart mid-task (inference/broker.py).
CELERY_BROKER_TRANSPORT = broker_transport_for(CELERY_BROKER_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# The queue the backend's own worker consumes (GPU workers send results back to it).
WHALE_BACKEND_QUEUE = env_str("WHALE_BACKEND_QUEUE", "backend")
CELERY_TASK_DEFAULT_QUEUE = WHALE_BACKEND_QUEUE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# Email: console in dev, SMTP in production.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if ENVIRONMENT == "production"
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "emails"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Whale <no-reply@whale.local>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.WhaleJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Responses are negotiated by Accept alone: a `?format=` query parameter picks nothing (it is 404 by default).
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_PARSER_CLASSES": ["common.parsers.JsonParser"],  # depth and text checked at parse time
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_ACCESS_SECONDS", 15 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "CHECK_REVOKE_TOKEN": True,
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Whale API",
    "DESCRIPTION": "The app API of Whale, a self-hostable AI assistant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "FileStatusEnum": "files.models.UploadedFile.Status",
        "MessageStatusEnum": "chat.models.Message.Status",
    },
}

# Accounts
WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT = env_bool("WHALE_REQUIRE_VERIFIED_EMAIL_TO_CHAT", False)
WHALE_EMAIL_CODE_TTL_SECONDS = env_int("WHALE_EMAIL_CODE_TTL_SECONDS", 15 * 60)
WHALE_EMAIL_CODE_MAX_ATTEMPTS = env_int("WHALE_EMAIL_CODE_MAX_ATTEMPTS", 5)
WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("WHALE_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
WHALE_LOGIN_MAX_FAILURES_PER_IP = env_int("WHALE_LOGIN_MAX_FAILURES_PER_IP", 20)
WHALE_LOGIN_LOCKOUT_SECONDS = env_int("WHALE_LOGIN_LOCKOUT_SECONDS", 15 * 60)
# Login limits count per client IP, which is REMOTE_ADDR unless this many proxies in front of us append
# to X-Forwarded-For (0: the header is ignored, so a client cannot pick its own IP).
WHALE_TRUSTED_PROXY_COUNT = env_int("WHALE_TRUSTED_PROXY_COUNT", 0)
WHALE_DEV_ADMIN_EMAIL = env_str("WHALE_DEV_ADMIN_EMAIL", "admin@whale.local")
WHALE_DEV_ADMIN_PASSWORD = env_str("WHALE_DEV_ADMIN_PASSWORD", "whale-admin")
WHALE_REDIS_PREFIX = env_str("WHALE_REDIS_PREFIX", "whale")

# Chat turns: the model registry maps the names clients pick to GPU worker queues.
# DeepThink on picks WHALE_REASONING_MODEL, off picks WHALE_CHAT_MODEL (the same weights
# without the forced "<think>" by default). Override the whole registry with JSON.
WHALE_MODELS: dict[str, dict[str, object]] = {
    "whale-r1": {
        "display_name": "DeepThink (R1)",
        "description": "Reasons step by step before it answers.",
        "queue": "gpu.default",
        "reasoning": True,
    },
    "whale-chat": {
        "display_name": "Chat",
        "description": "Answers directly, without a reasoning phase.",
        "queue": "gpu.default",
        "reasoning": False,
    },
}
_models_json = env_str("WHALE_MODELS_JSON", "")
if _models_json:
    import json

    WHALE_MODELS = json.loads(_models_json)
WHALE_REASONING_MODEL = env_str("WHALE_REASONING_MODEL", "whale-r1")
WHALE_CHAT_MODEL = env_str("WHALE_CHAT_MODEL", "whale-chat")
WHALE_MAX_MESSAGE_CHARS = env_int("WHALE_MAX_MESSAGE_CHARS", 16_000)
WHALE_MAX_TOKENS = env_int("WHALE_MAX_TOKENS", 512)
WHALE_TURN_DEADLINE_SECONDS = env_int("WHALE_TURN_DEADLINE_SECONDS", 600)
WHALE_TITLE_MODEL = env_str("WHALE_TITLE_MODEL", "whale-chat")
WHALE_AUTO_TITLE = env_bool("WHALE_AUTO_TITLE", True)
WHALE_SSE_KEEPALIVE_SECONDS = env_float("WHALE_SSE_KEEPALIVE_SECONDS", 15.0)
WHALE_REAPER_INTERVAL_SECONDS = env_float("WHALE_REAPER_INTERVAL_SECONDS", 5.0)

# Limits and admission (tiers and their limits live in the database, editable in the admin).
# A model's capacity: turns it runs at once, learned from worker heartbeats, else WHALE_MODELS[name]["capacity"],
# else this. New turns get 503 server_busy once capacity x WHALE_QUEUE_WAITING_FACTOR turns wait ahead of them
# (or WHALE_MODELS[name]["max_waiting"]).
WHALE_MODEL_CAPACITY = env_int("WHALE_MODEL_CAPACITY", 32)
WHALE_QUEUE_WAITING_FACTOR = env_int("WHALE_QUEUE_WAITING_FACTOR", 4)
WHALE_TURN_SECONDS_ESTIMATE = env_float("WHALE_TURN_SECONDS_ESTIMATE", 20.0)
# When the day's DeepThink allowance is spent, answer with the chat model (and say so) instead of a 429.
WHALE_DEEPTHINK_FALLBACK = env_bool("WHALE_DEEPTHINK_FALLBACK", True)
# Partner API (/v1/): DeepSeek's model names map to ours; how many live keys one user may hold.
WHALE_PARTNER_MODEL_ALIASES = {"deepseek-chat": WHALE_CHAT_MODEL, "deepseek-reasoner": WHALE_REASONING_MODEL}
WHALE_API_KEYS_PER_USER = env_int("WHALE_API_KEYS_PER_USER", 20)

# Files (attachments): stored through Django's storage API, read by a worker of their own (files/).
# WHALE_FILES_STORAGE=local keeps them under var/uploads; s3 uses django-storages with the AWS_* settings
# below (any S3-compatible store: MinIO, R2, Ceph).
WHALE_FILES_STORAGE = env_str("WHALE_FILES_STORAGE", "local")
if WHALE_FILES_STORAGE not in {"local", "s3"}:
    raise ImproperlyConfigured("WHALE_FILES_STORAGE must be local or s3.")
_files_storage: dict[str, Any] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {
        "location": str(VAR_DIR / "uploads"),
        "directory_permissions_mode": 0o700,
        "file_permissions_mode": 0o600,
    },
}
if WHALE_FILES_STORAGE == "s3":
    _files_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME", "whale-files"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
            "location": env_str("AWS_LOCATION", "files"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "files": _files_storage,
}
# The queue of the files worker (extraction is CPU work for the backend side, never a GPU worker's).
WHALE_FILES_QUEUE = env_str("WHALE_FILES_QUEUE", "files")
CELERY_TASK_ROUTES = {"whale.files.extract": {"queue": WHALE_FILES_QUEUE}}
_MIB = 1024 * 1024
# DeepSeek's published limits, per kind of file (bytes); enforced while the body is read.
WHALE_FILES_LIMIT_DOCUMENT_BYTES = env_int("WHALE_FILES_LIMIT_DOCUMENT_BYTES", 100 * _MIB)  # PDF, Word, PowerPoint
WHALE_FILES_LIMIT_TEXT_BYTES = env_int("WHALE_FILES_LIMIT_TEXT_BYTES", 32 * _MIB)  # text, sheets, e-books
WHALE_FILES_LIMIT_IMAGE_BYTES = env_int("WHALE_FILES_LIMIT_IMAGE_BYTES", 64 * _MIB)  # JPEG, PNG, GIF, WebP
# The extractor's protections: pages read, bytes a zip-based file may unpack to, seconds, address space.
WHALE_FILES_MAX_PAGES = env_int("WHALE_FILES_MAX_PAGES", 1000)
WHALE_FILES_MAX_DECOMPRESSED_BYTES = env_int("WHALE_FILES_MAX_DECOMPRESSED_BYTES", 512 * _MIB)
WHALE_FILES_MAX_TEXT_CHARS = env_int("WHALE_FILES_MAX_TEXT_CHARS", 4_000_000)
WHALE_FILES_EXTRACT_SECONDS = env_int("WHALE_FILES_EXTRACT_SECONDS", 120)
WHALE_FILES_EXTRACT_MEMORY_MB = env_int("WHALE_FILES_EXTRACT_MEMORY_MB", 1536)
# OCR (Tesseract): languages, and whether PDF pages without a text layer are read as images (slow).
WHALE_FILES_OCR_LANGUAGES = env_str("WHALE_FILES_OCR_LANGUAGES", "eng+chi_sim")
WHALE_FILES_OCR_PDF = env_bool("WHALE_FILES_OCR_PDF", True)
WHALE_FILES_OCR_MAX_PAGES = env_int("WHALE_FILES_OCR_MAX_PAGES", 50)
# Virus scanning through clamd (tcp://host:3310 or unix:///run/clamav/clamd.ctl); empty: no scanning.
WHALE_CLAMD_URL = env_str("WHALE_CLAMD_URL", "")
# Uploads never attached to a message are deleted after this long.
WHALE_FILES_ORPHAN_HOURS = env_int("WHALE_FILES_ORPHAN_HOURS", 24)
# Files one message may carry (400 too_many_files beyond).
WHALE_FILES_PER_MESSAGE = env_int("WHALE_FILES_PER_MESSAGE", 20)
# How much of the extracted text GET /api/v1/files/<id> shows.
WHALE_FILES_PREVIEW_CHARS = env_int("WHALE_FILES_PREVIEW_CHARS", 1000)

CELERY_BEAT_SCHEDULE = {
    "delete-orphaned-files": {"task": "whale.files.delete_orphans", "schedule": 3600.0},
    "reap-stale-turns": {"task": "whale.reap_turns", "schedule": WHALE_REAPER_INTERVAL_SECONDS},
    # Waiting turns learn their new place in the queue ("3 ahead of you") this often.
    "publish-queue-positions": {
        "task": "whale.publish_queue_positions",
        "schedule": env_float("WHALE_QUEUE_POSITION_INTERVAL_SECONDS", 2.0),
    },
}

# Search (research app): the provider, fetching limits, and the context budget of the search results.
# WHALE_SEARCH_PROVIDER: searxng (self-hosted, the default) | brave | tavily | none (Search is off).
WHALE_SEARCH_PROVIDER = env_str("WHALE_SEARCH_PROVIDER", "searxng").strip().lower()
if WHALE_SEARCH_PROVIDER not in {"searxng", "brave", "tavily", "none"}:
    raise ImproperlyConfigured("WHALE_SEARCH_PROVIDER must be searxng, brave, tavily or none.")
WHALE_SEARXNG_URL = env_str("WHALE_SEARXNG_URL", "http://127.0.0.1:8888").rstrip("/")
WHALE_BRAVE_API_KEY = env_str("WHALE_BRAVE_API_KEY", "")
WHALE_BRAVE_URL = env_str("WHALE_BRAVE_URL", "https://api.search.brave.com/res/v1/web/search")
WHALE_TAVILY_API_KEY = env_str("WHALE_TAVILY_API_KEY", "")
WHALE_TAVILY_URL = env_str("WHALE_TAVILY_URL", "https://api.tavily.com/search")
WHALE_SEARCH_TIMEOUT_SECONDS = env_float("WHALE_SEARCH_TIMEOUT_SECONDS", 5.0)
WHALE_SEARCH_RESULTS = env_int("WHALE_SEARCH_RESULTS", 8)  # results asked of the provider
WHALE_SEARCH_PAGES = env_int("WHALE_SEARCH_PAGES", 5)  # of those, pages fetched and read
WHALE_SEARCH_QUESTION_URLS = env_int("WHALE_SEARCH_QUESTION_URLS", 3)  # URLs pasted in a question that are read
WHALE_FETCH_CONNECT_TIMEOUT_SECONDS = env_float("WHALE_FETCH_CONNECT_TIMEOUT_SECONDS", 3.0)
WHALE_FETCH_READ_TIMEOUT_SECONDS = env_float("WHALE_FETCH_READ_TIMEOUT_SECONDS", 5.0)
WHALE_FETCH_TOTAL_TIMEOUT_SECONDS = env_float("WHALE_FETCH_TOTAL_TIMEOUT_SECONDS", 8.0)
WHALE_FETCH_MAX_BYTES = env_int("WHALE_FETCH_MAX_BYTES", 2 * 1024 * 1024)
WHALE_FETCH_MAX_REDIRECTS = env_int("WHALE_FETCH_MAX_REDIRECTS", 5)
# Tests and a provider on the same host only: lets fetching reach 127.0.0.0/8 and ::1 (never other private ranges).
WHALE_FETCH_ALLOW_LOOPBACK = env_bool("WHALE_FETCH_ALLOW_LOOPBACK", False)
# An honest User-Agent: operators add their contact URL (WhaleBot/1.0 (+https://chat.example.com/bot)).
WHALE_FETCH_USER_AGENT = env_str(
    "WHALE_FETCH_USER_AGENT", "WhaleBot/1.0 (self-hosted assistant; reads pages a user asked about)"
)
# The model's tokenizer measures the search results' budget: a directory with tokenizer.json (or the file).
# Empty: WHALE_MODEL_PATH, else the demo model's; "chars" forces the rough estimate (about 4 characters a token).
WHALE_SEARCH_TOKENIZER = env_str("WHALE_SEARCH_TOKENIZER", "")
WHALE_SEARCH_BUDGET_TOKENS = env_int("WHALE_SEARCH_BUDGET_TOKENS", 3000)
# The backend-side Celery queue the research step runs on (never a GPU worker: they have no internet egress).
WHALE_RESEARCH_QUEUE = env_str("WHALE_RESEARCH_QUEUE", "research")
# Also the prepare step of a turn with Search, a URL or files (turns/preparing.py). The files route above is kept.
CELERY_TASK_ROUTES = {
    **CELERY_TASK_ROUTES,
    "whale.research": {"queue": WHALE_RESEARCH_QUEUE},
    "whale.prepare_turn": {"queue": WHALE_RESEARCH_QUEUE},
}
# The model's context the prepare step fits a question's files and search results into, when no worker has
# reported its max_model_len yet (the smallest reported one wins); the answer's max_tokens is kept free.
WHALE_MODEL_CONTEXT_TOKENS = env_int("WHALE_MODEL_CONTEXT_TOKENS", 8192)

# Readiness probe budget
WHALE_READY_TIMEOUT_SECONDS = env_float("WHALE_READY_TIMEOUT_SECONDS", 2.0)

# Operations: /metrics answers Prometheus with this bearer token (or a staff session); empty: staff only.
WHALE_METRICS_TOKEN = env_str("WHALE_METRICS_TOKEN", "")
# The admin's home page (dashboard app): charts over these ranges, in days.
WHALE_DASHBOARD_RANGES = (1, 7, 30, 90)

UNFOLD = {
    "SITE_TITLE": "Whale admin",
    "SITE_HEADER": "Whale",
    "SITE_SYMBOL": "water",
    "DASHBOARD_CALLBACK": "dashboard.views.dashboard_callback",
    "SHOW_HISTORY": True,
}

# LOG_FORMAT=json (the default): one JSON object per line with the request id and turn id; text: for reading.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "inference.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": env_str("LOG_FORMAT", "json")}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
