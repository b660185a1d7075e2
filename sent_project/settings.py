"""Sent settings: one module, driven by the environment.

Every variable is listed (with its default) in docs/operations.md#configuration.
The defaults make `make run` work with zero set-up (SQLite under var/, the
simulator provider, a generated SECRET_KEY); production sets DEBUG=false and
the rest of the table.
"""

import json
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from sent_project import lanes

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_json(name: str, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return json.loads(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be JSON, not {raw!r}") from None


# SQLite, tuned for a web process and workers writing side by side.
SQLITE_OPTIONS = {
    # Writers take the lock when their transaction starts and wait (up to `timeout` seconds)
    # instead of failing with "database is locked".
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_from_url(url: str) -> dict:
    """DATABASE_URL (postgres://user:pass@host:port/name?opt=v, or sqlite:///path/to/file)
    as a DATABASES entry, parsed by dj-database-url."""
    import dj_database_url

    try:
        config = dj_database_url.parse(
            url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {error}") from None
    engine = config["ENGINE"]
    if engine.endswith("postgresql"):
        config["NAME"] = config.get("NAME") or "sent"
    elif engine.endswith("sqlite3"):
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
        config["CONN_MAX_AGE"] = 0
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// or sqlite:/// URL, not {engine!r}"
        )
    return config


VAR_DIR = Path(env_str("SENT_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# DEBUG is on for the zero-config local run; production sets DEBUG=false.
DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# Previous keys, comma-separated, while rotating SECRET_KEY: sessions signed and secrets
# encrypted (webhook signing secrets, provider account secrets) under them stay readable.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public base URL of this install, used in links we send out (doc_url, webhooks). Unset, it
# follows HOST and PORT, the address `make run` listens on (docs/operations.md#configuration).
SITE_URL = env_str(
    "SITE_URL", f"http://{env_str('HOST', '127.0.0.1')}:{env_str('PORT', '8000')}"
).rstrip("/")


def _mailer(url: str, timeout: int) -> dict:
    """EMAIL_URL → the default mailer (Django's MAILERS setting): `smtp://user:password@host:587`
    (STARTTLS with `?tls=1`), `smtps://…:465` (implicit TLS), `console://` (the default: emails
    are written to the log) or `locmem://` (kept in memory)."""
    from urllib.parse import parse_qs, unquote, urlsplit

    if not url or url.startswith("console:"):
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if url.startswith("locmem:"):
        return {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"EMAIL_URL: unknown scheme {parts.scheme!r} (smtp, smtps, console)")
    query = parse_qs(parts.query)
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname or "localhost",
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_ssl": parts.scheme == "smtps",
            "use_tls": query.get("tls", ["0"])[0] in ("1", "true"),
            "timeout": timeout,
        },
    }


MAILERS = {"default": _mailer(env_str("EMAIL_URL"), env_int("EMAIL_TIMEOUT", 10))}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Sent <no-reply@localhost>")
# Failed sign-ins before an account (or an address) must wait LOGIN_LOCKOUT_SECONDS.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
# Where a billing user's top-up request is emailed (the operator); unset, only the audit log.
TOP_UP_REQUEST_EMAIL = env_str("TOP_UP_REQUEST_EMAIL")
# Invitations (first ones and re-invites) an account may send in any hour (429 USER_006).
INVITATIONS_PER_HOUR = env_int("INVITATIONS_PER_HOUR", 20)
# The issuer name authenticator apps show next to a two-factor code.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Sent")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "django_tasks_db",
    "django_otp",
    "sent_project.apps.OtpTotpConfig",  # django_otp.plugins.otp_totp, named for the admin
    "sent_project.apps.OtpStaticConfig",  # django_otp.plugins.otp_static
    "sent_project",
    "billing",
    "contacts",
    "templates_app",
    "messaging",
]

# The customer account every tenant-owned row belongs to. The plumbing's own tables (the outbox,
# idempotency records) name it through this setting, so `sent_project` imports no app
# (docs/architecture.md).
SENT_CUSTOMER_MODEL = "billing.Customer"

# Who delivers the outbox's events (sent_project.outbox): the messaging app's webhooks. Empty:
# events are recorded and marked done, nothing is delivered.
OUTBOX_FAN_OUT = "messaging.webhooks.outbox.webhook_fan_out"

# The dashboard's main navigation, (URL name, label); a page whose URL name doesn't resolve is
# left out. Project wiring: the plumbing's context processor shows it, the apps own the pages.
DASHBOARD_NAV = [
    ("home", "Home"),
    ("messaging:inbox", "Inbox"),
    ("contacts:contact_list", "Contacts"),
    ("templates_app:template_list", "Templates"),
    ("messaging:playground", "Playground"),
    ("messaging:message_list", "Messages"),
    ("messaging:queue", "Queue"),
    ("billing:billing", "Billing"),
    ("billing:price_list", "Prices"),
    ("messaging:webhook_list", "Webhooks"),
    ("messaging:sender_list", "Senders"),
    ("billing:api_key_list", "API keys"),
    ("billing:user_list", "Users"),
    ("billing:audit_log", "Audit log"),
]

DASHBOARD_NAV_FILTER = "billing.roles.user_may_open"

# The area (docs/dashboard.md#roles) of each dashboard URL name, by longest prefix; a page in
# no area is for admins only. Project wiring, like DASHBOARD_NAV.
DASHBOARD_AREAS = {
    "home": "home",
    "billing:api_key": "api_keys",
    "billing:billing": "billing",
    "billing:price": "prices",
    "billing:quiet_hours": "billing",  # on the billing page
    "billing:user": "users",
    "billing:audit": "audit",
    "billing:security": "security",
    "contacts:": "contacts",
    "templates_app:": "templates",
    "messaging:inbox": "messages",
    "messaging:conversation": "messages",
    "messaging:keyword": "messages",
    "messaging:message": "messages",
    "messaging:playground": "playground",
    "messaging:queue": "messages",
    "messaging:send_progress": "messages",
    "messaging:sender": "senders",
    "messaging:webhook": "webhooks",
}

MIDDLEWARE = [
    "sent_project.api.middleware.RequestIdMiddleware",
    "sent_project.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # DEBUG on: an unknown page is still the product's 404 page (docs/dashboard.md#how-it-is-built).
    "sent_project.dashboard.NotFoundPageMiddleware",
    # htmx answers carry the confirmations (Django messages) as an out-of-band swap.
    "sent_project.dashboard.HtmxMessagesMiddleware",
    "sent_project.api.idempotency.IdempotencyMiddleware",
]

# Overridable so the benchmarks can mount their reference endpoint next to the real ones.
ROOT_URLCONF = env_str("ROOT_URLCONF", "sent_project.urls")
WSGI_APPLICATION = "sent_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "sent_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sent_project.dashboard.navigation",
            ],
        },
    },
]

