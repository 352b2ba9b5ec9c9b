"""Keyward settings, read from the environment (every variable is listed in the README)."""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name, default, *, minimum=0):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url):
    """Turn `postgres://user:pass@host:port/name` or `sqlite:///path` into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        if not parsed.path.strip("/"):
            raise ImproperlyConfigured("DATABASE_URL names no database (postgres://host/NAME).")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            # Persistent connections, checked before reuse so a restarted
            # PostgreSQL is picked up again without restarting Keyward.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # psycopg prepares nothing unless asked (Django's cursors bind client-side and never
            # do); the one statement that asks is the bearer lookup (tokens.authentication).
            "OPTIONS": {
                "connect_timeout": 3,
                "prepare_threshold": 2**31 - 1 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None,
                **options,
            },
        }
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if path in ("", "/"):
            raise ImproperlyConfigured("DATABASE_URL=sqlite:///PATH needs a file path.")
        # sqlite:////abs/path is absolute; sqlite:///name is relative to the checkout.
        path = path[1:] if path.startswith("//") else str(BASE_DIR / path.lstrip("/"))
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with postgres:// or sqlite:///, not {parsed.scheme or url!r}."
    )


DEBUG = env_bool("DEBUG", False)

# Without DEBUG there is no default key. Management commands that sign nothing (migrate,
# makemigrations, check) still run; serving refuses to start (portal/wsgi.py, asgi.py).
SECRET_KEY = os.environ.get("SECRET_KEY") or ("insecure-development-key-do-not-use-in-production" if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
SERVING_PROBLEMS = [
    problem
    for problem, missing in (
        ("SECRET_KEY is required when DEBUG is off (set DEBUG=true for local development).", not SECRET_KEY),
        ("ALLOWED_HOSTS is required when DEBUG is off (comma-separated host names).", not ALLOWED_HOSTS),
    )
    if missing
]

# TLS usually ends at a proxy in front of Keyward; one switch turns on everything
# that depends on the browser talking HTTPS.
HTTPS = env_bool("HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# How many proxies in front of Keyward append to X-Forwarded-For; 0 trusts REMOTE_ADDR only.
# Client addresses feed last-used IPs, the audit log and the per-address login throttle.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "accounts",
    "tokens",
    "chats",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "accounts.context_processors.membership",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(os.environ.get("DATABASE_URL") or "sqlite:///db.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL must start with redis:// or rediss://, not {REDIS_URL!r}.")
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Never process memory: throttle counters must hold across processes and restarts.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "keyward_cache",
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves static files in every mode; before `collectstatic` has filled
# STATIC_ROOT (development, tests) it reads them straight from the apps.
WHITENOISE_USE_FINDERS = not STATIC_ROOT.is_dir()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request bodies may carry passwords and secrets: never log them.
        "django.request": {"level": "ERROR"},
        "oauthlib": {"level": "WARNING"},
        "oauth2_provider": {"level": "WARNING"},
    },
}

# django-oauth-toolkit: models swapped into `tokens` (all six settings must exist
# before the first makemigrations), hashed token storage per RFC 9700.
OAUTH2_PROVIDER_APPLICATION_MODEL = "tokens.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "tokens.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "tokens.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"
OAUTH2_PROVIDER = {
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,
    "SCOPES_BACKEND_CLASS": "tokens.scopes.CatalogScopes",
    # Third-party clients at /o/: tokens bound to the client's organization and the
    # user's membership, `kw_oat_`/`kw_rt_` secrets, and client secrets hashed without PBKDF2's cost.
    "OAUTH2_VALIDATOR_CLASS": "tokens.oauth.validator.KeywardOAuth2Validator",
    "ACCESS_TOKEN_GENERATOR": "tokens.oauth.validator.access_token_generator",
    "REFRESH_TOKEN_GENERATOR": "tokens.oauth.validator.refresh_token_generator",
    "CLIENT_SECRET_HASHER": "kw_client_sha256",
}
# Django's default list, plus the client-secret hasher LAST: it is never chosen for a
# user's password (those stay PBKDF2); it only verifies hashes that name it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "tokens.oauth.hashers.ClientSecretHasher",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tokens.api_keys.authentication.ApiKeyAuthentication",
        "tokens.authentication.AccessTokenAuthentication",
        "tokens.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tokens.permissions.HasRequiredScopes"],
    "DEFAULT_RENDERER_CLASSES": [
        "djangorestframework_camel_case.render.CamelCaseJSONRenderer",
        "djangorestframework_camel_case.render.CamelCaseBrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "djangorestframework_camel_case.parser.CamelCaseJSONParser",
        "djangorestframework_camel_case.parser.CamelCaseFormParser",
        "djangorestframework_camel_case.parser.CamelCaseMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "portal.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "tokens.schema.ScopedAutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Keyward API",
    "DESCRIPTION": "The credential service and platform API of Keyward. "
    "Every operation names the scopes it needs; the scopes page at /api/docs/scopes/ "
    "lists every scope with the operations that require it.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "CAMELIZE_NAMES": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ReachEnum": "tokens.models.Reach",
        "ApiKeyReachEnum": ["app", "account"],
    },
    "AUTHENTICATION_WHITELIST": [
        "tokens.authentication.AccessTokenAuthentication",
        "tokens.api_keys.authentication.ApiKeyAuthentication",
    ],
}

# Keyward's own knobs.
# The bearer lookup runs as a prepared statement on PostgreSQL (planned once per connection).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "keyward-demo")
TOKEN_LAST_USED_INTERVAL_SECONDS = env_int("TOKEN_LAST_USED_INTERVAL_SECONDS", 60, minimum=1)
# Verified credentials answered from memory (tokens.credential_cache): on unless turned off,
# used only while this process hears invalidations (PostgreSQL NOTIFY, or Redis pub/sub when
# REDIS_URL is set; SQLite has neither, so no cache). The TTL bounds how long a lost
# notification could keep a changed credential alive.
CREDENTIAL_CACHE = env_bool("CREDENTIAL_CACHE", True)
CREDENTIAL_CACHE_TTL_SECONDS = env_int("CREDENTIAL_CACHE_TTL_SECONDS", 30, minimum=1)
if CREDENTIAL_CACHE_TTL_SECONDS > 300:
    raise ImproperlyConfigured("CREDENTIAL_CACHE_TTL_SECONDS is at most 300: it bounds a lost revocation.")
CREDENTIAL_CACHE_SIZE = env_int("CREDENTIAL_CACHE_SIZE", 10_000, minimum=1)
# The NOTIFY channel / Redis pub/sub channel carrying invalidations.
CREDENTIAL_INVALIDATION_CHANNEL = os.environ.get("CREDENTIAL_INVALIDATION_CHANNEL", "keyward_credentials")
# GET /metrics (Prometheus) answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is a 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# Fernet keys (newest first) sealing the secrets Keyward must read back; derived from
# SECRET_KEY when unset. Add a new key in front to rotate; old keys keep opening old rows.
SECRET_ENCRYPTION_KEYS = env_list("SECRET_ENCRYPTION_KEYS", [])

# API keys: live keys per organization, and the longest a caller-signed JWT may live.
API_KEYS_PER_ORGANIZATION = env_int("API_KEYS_PER_ORGANIZATION", 10, minimum=1)
API_KEY_JWT_MAX_LIFETIME_SECONDS = env_int("API_KEY_JWT_MAX_LIFETIME_SECONDS", 86400, minimum=60)
# Django 6 default, adopted now: a scheme-less URL in a form means https.
FORMS_URLFIELD_ASSUME_HTTPS = True

# --- Login tokens (issue 5): lifetimes, issuer, and login throttling -----------------
# Access tokens are JWTs signed with keys kept in the database (tokens.login.signing_keys); the
# refresh token rotates on every use and dies after this long unused.
LOGIN_ACCESS_TOKEN_LIFETIME_SECONDS = env_int("LOGIN_ACCESS_TOKEN_LIFETIME_SECONDS", 24 * 3600, minimum=60)
LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS = env_int(
    "LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS", 30 * 24 * 3600, minimum=3600
)
LOGIN_TOKEN_ISSUER = os.environ.get("LOGIN_TOKEN_ISSUER", "keyward")
# Failed logins counted in the cache (database or Redis, never process memory) over a
# fixed window; NIST SP 800-63B §5.2.2 caps consecutive failures at 100, we stay well under.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 10, minimum=1)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 50, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=60)
if LOGIN_FAILURES_PER_ACCOUNT > 100:
    raise ImproperlyConfigured("LOGIN_FAILURES_PER_ACCOUNT must stay at most 100 (NIST SP 800-63B).")
# Django's database cache culls a third of its rows past MAX_ENTRIES (300 by default):
# a spray of failed logins from many addresses would push the counters out.
if CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)
