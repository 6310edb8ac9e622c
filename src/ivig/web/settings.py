"""Django settings for the IVIG planner, read from the environment (see docs/web.md).

Every variable is read through the typed helpers in ``ivig.web.env``, which fail loudly on a
value they cannot read. ``IVIG_PRODUCTION=1`` switches on the HTTPS-only profile for which
``manage.py check --deploy`` is clean.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from ivig.web.env import (
    env_bool,
    env_int,
    env_list,
    env_path,
    env_secret,
    env_str,
    private_data_dir,
    private_file,
    secret_key_from_data_dir,
)

WEB_DIR = Path(__file__).resolve().parent

with (WEB_DIR / "policy.toml").open("rb") as _policy_file:
    POLICY = tomllib.load(_policy_file)

# --- Where data lives ----------------------------------------------------------------------------
# IVIG_DATA_DIR holds the SQLite database, the generated secret key and collected static files.
DATA_DIR = env_path("IVIG_DATA_DIR", Path.home() / ".local" / "share" / "ivig")
private_data_dir(DATA_DIR)  # 0700, its files 0600 (health data; see docs/web.md)

# --- Profile -------------------------------------------------------------------------------------
PRODUCTION = env_bool("IVIG_PRODUCTION", False)
DEBUG = env_bool("IVIG_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("IVIG_DEBUG=1 is not allowed with IVIG_PRODUCTION=1")

SECRET_KEY = env_secret("IVIG_SECRET_KEY") or secret_key_from_data_dir(DATA_DIR)

_LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ALLOWED_HOSTS = env_list("IVIG_ALLOWED_HOSTS", [] if PRODUCTION else _LOCAL_HOSTS)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("IVIG_PRODUCTION=1 needs IVIG_ALLOWED_HOSTS (e.g. ivig.example.org)")
if PRODUCTION and "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("IVIG_ALLOWED_HOSTS='*' is not allowed with IVIG_PRODUCTION=1")
CSRF_TRUSTED_ORIGINS = env_list("IVIG_CSRF_TRUSTED_ORIGINS", [])
# FHIR servers the CDS Hooks service may fetch missing prefetch from (URL prefixes; none by default)
IVIG_CDS_FHIR_SERVERS = env_list("IVIG_CDS_FHIR_SERVERS", [])

# --- Applications --------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_htmx",
    # django-ninja's API docs page then uses its vendored static files, not a CDN and inline
    # script (which the Content-Security-Policy refuses)
    "ninja",
    "simple_history",
    "axes",
    "ivig.web.accounts",
    "ivig.web.patients",
    "ivig.web.plans",
    "ivig.web.infusions",
    "ivig.web.api",
    "ivig.web.ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Cache-Control: no-store (headers.py)
    "ivig.web.headers.SecurityHeadersMiddleware",
    # Static files: hashed names, served pre-compressed (brotli/gzip) and cached for a year.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed on the fly (Django masks the CSRF token and pads the gzip header against
    # BREACH); static files are compressed once by collectstatic instead.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Each (user, team) membership is read once per request (access.py).
    "ivig.web.access.RequestMembershipsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must be last: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ivig.web.urls"
WSGI_APPLICATION = "ivig.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [WEB_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
FORM_RENDERER = "ivig.web.forms.FormRenderer"

# --- Database ------------------------------------------------------------------------------------
# DATABASE_URL (e.g. postgres://user:pass@host:5432/ivig); SQLite in the data folder by default.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'ivig.sqlite3'}",
        conn_max_age=env_int("IVIG_DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite gives its -wal and -shm files the database file's mode: create it 0600 first.
    private_file(Path(DATABASES["default"]["NAME"]))
    # WAL lets readers carry on while one writer writes; IMMEDIATE takes the write lock at the
    # start of a transaction so two writers wait for each other instead of failing midway.
    # synchronous=FULL: a write the app has acknowledged (a rate change, a reaction) is on disk
    # before the answer leaves, so it survives a power cut or an OS crash, not only a killed
    # process (NORMAL may lose the last commits then). Measured cost: docs/web.md "Durability".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared state lives in the database, never in one process's memory, so several `ivig serve`
# processes or hosts over one PostgreSQL agree (sessions: Django's database backend; lockouts:
# django-axes' database handler; the cache: this table, made by `ivig serve`).
SESSION_ENGINE = "ivig.web.accounts.sessions"  # Django's database store, read in one statement
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "ivig_cache",
    }
}

# --- Accounts and logins -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Every form that sets a password (first account, invitation sign-up, reset, admin) runs these.
# Lengths are design choices: 10 characters at least (NIST SP 800-63B asks for 8; the probe of
# issue 10 got "ivigivig" and "lucia2017" through at 8), 128 at most.
AUTH_PASSWORD_VALIDATORS = [
    {
        # our User has "name" and "email" (Django's default looks at first_name/last_name)
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "ivig.web.accounts.passwords.MaximumLengthValidator"},
    {"NAME": "ivig.web.accounts.passwords.VarietyValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3  # a reset link works for 3 hours
SESSION_COOKIE_AGE = env_int("IVIG_SESSION_HOURS", 12, minimum=1) * 60 * 60

# django-axes: an account is locked after repeated failures from any address (the failures are
# rows in the database, so every server process sees them). An address that fails on many
# accounts is locked too (ivig.web.accounts.throttle, IVIG_LOGIN_ADDRESS_FAILURE_LIMIT): higher,
# because a clinic's computers may share one address.
AXES_FAILURE_LIMIT = env_int("IVIG_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("IVIG_LOGIN_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for "ip_address" in the lockout parameters; the address limit is ours (above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("IVIG_LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
# Password-reset emails: at most this many per address asked for, and per client address, in an
# hour (ivig.web.accounts.throttle; a design choice that stops mail-bombing an inbox).
PASSWORD_RESET_LIMIT_PER_EMAIL = env_int("IVIG_RESET_LIMIT_PER_EMAIL", 3, minimum=1)
PASSWORD_RESET_LIMIT_PER_ADDRESS = env_int("IVIG_RESET_LIMIT_PER_ADDRESS", 10, minimum=1)
# The login form posts the email as "username" (Django's AuthenticationForm); without this axes
# would look for "email" (our USERNAME_FIELD), find nothing and lock out a whole address.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

INVITE_EXPIRY_DAYS = env_int("IVIG_INVITE_EXPIRY_DAYS", POLICY["invite"]["expiry_days"], minimum=1)
WEIGHT_MAX_AGE_DAYS = env_int(
    "IVIG_WEIGHT_MAX_AGE_DAYS", POLICY["weight"]["max_age_days"], minimum=1
)

# --- Email (password reset, invitations) ---------------------------------------------------------
# Printed to the server's console unless IVIG_EMAIL_HOST names an SMTP server.
EMAIL_HOST = env_str("IVIG_EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("IVIG_EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("IVIG_EMAIL_USER")
    EMAIL_HOST_PASSWORD = env_secret("IVIG_EMAIL_PASSWORD") or ""
    EMAIL_USE_TLS = env_bool("IVIG_EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("IVIG_EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("IVIG_EMAIL_FROM", "ivig@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Language and time ---------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [WEB_DIR / "locale"]
# One number format per language (the decimal point in both; ivig/web/formats explains why).
FORMAT_MODULE_PATH = ["ivig.web.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("IVIG_TIME_ZONE", "UTC")

# --- Static files --------------------------------------------------------------------------------
# `ivig serve` collects them into STATIC_ROOT with hashed names and brotli/gzip copies; WhiteNoise
# serves them from there (docs/web.md "Static files"). Files not collected (tests, a development
# checkout) fall through to ivig.web.views.static, which finds them in the apps.
STATIC_URL = "/static/"
STATIC_ROOT = env_path("IVIG_STATIC_ROOT", DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise looks there from the start
STATICFILES_DIRS = [WEB_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "ivig.web.static_storage.StaticStorage"},
}
# Only hashed names are cached for a year (they change when the file does); others for an hour.
WHITENOISE_MAX_AGE = 60 * 60

# --- Security ------------------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("IVIG_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("IVIG_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("IVIG_HSTS_PRELOAD", True)
    if env_bool("IVIG_BEHIND_PROXY", False):
        # Only behind a proxy that sets this header itself (and strips it from clients).
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No secrets in logs, and a refused request (403) is one line without a traceback (logs.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "ivig.web.logs.RedactSecrets"},
        "refused_one_line": {"()": "ivig.web.logs.RefusedOneLine"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secrets", "refused_one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("IVIG_LOG_LEVEL", "WARNING")},
}

# The window of dates a record may carry (policy.toml explains it).
RECORD_DATES = {
    "earliest": str(POLICY["record_dates"]["earliest"]),
    "future_margin_hours": int(POLICY["record_dates"]["future_margin_hours"]),
}

# Bounds that catch typing slips in weights and heights (policy.toml explains them).
MEASUREMENT_BOUNDS = {
    key: str(value)
    for key, value in POLICY["measurement_bounds"].items()
    if key != "rationale"
}