# Database: a SQLite file under var/ unless DATABASE_URL names another (PostgreSQL or SQLite).
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            # SQLITE_PATH: another file (tests point a worker subprocess at the test database).
            "NAME": Path(env_str("SQLITE_PATH", str(VAR_DIR / "sent.sqlite3"))),
            "OPTIONS": dict(SQLITE_OPTIONS),
            # A file (not :memory:) so live-server and multi-threaded tests share it.
            "TEST": {"NAME": VAR_DIR / "test.sqlite3"},
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches: local memory by default, Redis with REDIS_URL. REDIS_URL also holds the rate-limit
# counters (RATE_LIMIT_STORE); without it they are rows in the database.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The send path's caches of templates and price books (billing.caching; API keys are read
# live): entries are checked against version counters in the database on every request, so
# this only bounds how long an unused entry takes memory. 0 turns the caches off.
CACHE_SEND_TTL = env_int("CACHE_SEND_TTL", 300)

# Background work: Django's django.tasks API; the database backend by default.
# One queue per lane of work (sent_project/lanes.py, docs/architecture.md#lanes).
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": list(lanes.ALL),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "sent_project.storage.StaticFilesStorage"
    },
}
# Serve static files from the apps' directories too, so pages work before collectstatic ran.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)

# Security: production-safe when DEBUG is off. HTTPS redirect and HSTS are the
# reverse proxy's job (docs/operations.md#deploy-checks); they can be switched on here too.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): every script, style, image, font and connection from
# this origin only; no inline script anywhere. Inline style *attributes* are allowed (the bars
# and progress widths are computed per row); <style> elements are not. The API docs page
# (Redoc, whose CSS-in-JS writes <style> elements and searches in a blob: worker) widens
# style-src and worker-src for itself only (sent_project/views.py: api_docs).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 20 * 1024 * 1024)

