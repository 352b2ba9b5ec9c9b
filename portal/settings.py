"""Keyward settings, read from the environment (every variable is listed in the README)."""

import json
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
            # Django's backend with a health check that costs no round trip (portal/postgresql).
            "ENGINE": "portal.postgresql",
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
            # do); the one statement that asks is the bearer lookup (tokens.bearer.authentication).
            "OPTIONS": {
                "connect_timeout": 3,
                "prepare_threshold": 2**31 - 1
                if env_bool("DATABASE_PREPARED_STATEMENTS", True)
                else None,
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
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "insecure-development-key-do-not-use-in-production" if DEBUG else ""
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
SERVING_PROBLEMS = [
    problem
    for problem, missing in (
        (
            "SECRET_KEY is required when DEBUG is off (set DEBUG=true for local development).",
            not SECRET_KEY,
        ),
        (
            "ALLOWED_HOSTS is required when DEBUG is off (comma-separated host names).",
            not ALLOWED_HOSTS,
        ),
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
    # Background work through Django's Tasks API (the django-tasks backport until Django 6);
    # its database backend keeps the queue in our database, worked by `manage.py db_worker`.
    "django_tasks",
    "django_tasks_db",
    "corsheaders",
    "accounts",
    "tokens",
    "chats",
]

MIDDLEWARE = [
    # First: `request.headers` reads each header from the environ when asked (portal.headers).
    "portal.headers.HeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.HostileInputMiddleware",
    # Counts each credential's request once its status is known, and names the scopes (README › Usage).
    "tokens.usage.counter.UsageMiddleware",
    "tokens.limits.middleware.RateLimitHeadersMiddleware",  # RateLimit headers (README › Limits)
    # Before CommonMiddleware, so a preflight is answered before any redirect (django-cors-headers).
    "portal.middleware.CorsMiddleware",
    "portal.middleware.DatabaseUnavailableMiddleware",
    "portal.middleware.ThrottledMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After MessageMiddleware, so the portal's receipt joins the messages it stores.
    "tokens.cache.propagation.PropagationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.HtmxMessagesMiddleware",
    "portal.middleware.NotFoundMiddleware",
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

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL") or "sqlite:///db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL must start with redis:// or rediss://, not {REDIS_URL!r}."
        )
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
    # The handler filters too: libraries that set their own logger's level (django-tasks'
    # worker sets INFO on its loggers) would otherwise print below LOG_LEVEL.
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "level": os.environ.get("LOG_LEVEL", "INFO"),
        }
    },
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
# Lifetimes of OAuth tokens issued at /o/token/ (the token response's `expires_in` says the first).
# An access token lives an hour; its refresh token rotates on every use and dies after this
# long without one (counted from its access token's expiry, DOT's REFRESH_TOKEN_EXPIRE_SECONDS).
OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS = env_int(
    "OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS", 3600, minimum=60
)
OAUTH_REFRESH_TOKEN_IDLE_SECONDS = env_int(
    "OAUTH_REFRESH_TOKEN_IDLE_SECONDS", 30 * 24 * 3600, minimum=3600
)


def env_origin(name):
    """An `http(s)://host[:port]` URL from the environment, without a trailing slash; "" if unset."""
    raw = os.environ.get(name, "").strip().rstrip("/")
    if raw and not raw.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{name} must start with http:// or https://, not {raw!r}.")
    return raw


# Where people and programs reach Keyward. Never taken from a request: its Host and
# X-Forwarded-Proto are the caller's to choose, and the discovery document that names the
# issuer is cached by anyone. PORTAL_BASE_URL: the links in emails (a worker has no request).
# OAUTH_ISSUER (RFC 8414, RFC 9207), else PORTAL_BASE_URL's origin: the issuer, and the origin
# of every absolute URL in the discovery and OpenAPI documents.
PORTAL_BASE_URL = env_origin("PORTAL_BASE_URL")
OAUTH_ISSUER = env_origin("OAUTH_ISSUER")
if not (PORTAL_BASE_URL or OAUTH_ISSUER or DEBUG):
    SERVING_PROBLEMS.append(
        "PORTAL_BASE_URL (or OAUTH_ISSUER) is required when DEBUG is off: the origin people "
        "reach Keyward at (https://keyward.example), which names the OAuth issuer."
    )
