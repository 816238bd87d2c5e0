"""Settings, read from the environment (twelve-factor).

DATABASE_URL absent means the embedded SQLite database in the project folder.
"""

import logging
import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# The fallback key is for development only; production sets SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

INSTALLED_APPS = [
    "backoffice.apps.AdminConfig",  # django.contrib.admin, with our site (backoffice.site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver leaves static files to WhiteNoise too, so development serves them as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",  # its translations: a French invoice prints « Belgique »
    "django_tasks_db",  # background jobs are rows of the database (README, Background jobs)
    "core",  # the kernel: roles and rules, imports none of our apps
    "audit",  # first of the domain apps: every app may record into it
    "sales",
    "projects",
    "tickets",
    "timesheets",
    "invoicing",
    "reports",  # the top of the domain apps: reports, alerts, and the worker command that sweeps them all
    "web",  # the browser screens, on top of the domain apps
    "api",  # the REST API v1, on top of the domain apps
    "portal",  # the customer portal's screens (issue 18), on top of the domain apps
    "backoffice",  # the admin, on top of the domain apps
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files, before everything else (WhiteNoise's documented place): no session, no database.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "helpdesk_billing.health.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (Accept-Language) or the one chosen in the top bar (the language cookie)...
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # ... unless the signed-in user saved one (core.languages).
    "core.languages.UserLanguageMiddleware",
    # A customer's contact reaches the portal only (issue 18).
    "core.boundary.ContactBoundaryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk_billing.urls"

# The customer portal (issue 18): where a contact lands, and all they may ask for (core.boundary).
PORTAL_HOME = "/portal/"
PORTAL_PATHS = ("/portal/", "/api/v1/portal/", "/logout/", "/language/", "/static/", "/favicon.ico", "/healthz")
# An invitation's or a password reset's link works once, for this long (Django's password reset tokens).
# The portal's address in emails sent without a request to read it from (a command, a job): rarely used.
PORTAL_SITE = os.environ.get("PORTAL_SITE", "http://127.0.0.1:8000")
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PORTAL_LINK_SECONDS", str(3 * 24 * 3600)))
# "Forgot your password?" emails a contact at most one link in this long (sales.contacts).
PORTAL_LINK_INTERVAL_SECONDS = int(os.environ.get("PORTAL_LINK_INTERVAL_SECONDS", "300"))

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
                "django.template.context_processors.csp",
                "web.context_processors.top_bar",
            ],
        },
    },
]

WSGI_APPLICATION = "helpdesk_billing.wsgi.application"
ASGI_APPLICATION = "helpdesk_billing.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # make run's threads write one at a time: each transaction takes SQLite's write lock at BEGIN
    # and waits for it, instead of failing with "database is locked" when it first writes.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite builds covering indexes (timesheets' entry_by_line) without their included columns: fine for a quick look.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Security ---------------------------------------------------------------------
# With DEBUG off the defaults are production's: HTTPS only, secure cookies, HSTS.
# Each can be changed from the environment (README, Configuration).
PRODUCTION = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Load balancers check /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Behind a proxy that terminates TLS and sets X-Forwarded-Proto (and strips the client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: scripts and styles come from our own static files only (the
# admin's few inline ones carry the request's nonce); no plugins, no framing, forms post here.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Who may do what: core.permissions' rules ("may this agent change this entry?"), then the
# groups' model permissions for what no rule names (core.roles.GROUPS).
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "core.permissions.GroupsBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The screens, emails, PDF and messages in English or French (README, Languages); dates and numbers
# are written for the language (helpdesk_billing/formats), money by Babel (core.money).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["helpdesk_billing.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
# The app serves its own static files through WhiteNoise (README, Deploy): no web server needed for them.
STATIC_URL = "static/"
# Where `collectstatic` gathers them, and where WhiteNoise serves them from with DEBUG off.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# With DEBUG off, `collectstatic` writes each file under a name holding its hash (admin/css/base.<hash>.css)
# with gzip and brotli copies, and WhiteNoise tells browsers to keep those for ever. That storage needs
# the manifest collectstatic writes, so only production has it: with DEBUG on (`make run`, and the test
# suite, which imports these settings before turning DEBUG off) files keep their names and WhiteNoise
# finds them in the apps' folders, no collectstatic needed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Files: invoice PDFs ------------------------------------------------------------------
# Each posted invoice's PDF is rendered once and stored through Django's storage API: under MEDIA_ROOT
# by default, in an S3-compatible bucket when S3_BUCKET is set (README, Deploy). Never served as a
# public URL: the invoice's download view checks who asks.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))


def s3_storage(environ) -> dict:
    """Return the STORAGES entry of the S3-compatible bucket `environ` (os.environ) names with S3_*."""
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": environ["S3_BUCKET"],
        # Another S3-compatible service (MinIO, Ceph, Scaleway, ...); unset means AWS.
        "endpoint_url": environ.get("S3_ENDPOINT_URL") or None,
        "region_name": environ.get("S3_REGION") or None,
        # Unset: boto3 finds credentials as usual (AWS_* variables, an instance role).
        "access_key": environ.get("S3_ACCESS_KEY_ID") or None,
        "secret_key": environ.get("S3_SECRET_ACCESS_KEY") or None,
        "location": environ.get("S3_PREFIX", ""),
        "default_acl": "private",
        "file_overwrite": False,  # a second rendering never replaces the first
        "querystring_auth": True,
    }}


if os.environ.get("S3_BUCKET"):
    STORAGES["default"] = s3_storage(os.environ)

WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Source maps (14 MB of the API docs' and the admin's 25 MB) are for browsers' developer tools only:
# compressing them would double collectstatic's time for files nobody downloads.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: this many failed logins of one username from one address
# within the window lock that pair out until the oldest failure leaves it.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))

# --- Logging ----------------------------------------------------------------------------
# To stderr, where gunicorn (and any process manager) collects it. A request that fails with a 5xx
# is one record of django.request, at ERROR, with its traceback; 4xx answers are the client's doing
# and are not logged, but for the suspicious ones (a bad Host, a body too large), one WARNING line
# each. LOG_LEVEL sets the level of everything else (ours and Django's). Django's own handlers (the
# console with DEBUG on, mail_admins) are replaced, so nothing is written twice; gunicorn's loggers
# do not propagate to the root, so its own messages stay as they were.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper()


def suspicious_request_in_one_line(record) -> bool:
    """Keep a django.security record as a one-line warning: its traceback says nothing about our code."""
    if record.name.startswith("django.security."):
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # gunicorn's format, with the logger's name.
        "plain": {"format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
                  "datefmt": "%Y-%m-%d %H:%M:%S %z"},
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain",
                            "filters": [suspicious_request_in_one_line]}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.request": {"handlers": [], "level": "ERROR", "propagate": True},
        # WeasyPrint says at INFO each of its steps for every PDF, and fontTools each font it subsets.
        "weasyprint": {"handlers": [], "level": "WARNING", "propagate": True},
        "fontTools": {"handlers": [], "level": "WARNING", "propagate": True},
        # The factur-x library says at INFO each step of every Factur-X download.
        "factur-x": {"handlers": [], "level": "WARNING", "propagate": True},
    },
}

# --- Background jobs ----------------------------------------------------------------------
# Django's tasks framework on django-tasks-db: a job is a row of this database, taken by
# `manage.py worker` with SELECT ... FOR UPDATE SKIP LOCKED; any number of workers share the queue.
# Jobs are enqueued inside the transaction that needs them: they exist exactly when it commits.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A billing run whose worker has said nothing for this long is taken to be lost (killed, its machine
# gone) and is resumed by any other worker; resuming one that was only slow is harmless.
JOB_STALL_SECONDS = int(os.environ.get("JOB_STALL_SECONDS", "60"))
# Jobs queued per billing run step: up to this many workers share one run (README, Deploy).
RUN_JOBS_PER_STEP = int(os.environ.get("RUN_JOBS_PER_STEP", "4"))

# --- Email ----------------------------------------------------------------------------------
# Django 6.1's mailers. Printed to the worker's output unless EMAIL_HOST names an SMTP server
# (README, Deploy); EMAIL_BACKEND names another backend outright.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    MAILERS = {"default": {
        "BACKEND": os.environ.get("EMAIL_BACKEND") or "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": EMAIL_HOST,
            "port": int(os.environ.get("EMAIL_PORT", "25")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
            "use_ssl": env_bool("EMAIL_USE_SSL", False),
            "timeout": int(os.environ.get("EMAIL_TIMEOUT", "30")),
        },
    }}
else:
    # Headers, text and one line per attachment: not the invoice's PDF as pages of base64.
    MAILERS = {"default": {"BACKEND": os.environ.get("EMAIL_BACKEND") or "core.mail.ConsoleBackend"}}
del EMAIL_HOST  # read from MAILERS only: the EMAIL_* settings are deprecated in Django 6.1

# Billing: one day of work is this many hours (the "day" unit of products and lines).
HOURS_PER_DAY = int(os.environ.get("HOURS_PER_DAY", "8"))

REST_FRAMEWORK = {
    # Token first: an anonymous request is then told how to authenticate (401, not 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser, refusing bodies nested too deep with a 400 as it does every other unreadable body.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk billing API",
    "DESCRIPTION": "Log time on tickets, follow Delivered on sales order lines, create, post and send invoices, "
                   "and run the month-end billing over many orders in the background (billing-runs). "
                   "Managers approve or reject time (timesheets/approve/, timesheets/reject/); on teams invoicing "
                   "approved timesheets only, Delivered counts approved time. Accountants write time off a draft "
                   "as No charge (invoices/{id}/write-off/). "
                   "Time has a work type (work-types/: billable, non-billable, no charge); an order's agent_rates "
                   "and work_type_rates decide which of its lines time bills; a product rounds per entry or per "
                   "ticket with a minimum, and every invoice line says why it bills what it bills (explanation). "
                   "sale-orders/{id}/invoice-preview/ shows what Create Invoice would do, creating nothing. "
                   "Authenticate with `Authorization: Token <key>` "
                   "(`python manage.py drf_create_token <username>` makes a key).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components: read-only fields are not asked for.
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs' JavaScript and CSS come from drf-spectacular-sidecar: they work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SaleOrderStateEnum": "sales.models.SaleOrder.State",
        "InvoiceStateEnum": "invoicing.models.Invoice.State",
        "InvoiceKindEnum": "invoicing.models.Invoice.Kind",
        "ServicePolicyEnum": "sales.models.ServicePolicy",
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "PaymentStateEnum": "invoicing.models.PaymentState",
        "PaymentMethodEnum": "invoicing.models.Payment.Method",
    },
}

# The company that issues invoices is configured in the admin (sales.Company), not here.
# Invoices and reminders are sent from this address; replies go to the company's email.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "billing@example.com")
# When the daily payment reminders job runs, local time (invoicing.reminders).
REMINDERS_AT = os.environ.get("REMINDERS_AT", "07:00")