# --- The v3 API -------------------------------------------------------------
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "1200/min")
# Requests with an unknown or revoked x-api-key, per client address (then 429 instead of 401).
API_INVALID_KEY_RATE_LIMIT = env_str("API_INVALID_KEY_RATE_LIMIT", "60/min")
# Where rate-limit counters live: "auto" (Redis when REDIS_URL is set, else the database),
# "redis" or "database" (sent_project/ratelimit.py).
RATE_LIMIT_STORE = env_str("RATE_LIMIT_STORE", "auto")
# The request header the reverse proxy puts the client's address in (e.g. X-Forwarded-For,
# whose last entry is taken, or X-Real-IP); empty: the connection's own address (REMOTE_ADDR).
CLIENT_ADDRESS_HEADER = env_str("CLIENT_ADDRESS_HEADER")
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 20)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 100)
# Up to this many rows a list's total_count is exact; beyond it, an estimate.
API_EXACT_COUNT_LIMIT = env_int("API_EXACT_COUNT_LIMIT", 1_000)
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 24)
# A request still "in flight" after this long is presumed dead and its key can be reused.
IDEMPOTENCY_LOCK_SECONDS = env_int("IDEMPOTENCY_LOCK_SECONDS", 120)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["billing.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["billing.authentication.HasCustomer"],
    "DEFAULT_THROTTLE_CLASSES": ["sent_project.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["sent_project.api.envelope.EnvelopeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["sent_project.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "sent_project.api.pagination.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "sent_project.api.schema.SentAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "sent_project.api.exception_handler.envelope_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Sent API",
    "DESCRIPTION": (
        "Self-hosted multi-channel messaging (SMS + WhatsApp), wire-compatible with "
        "the official Sent SDKs (v3). Authenticate with the `x-api-key` header. Every "
        "response is wrapped in the envelope `{success, data, error, meta}`."
    ),
    "VERSION": "3.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/v3",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sent_project.api.schema.wrap_responses_in_envelope",
    ],
    "ENUM_NAME_OVERRIDES": {},
}

# --- Channels and providers (docs/providers/README.md) ------------------------------
# The install's default provider per channel: "simulator" (default), "twilio" (SMS) or
# "cloud_api" (WhatsApp). Customers with senders of their own (admin: provider accounts and
# senders) use those instead; sandbox messages always go to the simulator. An unknown name or
# a missing credential stops start-up with a message naming the setting.
SMS_PROVIDER = env_str("SMS_PROVIDER", "simulator")
WHATSAPP_PROVIDER = env_str("WHATSAPP_PROVIDER", "simulator")
SMS_FROM_NUMBER = env_str("SMS_FROM_NUMBER", "+15005550006")
WHATSAPP_FROM_NUMBER = env_str("WHATSAPP_FROM_NUMBER", "+15005550007")
WHATSAPP_BUSINESS_NAME = env_str("WHATSAPP_BUSINESS_NAME", "Sent Demo")
# Twilio Programmable Messaging (SMS_PROVIDER=twilio): an auth token, or an API key + secret;
# a from number (or alphanumeric sender id) or a Messaging Service.
TWILIO_API_URL = env_str("TWILIO_API_URL", "https://api.twilio.com").rstrip("/")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_API_KEY_SID = env_str("TWILIO_API_KEY_SID")
TWILIO_API_KEY_SECRET = env_str("TWILIO_API_KEY_SECRET")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID")
# Meta WhatsApp Cloud API (WHATSAPP_PROVIDER=cloud_api).
WHATSAPP_GRAPH_URL = env_str("WHATSAPP_GRAPH_URL", "https://graph.facebook.com").rstrip("/")
WHATSAPP_GRAPH_VERSION = env_str("WHATSAPP_GRAPH_VERSION", "v23.0")
WHATSAPP_ACCESS_TOKEN = env_str("WHATSAPP_ACCESS_TOKEN")
WHATSAPP_PHONE_NUMBER_ID = env_str("WHATSAPP_PHONE_NUMBER_ID")
WHATSAPP_BUSINESS_ACCOUNT_ID = env_str("WHATSAPP_BUSINESS_ACCOUNT_ID")
WHATSAPP_APP_SECRET = env_str("WHATSAPP_APP_SECRET")
WHATSAPP_VERIFY_TOKEN = env_str("WHATSAPP_VERIFY_TOKEN")
# Seconds a provider API call may take (connect, and the whole answer) before it counts as a
# transient failure and is retried with backoff.
PROVIDER_CONNECT_TIMEOUT = env_float("PROVIDER_CONNECT_TIMEOUT", 5.0)
PROVIDER_TIMEOUT = env_float("PROVIDER_TIMEOUT", 15.0)
# Provider calls one worker makes side by side (HTTP adapters; the simulator runs one at a
# time). A job hands off its messages in groups of 25, each group's calls concurrently.
PROVIDER_CONCURRENCY = env_int("PROVIDER_CONCURRENCY", 8)
# Answer inbound STOP/START/HELP with the customer's auto-reply (docs/api/inbound.md#keywords).
# Turn off when the provider answers them itself (Twilio's Advanced Opt-Out does).
INBOUND_KEYWORD_REPLIES = env_bool("INBOUND_KEYWORD_REPLIES", True)
# Characters kept of the body of a provider callback that failed its signature check (admin:
# provider callbacks); a verified one is kept whole, as it is applied from its record.
PROVIDER_CALLBACK_BODY_LIMIT = env_int("PROVIDER_CALLBACK_BODY_LIMIT", 65536)
# A verified callback's body is kept whole to be applied from its record, up to this many
# bytes (Meta's webhooks reach 3 MB); a larger one is refused (413) and recorded as rejected.
PROVIDER_CALLBACK_MAX_BYTES = env_int("PROVIDER_CALLBACK_MAX_BYTES", 4 * 1024 * 1024)
# A verified callback still PENDING after this long while no job is on its way to apply it:
# the reconciler wakes one (messaging.callbacks.records).
PROVIDER_CALLBACK_STUCK_SECONDS = env_float("PROVIDER_CALLBACK_STUCK_SECONDS", 60.0)

# Who answers "is this number on WhatsApp?" for contacts: a factory's dotted path. The active
# WhatsApp provider (WHATSAPP_PROVIDER), which lives in the messaging app above contacts.
CONTACTS_WHATSAPP_DIRECTORY = "messaging.providers.get_whatsapp_provider"
# Template review on Meta (templates_app sits below messaging): the factory that gives a
# template's reviewer when its customer's WhatsApp goes through the Cloud API.
TEMPLATES_WHATSAPP_REVIEWER = "messaging.providers.whatsapp_templates.reviewer_for"

# --- Contacts ---------------------------------------------------------------
# WhatsApp availability older than this is looked up again (on the next send or create).
CONTACTS_CHANNEL_CHECK_MAX_AGE_DAYS = env_int("CONTACTS_CHANNEL_CHECK_MAX_AGE_DAYS", 30)
# Size cap of a contact's `metadata` (bytes of compact JSON).
CONTACTS_METADATA_MAX_BYTES = env_int("CONTACTS_METADATA_MAX_BYTES", 8192)
# How deep objects and arrays may nest in `metadata` (the metadata object is level 1).
CONTACTS_METADATA_MAX_DEPTH = env_int("CONTACTS_METADATA_MAX_DEPTH", 32)
# Recent outcomes kept per channel in `delivery_stats.recent` (what routing's success rate reads).
CONTACTS_DELIVERY_WINDOW = env_int("CONTACTS_DELIVERY_WINDOW", 50)
CONTACTS_IMPORT_MAX_ROWS = env_int("CONTACTS_IMPORT_MAX_ROWS", 100_000)
# Processes that parse numbers for an import written on one connection (SQLite, or
# CONTACTS_IMPORT_WRITERS = 1; 0 = one per CPU core); imports smaller than
# CONTACTS_IMPORT_POOL_MIN_ROWS are parsed and written in the task's own process.
CONTACTS_IMPORT_WORKERS = env_int("CONTACTS_IMPORT_WORKERS", 0)
CONTACTS_IMPORT_POOL_MIN_ROWS = env_int("CONTACTS_IMPORT_POOL_MIN_ROWS", 5_000)
# Rows per transaction of an import (progress is saved after each).
CONTACTS_IMPORT_BATCH_SIZE = env_int("CONTACTS_IMPORT_BATCH_SIZE", 10_000)
# Writer processes of a big import on PostgreSQL, each parsing and writing its share of the
# numbers on its own connection (1 = one transaction at a time, in the task's process).
CONTACTS_IMPORT_WRITERS = env_int("CONTACTS_IMPORT_WRITERS", 2)
# An import that creates at least this many contacts on PostgreSQL ends with ANALYZE of the
# contacts table, so the planner knows the tenant's new size at once (autovacuum waits for 10 %
# of the table to change; until then a grown tenant's searches may take a plan for a small one).
CONTACTS_IMPORT_ANALYZE_MIN_ROWS = env_int("CONTACTS_IMPORT_ANALYZE_MIN_ROWS", 10_000)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "ContactImportStatusEnum": "contacts.models.ContactImport.Status",
        "ContactImportRowStatusEnum": "contacts.models.ContactImportRow.Status",
    }
)

