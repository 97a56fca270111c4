"""Settings, all from the environment.

``SAMVERKAN_ENV`` chooses the profile: ``development`` (default) or ``production``. Production refuses to start
without ``SECRET_KEY`` and with ``DEBUG`` on, so a forgotten variable can never ship a debug server.
``DATABASE_URL`` switches from the embedded SQLite file under ``var/`` to PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SAMVERKAN_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (got {value!r})")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return [v.strip() for v in value.split(",") if v.strip()] if value else default


ENVIRONMENT = os.environ.get("SAMVERKAN_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(f"SAMVERKAN_ENV must be 'development' or 'production' (got {ENVIRONMENT!r})")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
# The key comes from the environment, or from a file that only the service can read (SECRET_KEY_FILE, e.g. a
# systemd credential), so it never has to sit in a unit file or the process list.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and os.environ.get("SECRET_KEY_FILE"):
    try:
        SECRET_KEY = Path(os.environ["SECRET_KEY_FILE"]).read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"SECRET_KEY_FILE cannot be read: {exc}") from exc
if PRODUCTION:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set in production (SAMVERKAN_ENV=production)")
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production (SAMVERKAN_ENV=production)")
elif not SECRET_KEY:
    SECRET_KEY = "development-only-key-not-for-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "template_partials",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "samverkan.accounts",
    "samverkan.places",
    "samverkan.incidents",
    "samverkan.imports",
    "samverkan.situation",
    "samverkan.plan",
    "samverkan.public",
    "samverkan.api",
    "samverkan.core",
    "samverkan.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "samverkan.core.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "samverkan.core.middleware.SwedishByDefaultLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "samverkan.audit.middleware.AuditContextMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "samverkan.accounts.middleware.LoginPolicyMiddleware",
    "samverkan.core.middleware.RateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lock-out raised during log-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "samverkan" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "samverkan.core.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'samverkan.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # A kept connection is checked before a request uses it, so one that died (a database restart) is replaced.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default lives under var/, which a fresh clone does not have yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers and one writer work at once, which the demo server and imports need.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "situation:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "samverkan" / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "samverkan" / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = not PRODUCTION

# Sessions end after SESSION_IDLE_SECONDS without a request (default 2 hours; requests renew the session at most once
# a minute), SESSION_MAX_AGE_SECONDS after the log-in however busy (default 10 hours), and at the latest when the
# browser closes. Both are enforced in samverkan.accounts.middleware.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(60 * 60 * 2)))
SAMVERKAN_SESSION_MAX_AGE_SECONDS = int(os.environ.get("SESSION_MAX_AGE_SECONDS", str(60 * 60 * 10)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if not SECURE_SSL_REDIRECT:
        # Behind a proxy that redirects to HTTPS itself; Django's check cannot see that.
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Uploads: imports are the only files users send. Bigger bodies are refused before they are read.
SAMVERKAN_UPLOAD_MAX_BYTES = int(os.environ.get("SAMVERKAN_UPLOAD_MAX_BYTES", str(100 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("SAMVERKAN_FORM_MAX_BYTES", str(2 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_NUMBER_FILES = 5

# Caches: rate limits and log-in lock-outs hold across server processes only when they share a cache. In production
# set SAMVERKAN_CACHE_URL (e.g. redis://127.0.0.1:6379/1); the default is each process's own memory.
_CACHE_URL = os.environ.get("SAMVERKAN_CACHE_URL", "")
if _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}}
elif _CACHE_URL:
    raise ImproperlyConfigured(f"SAMVERKAN_CACHE_URL must be a redis:// address (got {_CACHE_URL!r})")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Rate limits per client address, "REQUESTS/SECONDS" (see samverkan.core.throttle): log-in attempts, reports sent,
# exports and imports; over the limit the answer is 429 with a page that says when to try again.
SAMVERKAN_LOGIN_RATE = os.environ.get("SAMVERKAN_LOGIN_RATE", "20/300")
SAMVERKAN_REPORT_RATE = os.environ.get("SAMVERKAN_REPORT_RATE", "60/600")
SAMVERKAN_EXPORT_RATE = os.environ.get("SAMVERKAN_EXPORT_RATE", "30/600")
SAMVERKAN_IMPORT_RATE = os.environ.get("SAMVERKAN_IMPORT_RATE", "30/600")
SAMVERKAN_MAP_RATE = os.environ.get("SAMVERKAN_MAP_RATE", "300/600")

# Content-Security-Policy: no inline script anywhere, inline styles only in the standalone documents (by hash).
# Base-map tiles are the one outside source, when configured.
_TILE_ORIGIN = ""
if os.environ.get("SAMVERKAN_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"):
    from urllib.parse import urlsplit

    _tile = urlsplit(os.environ.get("SAMVERKAN_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"))
    _TILE_ORIGIN = f"{_tile.scheme}://{_tile.netloc.replace('{s}', '*')}" if _tile.netloc else ""
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *([_TILE_ORIGIN] if _TILE_ORIGIN else [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
        "frame-src": [SELF],
    }
}

# Log-in: django-axes locks a user name + address out after AXES_FAILURE_LIMIT failed attempts, for AXES_COOLOFF
# hours. Two-factor (TOTP) is required for everyone who can see police_restricted data and for administrators.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    [os.environ["SAMVERKAN_CLIENT_IP_HEADER"], "REMOTE_ADDR"]
    if os.environ.get("SAMVERKAN_CLIENT_IP_HEADER")
    else ["REMOTE_ADDR"]
)
SAMVERKAN_OTP_REQUIRED = env_bool("SAMVERKAN_OTP_REQUIRED", True)
if PRODUCTION and not SAMVERKAN_OTP_REQUIRED:
    raise ImproperlyConfigured("SAMVERKAN_OTP_REQUIRED cannot be off in production (SAMVERKAN_ENV=production)")
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Samverkan")
# Each wrong code doubles the wait before a device checks the next one (1, 2, 4, … seconds); the views also count
# wrong codes as failed log-ins for axes. Admins see neither keys nor QR codes of users' devices.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Single sign-on through a municipal identity provider (OpenID Connect), off by default. It never creates users: it
# logs in the one active user with the provider's e-mail address (samverkan.accounts.oidc). Users who need a second
# factor still enter a code from their own app afterwards; the provider's MFA does not replace it, because a
# django-otp session can only be verified by one of our devices.
SAMVERKAN_OIDC_ENABLED = env_bool("SAMVERKAN_OIDC_ENABLED", False)
# The provider's name on the log-in button ("Log in with <name>"); empty: a general wording.
SAMVERKAN_OIDC_NAME = os.environ.get("SAMVERKAN_OIDC_NAME", "")
if SAMVERKAN_OIDC_ENABLED:
    _OIDC_REQUIRED = [
        "OIDC_RP_CLIENT_ID",
        "OIDC_RP_CLIENT_SECRET",
        "OIDC_OP_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT",
    ]
    _oidc_missing = [name for name in _OIDC_REQUIRED if not os.environ.get(name)]
    if _oidc_missing:
        raise ImproperlyConfigured(f"SAMVERKAN_OIDC_ENABLED needs {', '.join(_oidc_missing)}")
    OIDC_RP_CLIENT_ID = os.environ["OIDC_RP_CLIENT_ID"]
    OIDC_RP_CLIENT_SECRET = os.environ["OIDC_RP_CLIENT_SECRET"]
    OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ["OIDC_OP_AUTHORIZATION_ENDPOINT"]
    OIDC_OP_TOKEN_ENDPOINT = os.environ["OIDC_OP_TOKEN_ENDPOINT"]
    OIDC_OP_USER_ENDPOINT = os.environ["OIDC_OP_USER_ENDPOINT"]
    OIDC_OP_JWKS_ENDPOINT = os.environ["OIDC_OP_JWKS_ENDPOINT"]
    OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
    OIDC_RP_SCOPES = "openid email"
    OIDC_CREATE_USER = False
    OIDC_USE_PKCE = True
    OIDC_TIMEOUT = 15
    LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("samverkan.accounts.oidc.MunicipalOIDCBackend")

# Base-map tiles: an empty value draws no tiles; pages then show our own area outlines only, which keeps the
# product usable offline.
SAMVERKAN_TILE_URL = os.environ.get("SAMVERKAN_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
SAMVERKAN_TILE_ATTRIBUTION = os.environ.get(
    "SAMVERKAN_TILE_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
)
# Reports per page in lists and the API.
SAMVERKAN_PAGE_SIZE = int(os.environ.get("SAMVERKAN_PAGE_SIZE", "50"))

# The scale on which areas are rated in the situational picture: (code, label) from best to worst.
SAMVERKAN_RATING_SCALE = [("green", _("Green")), ("yellow", _("Yellow")), ("red", _("Red"))]
# How often the yearly situational picture that Lag (2023:196) requires is due again, in years.
SAMVERKAN_YEARLY_INTERVAL_YEARS = int(os.environ.get("SAMVERKAN_YEARLY_INTERVAL_YEARS", "2"))

# Public figures: counts below this are shown as "fewer than N"; months are published this many whole months after
# they end.
SAMVERKAN_PUBLIC_MIN_COUNT = int(os.environ.get("SAMVERKAN_PUBLIC_MIN_COUNT", "5"))
SAMVERKAN_PUBLIC_DELAY_MONTHS = int(os.environ.get("SAMVERKAN_PUBLIC_DELAY_MONTHS", "1"))

# Open311 GeoReport v2: API keys required for POST (empty: none), the municipalities taking requests (SCB codes;
# empty: every municipality with an outline and a municipal organisation), rate limits per client address.
SAMVERKAN_OPEN311_API_KEYS = env_list("SAMVERKAN_OPEN311_API_KEYS", [])
SAMVERKAN_OPEN311_JURISDICTIONS = env_list("SAMVERKAN_OPEN311_JURISDICTIONS", [])
SAMVERKAN_OPEN311_RATE = os.environ.get("SAMVERKAN_OPEN311_RATE", "10/600")
SAMVERKAN_OPEN311_READ_RATE = os.environ.get("SAMVERKAN_OPEN311_READ_RATE", "120/60")
SAMVERKAN_OPEN311_CONTACT = os.environ.get("SAMVERKAN_OPEN311_CONTACT", "")
# Behind a reverse proxy, the request header that carries the client's address (e.g. HTTP_X_FORWARDED_FOR).
SAMVERKAN_CLIENT_IP_HEADER = os.environ.get("SAMVERKAN_CLIENT_IP_HEADER", "")
SAMVERKAN_CONTACT = os.environ.get("SAMVERKAN_CONTACT", "")

# Gallring (retention): raw reports are anonymised this many months after they occurred, unless their category says
# otherwise; raw import data (uploaded files' rows, Polisen's texts, citizen requests' contact details) is deleted
# after SAMVERKAN_IMPORT_RAW_RETENTION_DAYS. Run `samverkan retention` (a dry run unless --apply) from a timer.
SAMVERKAN_RETENTION_MONTHS = int(os.environ.get("SAMVERKAN_RETENTION_MONTHS", "36"))
SAMVERKAN_IMPORT_RAW_RETENTION_DAYS = int(os.environ.get("SAMVERKAN_IMPORT_RAW_RETENTION_DAYS", "90"))
# The grid, in metres, to which gallring coarsens a report's place.
SAMVERKAN_RETENTION_GRID_METRES = int(os.environ.get("SAMVERKAN_RETENTION_GRID_METRES", "500"))

# Logs: one JSON object per line (LOG_FORMAT=json, the production default) or plain text. Request lines carry the
# method, the URL's route pattern (never its query string or ids), status, duration and the user's id — no names,
# addresses or report texts.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "samverkan.core.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own request warnings repeat the full path with its query string; our request log replaces them.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # Failed log-ins are in axes' own table; its info lines would repeat every successful log-in.
        "axes": {"level": "WARNING"},
    },
}