PORTAL_BASE_URL = PORTAL_BASE_URL or OAUTH_ISSUER or "http://127.0.0.1:8000"
OAUTH_ISSUER = OAUTH_ISSUER or "{0.scheme}://{0.netloc}".format(urlparse(PORTAL_BASE_URL))
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": OAUTH_ACCESS_TOKEN_LIFETIME_SECONDS,
    "REFRESH_TOKEN_EXPIRE_SECONDS": OAUTH_REFRESH_TOKEN_IDLE_SECONDS,
    # RFC 9700 switches (`check --deploy` warns on each one left off): no implicit grant,
    # no password grant, S256 only, no token in a query string, `iss` in the authorization
    # response (RFC 9207), digests only at rest.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    # Plain http redirect URIs only for a native app's loopback (RFC 8252 §7.3): the global
    # list is https only; Application.get_allowed_schemes adds http for a client whose
    # registered loopback URI needs it (tokens.oauth.services refuses any other http URI).
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "OIDC_ISS_ENDPOINT": OAUTH_ISSUER,
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ],
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
        "tokens.bearer.authentication.AccessTokenAuthentication",
        "tokens.bearer.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tokens.permissions.HasRequiredScopes"],
    "DEFAULT_RENDERER_CLASSES": [
        "djangorestframework_camel_case.render.CamelCaseJSONRenderer",
        "djangorestframework_camel_case.render.CamelCaseBrowsableAPIRenderer",
    ],
    # The camelCase JSON parser, which also refuses deep, non-object and control-character bodies.
    # JSON only, so the OpenAPI document lists one request content type (a client generator
    # given JSON, form and multipart sends multipart with every field twice). OAuth under /o/
    # keeps its RFC 6749 forms; it is not DRF.
    "DEFAULT_PARSER_CLASSES": ["portal.parsers.JSONParser"],
    "DEFAULT_METADATA_CLASS": "portal.metadata.OperationMetadata",
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
    # The configured origin, never the request's (see OAUTH_ISSUER).
    "SERVERS": [{"url": "{0.scheme}://{0.netloc}".format(urlparse(OAUTH_ISSUER))}],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Deep links put an <a> inside each operation's toggle button: a link in a button is two
    # controls in one for a keyboard or a screen reader (axe nested-interactive, serious).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "CAMELIZE_NAMES": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "tokens.schema.document_errors",
        "tokens.schema.document_scope_headers",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ReachEnum": "tokens.models.Reach",
        "ApiKeyReachEnum": ["app", "account"],
    },
    "AUTHENTICATION_WHITELIST": [
        "tokens.bearer.authentication.AccessTokenAuthentication",
        "tokens.api_keys.authentication.ApiKeyAuthentication",
        "tokens.leaks.GitHubSignatureAuthentication",
    ],
}

# CORS (django-cors-headers), decided per path by portal.middleware.CorsMiddleware: /o/token/ and
# /o/revoke_token/ answer the origins each client registered (Application.allowed_origins);
# the API answers only CORS_API_ALLOWED_ORIGINS (none by default: closed to browsers);
# /.well-known/ documents (discovery, JWKS) are public: `Access-Control-Allow-Origin: *`.
CORS_URLS_REGEX = r"^/(api/|o/token/|o/revoke_token/)"
CORS_ALLOWED_ORIGINS = []
CORS_API_ALLOWED_ORIGINS = env_list("CORS_API_ALLOWED_ORIGINS", [])
for _origin in CORS_API_ALLOWED_ORIGINS:
    _parts = urlparse(_origin)
    if _parts.scheme not in ("https", "http") or not _parts.netloc or _parts.path or _origin == "*":
        raise ImproperlyConfigured(
            f"CORS_API_ALLOWED_ORIGINS takes origins like https://app.example.com, not {_origin!r}."
        )
CORS_PREFLIGHT_MAX_AGE = 3600
# A browser client may read when its revocation took effect everywhere (tokens.cache.propagation).
CORS_EXPOSE_HEADERS = ["Keyward-Propagated"]

# Keyward's own knobs.
# The bearer lookup runs as a prepared statement on PostgreSQL (planned once per connection).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "keyward-demo")
TOKEN_LAST_USED_INTERVAL_SECONDS = env_int("TOKEN_LAST_USED_INTERVAL_SECONDS", 60, minimum=1)
# Verified credentials answered from memory (tokens.cache.store): on unless turned off,
# used only while this process follows the database's invalidation log (tokens.cache.invalidation;
# PostgreSQL only, so SQLite has no cache). The TTL is the last backstop.
CREDENTIAL_CACHE = env_bool("CREDENTIAL_CACHE", True)
CREDENTIAL_CACHE_TTL_SECONDS = env_int("CREDENTIAL_CACHE_TTL_SECONDS", 30, minimum=1)
if CREDENTIAL_CACHE_TTL_SECONDS > 300:
    raise ImproperlyConfigured(
        "CREDENTIAL_CACHE_TTL_SECONDS is at most 300: it bounds a lost revocation."
    )