# --- Retention (docs/operations.md#retention) -------------------------------------
# Days each kind of bookkeeping row is kept (0 = forever). Ledger entries and messages are
# never deleted; RETENTION_MESSAGE_BODY_DAYS (0 = off) blanks finished messages' text.
RETENTION_TASK_RESULTS_DAYS = env_float("RETENTION_TASK_RESULTS_DAYS", 7)
RETENTION_WEBHOOK_DELIVERIES_DAYS = env_float("RETENTION_WEBHOOK_DELIVERIES_DAYS", 30)
RETENTION_EVENTS_DAYS = env_float("RETENTION_EVENTS_DAYS", 30)
RETENTION_SIMULATOR_DAYS = env_float("RETENTION_SIMULATOR_DAYS", 7)
RETENTION_IMPORT_ROWS_DAYS = env_float("RETENTION_IMPORT_ROWS_DAYS", 30)
RETENTION_PROVIDER_CALLBACKS_DAYS = env_float("RETENTION_PROVIDER_CALLBACKS_DAYS", 30)
RETENTION_MESSAGE_BODY_DAYS = env_float("RETENTION_MESSAGE_BODY_DAYS", 0)
# Rows per DELETE (each in its own transaction), a pause between batches, and how often the
# periodic prune job runs.
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 5_000)
RETENTION_BATCH_PAUSE_SECONDS = env_float("RETENTION_BATCH_PAUSE_SECONDS", 0.0)
RETENTION_EVERY_SECONDS = env_float("RETENTION_EVERY_SECONDS", 3600.0)
# The pruners, in the order they run: each app prunes its own tables. Webhook deliveries go
# before the outbox events they point at.
RETENTION_PRUNERS = [
    "sent_project.retention.prune_idempotency",
    "messaging.retention.prune_webhook_deliveries",
    "sent_project.retention.prune_events",
    "messaging.task_backend.prune_task_results",
    "messaging.retention.prune_simulator",
    "messaging.retention.prune_provider_callbacks",
    "contacts.retention.prune_import_rows",
    "messaging.retention.prune_message_bodies",
]

