"""Django settings: every value comes from ``tgesweeper.config`` (environment over YAML)."""
import socket
from datetime import timedelta
from pathlib import Path

import dj_database_url

from tgesweeper import error_reporting, logs
from tgesweeper.config import load_config

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = load_config()
VAR_DIR = CONFIG.var_dir
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)

DEBUG = CONFIG["DEBUG"]
SECRET_KEY = CONFIG["DJANGO_SECRET_KEY"] or "dev-only-insecure-key-set-DJANGO_SECRET_KEY-in-production"
ALLOWED_HOSTS = list(CONFIG["ALLOWED_HOSTS"])
if CONFIG["CONSUL_HTTP_ADDR"]:  # Consul's health check asks for the address the service registered with
    ALLOWED_HOSTS.append(CONFIG["CONSUL_SERVICE_ADDRESS"] or socket.gethostname())

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_structlog",
    "api",
    "workers",
    "tgesweeper.bench",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # request counts and latencies by view (/metrics)
    "django.middleware.security.SecurityMiddleware",
    "api.dashboard.DashboardWhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_structlog.middlewares.RequestMiddleware",  # a request id on every line of a request, one line per request
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "tgesweeper.urls"
WSGI_APPLICATION = "tgesweeper.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

if CONFIG["DATABASE_URL"]:
    DATABASES = {"default": dj_database_url.parse(CONFIG["DATABASE_URL"], conn_max_age=CONFIG["DATABASE_CONN_MAX_AGE"])}
else:
    # Embedded default: SQLite in WAL mode so the web server, worker and beat can share it.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "tgesweeper.sqlite3"),
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": VAR_DIR / "test.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if CONFIG["REDIS_URL"]:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CONFIG["REDIS_URL"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": VAR_DIR / "cache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve the admin's and Swagger's files without collectstatic in development
DASHBOARD_DIST = BASE_DIR / "dashboard" / "dist"  # built by `make dashboard`, served at /app/ (api/dashboard.py)

AUTHENTICATION_BACKENDS = ["api.lockout.LockoutModelBackend"]

# bcrypt first: new and re-saved passwords are bcrypt(sha256(password)), 12 rounds (BCryptSHA256PasswordHasher's default).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.ApiKeyAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ReadWithIdentityWriteWithStaff"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.IdentityRateThrottle"] if CONFIG["API_THROTTLE_RATE"] else [],
    "DEFAULT_THROTTLE_RATES": {"identity": CONFIG["API_THROTTLE_RATE"] or None},
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CappedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "NUM_PROXIES": 0,
}

SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": CONFIG.jwt_signing_key(SECRET_KEY),  # JWT_SIGNING_KEY (production: required), else an HMAC of SECRET_KEY
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=CONFIG["JWT_ACCESS_TOKEN_LIFETIME"]),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=CONFIG["JWT_REFRESH_TOKEN_LIFETIME"]),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "TGE News Sweeper API",
    "DESCRIPTION": "Token Generation Events found in crypto news and social sources: deduplicated, confidence-scored, "
                   "with the mentions behind them. Authenticate with `Authorization: Api-Key tge_...` (or `X-API-Key`) "
                   "or a JWT from /api/v1/auth/token.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # Swagger UI and ReDoc served from our own static files, no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.openapi.add_error_responses"],
    "ENUM_NAME_OVERRIDES": {
        "EventStatusEnum": "api.models.TGEEvent.Status",
        "EventReviewEnum": "api.models.TGEEvent.Review",
        "SourceKindEnum": "api.models.Source.Kind",
        "CircuitStateEnum": "api.models.Source.Circuit",
    },
}

CORS_ALLOWED_ORIGINS = list(CONFIG["CORS_ALLOWED_ORIGINS"])
CORS_URLS_REGEX = r"^/(api|openapi\.json).*$"

LOGGING = logs.dict_config(CONFIG)
logs.configure_structlog()
DJANGO_STRUCTLOG_CELERY_ENABLED = False  # workers bind their own context (workers/observability.py)
error_reporting.init_sentry(CONFIG)

if CONFIG.production:
    # The proxy in front terminates TLS and says so; the app itself may be reached over plain HTTP (compose, probes).
    SECURE_SSL_REDIRECT = CONFIG["SECURE_SSL_REDIRECT"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