CREDENTIAL_CACHE_SIZE = env_int("CREDENTIAL_CACHE_SIZE", 10_000, minimum=1)
# Each process reads the log when NOTIFY wakes it and at least this often on its own (a lost
# wake-up costs at most this long); with no successful read for STALE ms it bypasses its cache.
CREDENTIAL_INVALIDATION_POLL_SECONDS = (
    env_int("CREDENTIAL_INVALIDATION_POLL_MS", 1000, minimum=50) / 1000
)
CREDENTIAL_INVALIDATION_STALE_SECONDS = (
    env_int("CREDENTIAL_INVALIDATION_STALE_MS", 2000, minimum=100) / 1000
)
if CREDENTIAL_INVALIDATION_STALE_SECONDS <= CREDENTIAL_INVALIDATION_POLL_SECONDS:
    raise ImproperlyConfigured(
        "CREDENTIAL_INVALIDATION_STALE_MS must be longer than CREDENTIAL_INVALIDATION_POLL_MS."
    )
# false where the listener's connection cannot LISTEN (a transaction-mode pooler): polling only.
CREDENTIAL_INVALIDATION_LISTEN = env_bool("CREDENTIAL_INVALIDATION_LISTEN", True)
# A credential write waits at most this long for every live process to confirm it applied
# the change (the Keyward-Propagated header); 0 answers at once, reporting what is known. By
# default one poll interval and half a second: a process that only polls (its wake-up lost, or
# LISTEN off) confirms within one interval, so it is waited for rather than raced.
CREDENTIAL_PROPAGATION_WAIT_SECONDS = (
    env_int(
        "CREDENTIAL_PROPAGATION_WAIT_MS",
        round(CREDENTIAL_INVALIDATION_POLL_SECONDS * 1000) + 500,
        minimum=0,
    )
    / 1000
)
# How old the log and the receipts of processes that stopped may get before the scheduler prunes.
CREDENTIAL_INVALIDATION_LOG_RETENTION_SECONDS = env_int(
    "CREDENTIAL_INVALIDATION_LOG_RETENTION_SECONDS", 3600, minimum=60
)
# Usage counting (tokens.usage): in memory per process, flushed in one batched upsert at most
# every USAGE_FLUSH_SECONDS (0: only at exit and when asked, as the test suite does); minute
# buckets kept USAGE_MINUTES_RETENTION_HOURS, hours and days as long as their settings say.
USAGE_COUNTING = env_bool("USAGE_COUNTING", True)
USAGE_FLUSH_SECONDS = env_int("USAGE_FLUSH_SECONDS", 10)
USAGE_MINUTES_RETENTION_HOURS = env_int("USAGE_MINUTES_RETENTION_HOURS", 48, minimum=25)
USAGE_HOURS_RETENTION_DAYS = env_int("USAGE_HOURS_RETENTION_DAYS", 90, minimum=8)
USAGE_DAYS_RETENTION_DAYS = env_int("USAGE_DAYS_RETENTION_DAYS", 400, minimum=91)
# Limits (tokens.limits): how often each process adds its rate-limit counts to every process's
# totals (in Redis with REDIS_URL, else PostgreSQL) and reads them back (0: only when asked).
LIMITS_SYNC_MS = env_int("LIMITS_SYNC_MS", 200)
# How long a rotation's previous secret sends nothing before `credential.rotation_idle`.
ROTATION_IDLE_SECONDS = env_int("ROTATION_IDLE_SECONDS", 3600, minimum=60)
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