# --- Health (docs/operations.md#health) --------------------------------------------
# /readyz is red when a lane's workers weren't seen for HEALTH_WORKER_SEEN_SECONDS (each lane
# runs a heartbeat job every HEALTH_HEARTBEAT_SECONDS), when a due job has waited longer than
# HEALTH_OLDEST_TASK_SECONDS, or when the reconciler's last run is older than
# HEALTH_RECONCILER_SECONDS. HEALTH_LANES: the lanes that must have a worker.
HEALTH_HEARTBEAT_SECONDS = env_float("HEALTH_HEARTBEAT_SECONDS", 20.0)
HEALTH_WORKER_SEEN_SECONDS = env_float("HEALTH_WORKER_SEEN_SECONDS", 60.0)
HEALTH_OLDEST_TASK_SECONDS = env_float("HEALTH_OLDEST_TASK_SECONDS", 300.0)
HEALTH_RECONCILER_SECONDS = env_float("HEALTH_RECONCILER_SECONDS", 300.0)
HEALTH_LANES = env_list("HEALTH_LANES", ",".join(lanes.ALL))
# The checks /readyz and `manage.py doctor` run, in order: each app checks its own part.
HEALTH_CHECKS = [
    "sent_project.health.check_database",
    "sent_project.health.check_migrations",
    "messaging.health.check_workers",
    "messaging.health.check_task_queue",
    "messaging.health.check_reconciler",
]

