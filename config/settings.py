"""Settings, all from the environment.

``SAMVERKAN_ENV`` chooses the profile: ``development`` (default) or ``production``. Production refuses to start
without ``SECRET_KEY`` and with ``DEBUG`` on, so a forgotten variable can never ship a debug server.
``DATABASE_URL`` switches from the embedded SQLite file under ``var/`` to PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
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
SECRET_KEY = os.environ.get("SECRET_KEY", "")
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
    "samverkan.accounts",
    "samverkan.places",
    "samverkan.incidents",
    "samverkan.imports",
    "samverkan.situation",
    "samverkan.plan",
    "samverkan.public",
    "samverkan.api",
    "samverkan.core",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "samverkan.core.middleware.SwedishByDefaultLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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

SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(60 * 60 * 10)))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