# --- Login tokens: lifetimes, issuer, and login throttling -----------------
# Access tokens are JWTs signed with keys kept in the database (tokens.login.signing_keys); the
# refresh token rotates on every use and dies after this long unused.
LOGIN_ACCESS_TOKEN_LIFETIME_SECONDS = env_int(
    "LOGIN_ACCESS_TOKEN_LIFETIME_SECONDS", 24 * 3600, minimum=60
)
LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS = env_int(
    "LOGIN_REFRESH_TOKEN_LIFETIME_SECONDS", 30 * 24 * 3600, minimum=3600
)
LOGIN_TOKEN_ISSUER = os.environ.get("LOGIN_TOKEN_ISSUER", "keyward")
# Failed logins counted in the cache (database or Redis, never process memory) over a
# fixed window; NIST SP 800-63B §5.2.2 caps consecutive failures at 100, we stay well under.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 10, minimum=1)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 50, minimum=1)
# An OAuth client's attempts at /o/ (counted like a person's, reserved before the check):
# a busy client refreshes many tokens at once, and every attempt in flight holds a unit until
# it succeeds, so its limit leaves room for concurrency; its 128-character secret needs none.
OAUTH_CLIENT_FAILURES_PER_CLIENT = env_int("OAUTH_CLIENT_FAILURES_PER_CLIENT", 100, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=60)
if LOGIN_FAILURES_PER_ACCOUNT > 100:
    raise ImproperlyConfigured(
        "LOGIN_FAILURES_PER_ACCOUNT must stay at most 100 (NIST SP 800-63B)."
    )
# Django's database cache culls a third of its rows past MAX_ENTRIES (300 by default):
# a spray of failed logins from many addresses would push the counters out.
if CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)

# --- Background work -----------------------------------------------------------------
# Tasks go to the database queue (django-tasks-db) and run in `manage.py db_worker` processes,
# as many as wanted on as many machines as share the database. A test that wants a task run
# in-process overrides this with the immediate backend.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# Periodic jobs of `manage.py run_schedule` (cron/systemd timer, or `--loop` beside the
# workers): name -> the job (a function taking `now=`) and how often it is due, in seconds.
# Every job is idempotent by construction, so two schedulers running at once do no harm.
SCHEDULE = {
    "expiry-reminders": {"job": "tokens.notifications.send_due_reminders", "every": 300},
    # Failed webhook deliveries whose retry is due (backends that cannot defer, lost tasks).
    "webhook-retries": {"job": "chats.deliveries.retry_due", "every": 60},
    "prune-finished-tasks": {"job": "lib.tasks.prune_finished_tasks", "every": 86400},
    "prune-invalidation-log": {"job": "tokens.cache.propagation.prune_log", "every": 300},
    # Tasks whose worker died under them: failed, and enqueued again (lib.tasks).
    "stuck-tasks": {"job": "lib.tasks.reclaim_stuck_tasks", "every": 300},
    # Usage: tomorrow's minute partitions, roll-ups to hours and days, retention.
    "usage-maintenance": {"job": "tokens.usage.storage.maintain", "every": 300},
    # credential.rotation_idle: a rotation's previous secret idle for ROTATION_IDLE_SECONDS.
    "rotation-idle": {"job": "tokens.usage.rotation.announce_idle", "every": 300},
}

# Email through Django's email API, under Django's own setting names: SMTP whenever EMAIL_HOST
# is set; otherwise, while debugging (`make run`), each message is saved to EMAIL_FILE_PATH
# with a one-line note on the console, and without debugging printed whole to the console.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587 if env_bool("EMAIL_USE_TLS", False) else 25, minimum=1)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif DEBUG:
    EMAIL_BACKEND = "portal.outbox.OutboxBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "outbox"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Keyward <keyward@localhost>")


def _public_keys(raw):
    try:
        keys = json.loads(raw or "{}")
    except ValueError:
        raise ImproperlyConfigured("SECRET_SCANNING_PUBLIC_KEYS must be a JSON object.") from None
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and "BEGIN PUBLIC KEY" in v
        for k, v in keys.items()
    ):
        raise ImproperlyConfigured(
            "SECRET_SCANNING_PUBLIC_KEYS must map each key identifier to a PEM public key."
        )
    return keys


# GitHub secret scanning: key identifier -> PEM public key that signs leak reports (fetched
# once by a person from https://api.github.com/meta/public_keys/secret_scanning, never at run time).
SECRET_SCANNING_PUBLIC_KEYS = _public_keys(os.environ.get("SECRET_SCANNING_PUBLIC_KEYS"))

# --- Webhooks -------------------------------------------------------------------------
# Webhook URLs resolving to loopback, private or link-local addresses are refused, at
# create/update and again at each delivery, unless this is on (tests, local development).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
# Webhook URLs use https; plain http (the payload readable on the wire) only when this is on
# (tests, local development). Any other scheme is refused.
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