# --- Metrics (docs/operations.md#metrics) ------------------------------------------
# /metrics answers a bearer METRICS_TOKEN or an address of METRICS_ALLOWED_IPS (neither: 404).
# PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself): one directory shared by the
# gunicorn workers and the task workers of a host, emptied at start.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")
METRICS_DB_CACHE_SECONDS = env_int("METRICS_DB_CACHE_SECONDS", 15)
METRICS_COLLECTORS = ["messaging.metrics.collect"]

# --- Logging: one line per record, with the request id (docs/operations.md#logs) -----
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# "plain" (default) or "json": one JSON object per line.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "sent_project.request_context.RequestIdLogFilter"}},
    "formatters": {
        "plain": {
            "()": "sent_project.log_format.PlainFormatter",
            "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s",
        },
        "json": {"()": "sent_project.log_format.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# Error reporting to Sentry when SENTRY_DSN is set (nothing is sent, nothing loaded, when not):
# no personal data, request bodies or cookies; SENTRY_TRACES_SAMPLE_RATE 0 = no tracing.
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
    )

# --- Simulator provider -------------------------------------------------------
# Seconds between lifecycle steps, multiplied by SIMULATOR_DELAY_SCALE (0 = instant).
SIMULATOR_DELAY_SCALE = env_float("SIMULATOR_DELAY_SCALE", 1.0)
SIMULATOR_DELAYS = {"delivered": 1.5, "read": 3.0, "template_review": 5.0}

# --- Webhooks (docs/api/webhooks.md) ----------------------------------------
# Seconds to wait before each retry of a failed delivery: 9 retries over about 3 days
# (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h ≈ 75.6 h), each ±WEBHOOK_RETRY_JITTER.
WEBHOOK_RETRY_SCHEDULE = [
    int(seconds)
    for seconds in env_list(
        "WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,50400,72000,86400"
    )
]
# Multiplies every retry delay (tests use 0 = immediate); a receiver's Retry-After is not scaled.
WEBHOOK_RETRY_DELAY_SCALE = env_float("WEBHOOK_RETRY_DELAY_SCALE", 1.0)
WEBHOOK_RETRY_JITTER = env_float("WEBHOOK_RETRY_JITTER", 0.1)
# An endpoint is disabled after this many failed attempts in a row, once it has also been
# failing for at least WEBHOOK_DISABLE_AFTER_SECONDS (so a short outage never disables it).
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 15)
WEBHOOK_DISABLE_AFTER_SECONDS = env_int("WEBHOOK_DISABLE_AFTER_SECONDS", 3 * 24 * 3600)
# Upper bound on an endpoint's own timeout_seconds: a worker never waits longer.
WEBHOOK_TIMEOUT_MAX_SECONDS = env_float("WEBHOOK_TIMEOUT_MAX_SECONDS", 15.0)
# After a secret rotation the old secret keeps signing, next to the new one, this long.
WEBHOOK_SECRET_GRACE_SECONDS = env_int("WEBHOOK_SECRET_GRACE_SECONDS", 24 * 3600)
# Self-hosted installs and tests may deliver to loopback and private networks.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# With DEBUG on (development) a receiver on this machine (loopback) is allowed; never with DEBUG off.
WEBHOOK_ALLOW_LOOPBACK_IN_DEBUG = env_bool("WEBHOOK_ALLOW_LOOPBACK_IN_DEBUG", True)
# Work the sweep picks up: events not fanned out, and deliveries whose task is this overdue.
WEBHOOK_SWEEP_GRACE_SECONDS = env_int("WEBHOOK_SWEEP_GRACE_SECONDS", 300)
WEBHOOK_RESPONSE_BODY_LIMIT = 2048
# The webhooks lane (docs/architecture.md#fairness-in-the-webhooks-lane, docs/api/webhooks.md#slow-and-dead-endpoints).
# Attempts in flight at once to one endpoint, across every worker.
WEBHOOK_ENDPOINT_CONCURRENCY = env_int("WEBHOOK_ENDPOINT_CONCURRENCY", 2)
# Attempts in flight at once for one customer (all its endpoints), across every worker.
WEBHOOK_TENANT_CONCURRENCY = env_int("WEBHOOK_TENANT_CONCURRENCY", 4)
# Seconds a customer's attempts may wait for answers, together, per minute; over it, its
# deliveries wait for the next minute while other customers' go.
WEBHOOK_TENANT_WAIT_BUDGET_SECONDS = env_float("WEBHOOK_TENANT_WAIT_BUDGET_SECONDS", 120.0)
# Endpoints a customer may register.
WEBHOOK_MAX_ENDPOINTS_PER_CUSTOMER = env_int("WEBHOOK_MAX_ENDPOINTS_PER_CUSTOMER", 10)
# The circuit breaker: open after this many failed attempts in a row, pause
# WEBHOOK_CIRCUIT_PAUSE_SECONDS (doubling at each failed probe, up to ..._MAX_SECONDS).
WEBHOOK_CIRCUIT_FAILURES = env_int("WEBHOOK_CIRCUIT_FAILURES", 5)
WEBHOOK_CIRCUIT_PAUSE_SECONDS = env_float("WEBHOOK_CIRCUIT_PAUSE_SECONDS", 30.0)
WEBHOOK_CIRCUIT_PAUSE_MAX_SECONDS = env_float("WEBHOOK_CIRCUIT_PAUSE_MAX_SECONDS", 3600.0)
# Attempts one `webhook_drain` job makes at once (threads), and how long it drains before
# handing over to a fresh job.
WEBHOOK_DRAIN_THREADS = env_int("WEBHOOK_DRAIN_THREADS", 8)
WEBHOOK_DRAIN_SECONDS = env_float("WEBHOOK_DRAIN_SECONDS", 60.0)

# --- Templates ------------------------------------------------------------------
# The simulated WhatsApp review rejects templates whose text contains one of these words.
SIMULATOR_TEMPLATE_BANNED_WORDS = env_list("SIMULATOR_TEMPLATE_BANNED_WORDS", "casino,lottery")
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "TemplateVariableTypeEnum": "templates_app.definition.VARIABLE_TYPES",
        "TemplateHeaderTypeEnum": "templates_app.definition.HEADER_TYPES",
        "TemplateButtonTypeEnum": "templates_app.definition.BUTTON_TYPES",
        "TemplateTextTypeEnum": "templates_app.definition.TEXT_TYPES",
        "TemplateStatusEnum": "templates_app.models.TemplateStatus",
        "TemplateCategoryEnum": "templates_app.models.TemplateCategory",
    }
)

# --- Messages: routing, dispatch, retries, reconciler (docs/api/messages.md) ----------
# Per country (ISO code), the channel order automatic routing prefers under the default
# "prefer_whatsapp" strategy, e.g. {"US": ["sms", "whatsapp"]}. Countries not listed: WhatsApp
# first where the contact has it, then SMS.
ROUTING_REGIONAL_PREFERENCE = env_json("ROUTING_REGIONAL_PREFERENCE", {})
# A channel whose delivered share over a contact's recent messages (at least
# ROUTING_MIN_HISTORY of them) is below this is demoted behind the others.
ROUTING_MIN_SUCCESS_RATE = env_float("ROUTING_MIN_SUCCESS_RATE", 0.5)
ROUTING_MIN_HISTORY = env_int("ROUTING_MIN_HISTORY", 5)
# Messages one dispatch claim takes, shared round-robin between the lanes (sender × customer)
# that have messages due (docs/architecture.md#fairness-between-tenants).
MESSAGE_DISPATCH_BATCH_SIZE = env_int("MESSAGE_DISPATCH_BATCH_SIZE", 100)
# Lanes one claim visits (the next claim goes on from where this one stopped).
MESSAGE_DISPATCH_LANES_PER_CLAIM = env_int("MESSAGE_DISPATCH_LANES_PER_CLAIM", 64)
# A dispatch job drains what is due for at most this long, then hands over to a new job.
MESSAGE_DISPATCH_JOB_SECONDS = env_float("MESSAGE_DISPATCH_JOB_SECONDS", 10.0)
# Sender pacing (messaging.pacing, docs/providers/README.md#pacing): the simulator's rate,
# the install's default routes' rates by channel ({"sms": 1.0}; unset: the provider's
# default for the route's number), how many seconds of its rate a bucket holds, and how a
# provider's rate limit slows a sender down (halved, at least this share of its rate) and
# recovers (back to the full rate over this many seconds).
PACING_SIMULATOR_RATE = env_float("PACING_SIMULATOR_RATE", 5000.0)
PACING_DEFAULT_ROUTE_RATES = env_json("PACING_DEFAULT_ROUTE_RATES", {})
PACING_BURST_SECONDS = env_float("PACING_BURST_SECONDS", 1.0)
PACING_MIN_FACTOR = env_float("PACING_MIN_FACTOR", 0.1)
PACING_RECOVERY_SECONDS = env_float("PACING_RECOVERY_SECONDS", 60.0)
# Transient provider errors: up to this many hand-off attempts in all, the n-th retry
# after min(BASE × 2^(n-1), MAX) seconds × a random 50–100 % (jitter), times the scale.
MESSAGE_MAX_ATTEMPTS = env_int("MESSAGE_MAX_ATTEMPTS", 5)
MESSAGE_RETRY_BASE_SECONDS = env_float("MESSAGE_RETRY_BASE_SECONDS", 5.0)
MESSAGE_RETRY_MAX_SECONDS = env_float("MESSAGE_RETRY_MAX_SECONDS", 600.0)
MESSAGE_RETRY_DELAY_SCALE = env_float("MESSAGE_RETRY_DELAY_SCALE", 1.0)
# The reconciler: how often it runs, and when a message counts as stuck — QUEUED this long
# past its due time (its job was lost), or PROCESSED this long after a worker claimed it (the
# worker died). Keep the second above the longest provider call.
MESSAGE_RECONCILE_EVERY_SECONDS = env_float("MESSAGE_RECONCILE_EVERY_SECONDS", 30.0)
MESSAGE_STUCK_QUEUED_SECONDS = env_float("MESSAGE_STUCK_QUEUED_SECONDS", 300.0)
# Scheduled sends (docs/api/messages.md#scheduling): how far ahead `scheduled_at` may be, and
# how far in the past it may be (clock skew; such a send goes out right away).
MESSAGE_SCHEDULE_HORIZON_DAYS = env_int("MESSAGE_SCHEDULE_HORIZON_DAYS", 30)
MESSAGE_SCHEDULE_GRACE_SECONDS = env_int("MESSAGE_SCHEDULE_GRACE_SECONDS", 60)
MESSAGE_STUCK_PROCESSED_SECONDS = env_float("MESSAGE_STUCK_PROCESSED_SECONDS", 120.0)
# A messaging job left RUNNING this long belongs to a dead worker: marked FAILED.
MESSAGE_ORPHANED_TASK_SECONDS = env_float("MESSAGE_ORPHANED_TASK_SECONDS", 900.0)
# Test hooks only (the killed-worker tests): seconds a dispatch sleeps right after its claim
# commits, and right after the provider accepted a message, before recording it.
MESSAGE_TEST_PAUSE_AFTER_CLAIM = env_float("MESSAGE_TEST_PAUSE_AFTER_CLAIM", 0.0)
MESSAGE_TEST_PAUSE_AFTER_PROVIDER = env_float("MESSAGE_TEST_PAUSE_AFTER_PROVIDER", 0.0)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "MessageStatusEnum": "messaging.statuses.MessageStatus",
        "MessageDirectionEnum": "messaging.models.Direction",
    }
)
