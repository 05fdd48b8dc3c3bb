"""Base settings, read from the environment (12-factor).

DATABASE_URL  default: a SQLite file under var/
DATABASE_REPLICA_URL  optional: a read replica for pages' reads (governance.db_router)
REDIS_URL     default: unset, Celery then uses kombu's filesystem transport under var/
SECRET_KEY    a development default that is refused when DEBUG is off
PII_ENCRYPTION_KEYS, PII_HASH_KEY  the same (personal data at rest, grids/pii.py)
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("GRIDWORK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    REDIS_URL=(str, ""),
)

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development default while DEBUG is off: "
        "set SECRET_KEY in the environment."
    )

# Personal data at rest (grids/pii.py, docs/operations.md "Key rotation"): the
# ID-card number is encrypted under the first of PII_ENCRYPTION_KEYS (every key
# decrypts), and found by its HMAC under PII_HASH_KEY. The development keys are
# derived from the development SECRET_KEY and refused, like it, when DEBUG is off.
DEV_PII_ENCRYPTION_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"gridwork-pii-encryption:" + DEV_SECRET_KEY.encode()).digest()
).decode()
DEV_PII_HASH_KEY = hashlib.sha256(
    b"gridwork-pii-hash:" + DEV_SECRET_KEY.encode()
).hexdigest()
PII_ENCRYPTION_KEYS = env.list("PII_ENCRYPTION_KEYS", default=[DEV_PII_ENCRYPTION_KEY])
PII_HASH_KEY = env("PII_HASH_KEY", default=DEV_PII_HASH_KEY)
if not DEBUG and (
    DEV_PII_ENCRYPTION_KEY in PII_ENCRYPTION_KEYS or PII_HASH_KEY == DEV_PII_HASH_KEY
):
    raise ImproperlyConfigured(
        "PII_ENCRYPTION_KEYS or PII_HASH_KEY is the development default while "
        "DEBUG is off: set both in the environment (docs/operations.md)."
    )
# An export of personal data with more rows than this needs a reason, even masked.
PII_EXPORT_REASON_ROWS = env.int("PII_EXPORT_REASON_ROWS", default=200)
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "mptt",
    "import_export",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # django-axes, under a Chinese name in the admin.
    "governance.apps.AxesConfig",
    "simple_history",
    "django_htmx",
    "grids",
    "partyorg",
    "points",
    "tickets",
    "governance.apps.GovernanceConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "governance.middleware_security.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "governance.request_limits.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Names the signed-in user on the history rows a request's saves write
    # (grids.history; a service's own actor takes precedence).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: the phone pages answer htmx requests with a partial.
    "django_htmx.middleware.HtmxMiddleware",
    "governance.middleware_security.SessionTimeoutMiddleware",
    "governance.middleware_security.StaffOtpMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # GET/HEAD reads outside transactions may go to the read replica, if any.
    "governance.db_router.ReplicaReadsMiddleware",
    # Near the end, so that a timed-out lock wait in a view becomes a translated page.
    "governance.middleware.DatabaseTimeoutsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'gridwork.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server, the worker and beat share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A PostgreSQL read replica (streaming replication of the primary) for the reads
# of pages outside transactions: lists and dashboards (governance.db_router).
# Writes, services, jobs and commands use the primary only.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["ATOMIC_REQUESTS"] = False
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"].get("CONN_MAX_AGE", 0)
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# The hottest statements (grids.prepared) as server-side prepared statements on
# PostgreSQL: parsed and planned once per connection. Off behind a pooler that
# spreads one client's statements over several server connections (PgBouncer
# in transaction mode).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DATABASE_REPLICA_READS = env.bool(
    "DATABASE_REPLICA_READS", default=bool(DATABASE_REPLICA_URL)
)
# After a browser writes, its pages read the primary for this long, so what it
# saved is on the next page even if the replica lags.
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=5)
DATABASE_ROUTERS = ["governance.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "grids.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Phone pages (/m/) send an anonymous visitor to the phone login instead
# (grids.phone.phone_login_required).
PHONE_LOGIN_URL = "m:login"
# How long a phone form's idempotency key is remembered (grids.idempotency).
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=72)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "governance" / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads. A request whose declared body is over UPLOAD_MAX_REQUEST_BYTES is
# refused (413) before Django reads it (governance.media.RequestBodyLimitMiddleware;
# the front proxy's client_max_body_size should match). Each photo is then capped
# in bytes before Pillow opens it and in pixels before it is decoded
# (grids.photos). Uploads above FILE_UPLOAD_MAX_MEMORY_SIZE stream to a temporary
# file instead of memory; form fields (no files) are capped at
# DATA_UPLOAD_MAX_MEMORY_SIZE, and one request carries at most
# DATA_UPLOAD_MAX_NUMBER_FILES files.
UPLOAD_MAX_IMAGE_BYTES = env.int("UPLOAD_MAX_IMAGE_BYTES", default=8 * 1024 * 1024)
UPLOAD_MAX_IMAGE_PIXELS = env.int("UPLOAD_MAX_IMAGE_PIXELS", default=40_000_000)
UPLOAD_MAX_REQUEST_BYTES = env.int("UPLOAD_MAX_REQUEST_BYTES", default=48 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# Photos are served by governance.media (login and the record's scope). Behind
# nginx, set this to the prefix of an `internal` location aliased to MEDIA_ROOT
# (e.g. /protected-media/): the view then answers with X-Accel-Redirect and nginx
# sends the bytes. Empty: the view streams the file itself.
MEDIA_ACCEL_REDIRECT_PREFIX = env.str("MEDIA_ACCEL_REDIRECT_PREFIX", default="")

# --- Cache --------------------------------------------------------------------
# Counters that must hold across server processes (the residents' report form's
# rate limits) live in the cache: Redis when configured, else this process's
# memory (one process in development).
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache, degrading to "missing" while Redis is down
            # (governance/cache.py): no page fails because the cache is gone.
            "BACKEND": "governance.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "gridwork",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    # No server needed: kombu's filesystem transport works across processes.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = None
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # exchange bindings; kombu's default is ./control in the working directory
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker keeps the LOGGING below (every handler scrubs personal data) instead
# of replacing the root logger's handlers with its own (governance/celery.py).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Queues per job kind (docs/scaling.md), so that a long import never delays an
# escalation and each kind can get its own worker nodes. Names are globs over
# task names; a task that matches none goes to the default queue (recounts,
# points). `make run` and docker-compose's worker consume every queue listed in
# WORKER_QUEUES; a larger site starts one worker per queue.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    # Deadlines: escalation, reminders, 未评价 marking.
    "tickets.tasks.escalate_overdue": {"queue": "deadlines"},
    "tickets.tasks.send_reminders": {"queue": "deadlines"},
    "tickets.tasks.mark_unevaluated": {"queue": "deadlines"},
    # Imports and exports of files (background jobs of many rows).
    "grids.tasks.run_data_job": {"queue": "io"},
    "grids.tasks.data_jobs_*": {"queue": "io"},
    "*.tasks.import_*": {"queue": "io"},
    "*.tasks.export_*": {"queue": "io"},
    # Notifications and SMS.
    "*.tasks.notify_*": {"queue": "notifications"},
    "*.tasks.send_sms*": {"queue": "notifications"},
    "governance.tasks.survey_send_links": {"queue": "notifications"},
    "governance.tasks.weekly_bulletins_send": {"queue": "notifications"},
    "*.tasks.*notification*": {"queue": "notifications"},
    # 12345 callbacks (the platform's outbox) and their sweep.
    "tickets.tasks.hotline_*": {"queue": "notifications"},
}
WORKER_QUEUES = ("celery", "deadlines", "io", "notifications")

# --- Reliability: web timeouts, jobs in short transactions, Celery delivery ------
# (issue 9, finding 6; kept together.) A web request waits at most this long for a
# row lock, then the user is told the record is busy (grids.db.RecordBusy), and
# runs one statement at most this long; set per request on PostgreSQL by
# governance.middleware.DatabaseTimeoutsMiddleware. Celery jobs and commands have
# no such limit. 0 turns a limit off.
WEB_DB_LOCK_TIMEOUT_MS = env.int("WEB_DB_LOCK_TIMEOUT_MS", default=3000)
WEB_DB_STATEMENT_TIMEOUT_MS = env.int("WEB_DB_STATEMENT_TIMEOUT_MS", default=30000)
# The periodic ticket jobs (escalation, reminders, 未评价) lock and change at most
# this many tickets per transaction, so a web request never waits behind a whole
# backlog (bench, 100,104 overdue on a busy machine: a batch of 1,000 held its rows
# up to 7 s, a 接单's lock waited at most 2.8 s). Supervisors get one digest per
# escalation run, and a unit's staff at most this many per-ticket escalation
# notices per run (then the digest).
TICKETS_ESCALATION_BATCH = env.int("TICKETS_ESCALATION_BATCH", default=500)
TICKETS_ESCALATION_TICKET_NOTICES = env.int(
    "TICKETS_ESCALATION_TICKET_NOTICES", default=20
)
# A task is acknowledged only when it has finished, and put back on the queue if
# its worker dies mid-run (the jobs are idempotent and commit batch by batch, so
# the rerun finishes without doubling anything); one task at a time per worker
# process. A hard limit ends a runaway task well before the broker's visibility
# timeout would hand it to a second worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose broker connection dropped cannot be acknowledged any more: stop it,
# it is redelivered (and would otherwise run twice).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=50 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=55 * 60)
if REDIS_URL:
    # Seconds an unacknowledged task stays with its worker before Redis redelivers
    # it: longer than the hard time limit, so only a dead worker's task comes back.
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60
    )
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    }
_visibility_timeout = CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
if _visibility_timeout is not None and _visibility_timeout <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_TASK_TIME_LIMIT must be shorter than CELERY_VISIBILITY_TIMEOUT, or "
        "a task still running is delivered to a second worker."
    )

# --- REST framework ------------------------------------------------------------
# docs/api.md. API tokens (grids.ApiToken): valid this long unless the admin
# says otherwise, and never longer than the maximum.
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=180)
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=730)
REST_FRAMEWORK = {
    # The token first: a request without credentials is then a 401 that names
    # the scheme (WWW-Authenticate), not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "grids.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Counted per token (else per account, else per address) in the cache: Redis
    # when REDIS_URL is set, so all server processes count together.
    "DEFAULT_THROTTLE_CLASSES": [
        "grids.api.throttling.TokenRateThrottle",
        "grids.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
        "write": env.str("API_THROTTLE_WRITE", default="600/min"),
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # django-filter with the acting user passed to the shared FilterSets.
    "DEFAULT_FILTER_BACKENDS": ["grids.api.filters.ActorFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "grids.api.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every error as {"code", "message", "extra"} with a 4xx status.
    "EXCEPTION_HANDLER": "grids.api.errors.api_exception_handler",
}
# OpenAPI 3 at /api/schema/, its docs at /api/docs/ (Swagger UI served from our
# own static files by drf-spectacular-sidecar: no CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "Gridwork API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "Party-led grid governance: regions, rosters, households, tickets. "
        "Authenticate with `Authorization: Token <key>` (a key made in the admin). "
        "Every error is `{code, message, extra}` with a 4xx status; every POST "
        "accepts an `Idempotency-Key` header. See docs/api.md."
    ),
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "tickets.choices.Stage",
        "VerdictEnum": "tickets.choices.Verdict",
        "ResidentVerdictEnum": "tickets.choices.RESIDENT_VERDICTS",
        # A rating's class and computed class share one choice set, and its
        # state is named apart from the other models' states.
        "RatingClassEnum": "governance.models.RatingClass",
        "RatingStateEnum": "governance.models.RatingState",
    },
    "PREPROCESSING_HOOKS": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "grids.api.schema.add_error_components",
    ],
}

# --- 12345 hotline platform (docs/hotline.md) -------------------------------------
# A signed push whose timestamp is further than this from our clock is refused.
HOTLINE_SIGNATURE_WINDOW_SECONDS = env.int(
    "HOTLINE_SIGNATURE_WINDOW_SECONDS", default=300
)
# Callbacks: tried this many times, waiting base × 2^(n−1) seconds (capped)
# between attempts, then dead (resent from the admin).
HOTLINE_MAX_ATTEMPTS = env.int("HOTLINE_MAX_ATTEMPTS", default=8)
HOTLINE_RETRY_BASE_SECONDS = env.int("HOTLINE_RETRY_BASE_SECONDS", default=30)
HOTLINE_RETRY_MAX_SECONDS = env.int("HOTLINE_RETRY_MAX_SECONDS", default=6 * 3600)
HOTLINE_CALLBACK_TIMEOUT_SECONDS = env.int(
    "HOTLINE_CALLBACK_TIMEOUT_SECONDS", default=10
)

# --- Security (login, sessions, cookies, headers; docs/operations.md) ----------
# Kept together; the upload, Celery and logging blocks live elsewhere in this file.
BEHIND_HTTPS_PROXY = env.bool("BEHIND_HTTPS_PROXY", default=False)
_SECURE_DEFAULT = BEHIND_HTTPS_PROXY or not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_SECURE_DEFAULT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_SECURE_DEFAULT)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Signed links carry tokens in the path: never send the path to another site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if BEHIND_HTTPS_PROXY:
    # The proxy terminates TLS and says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
    )
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    # The proxy's health checks and internal calls use plain HTTP on these paths.
    SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[])

# Sessions: phones are shared by grid workers, so a short idle timeout; staff
# sessions end after a working day whatever happens (governance.middleware_security).
SESSION_IDLE_TIMEOUT_GRID_WORKER = timedelta(
    minutes=env.int("SESSION_IDLE_TIMEOUT_GRID_WORKER_MINUTES", default=30)
)
SESSION_ABSOLUTE_TIMEOUT_GRID_WORKER = timedelta(
    hours=env.int("SESSION_ABSOLUTE_TIMEOUT_GRID_WORKER_HOURS", default=12)
)
SESSION_IDLE_TIMEOUT_STAFF = timedelta(
    minutes=env.int("SESSION_IDLE_TIMEOUT_STAFF_MINUTES", default=120)
)
SESSION_ABSOLUTE_TIMEOUT_STAFF = timedelta(
    hours=env.int("SESSION_ABSOLUTE_TIMEOUT_STAFF_HOURS", default=8)
)
SESSION_COOKIE_AGE = int(
    max(
        SESSION_ABSOLUTE_TIMEOUT_GRID_WORKER, SESSION_ABSOLUTE_TIMEOUT_STAFF
    ).total_seconds()
)

# Failed logins (django-axes): 5 failures for one username from one address lock
# that pair out for 30 minutes; street staff unlock in the admin (账号 → 解除登录锁定).
AUTHENTICATION_BACKENDS = [
    "governance.auth_backends.AxesBackend",
    # Django's ModelBackend, loading the user's Region with the user.
    "governance.auth_backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "governance.views.login_locked"
AXES_VERBOSE = False
# Behind the proxy the client's address is the one it appended last to
# X-Forwarded-For (what the client itself sent there is not trusted).
AXES_IPWARE_PROXY_COUNT = 1 if BEHIND_HTTPS_PROXY else None
AXES_IPWARE_PROXY_ORDER = "right-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if BEHIND_HTTPS_PROXY else ["REMOTE_ADDR"]
)

# Second factor (django-otp, TOTP): staff who enrolled a device verify it before
# the admin; with STAFF_REQUIRE_OTP every staff account must enrol first.
STAFF_REQUIRE_OTP = env.bool("STAFF_REQUIRE_OTP", default=False)
OTP_TOTP_ISSUER = "Gridwork"
# A device's secret and QR code are shown once, to its owner, at enrolment; the
# admin never shows them (its config/QR pages also looked the device up before
# checking rights: a 500 for a missing one).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Content security policy (django-csp): only this site's own files; no inline
# scripts or styles, no frames, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # django-mptt's admin lists indent the tree with style attributes; an
        # attribute cannot run script or select elements, and images still
        # come only from img-src. <style> elements stay refused.
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# Camera (photos of a patrol or a wish) and location (patrol points) for this
# site only; every other powerful feature off.
PERMISSIONS_POLICY = {
    "camera": ["self"],
    "geolocation": ["self"],
    "microphone": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "bluetooth": [],
    "midi": [],
    "display-capture": [],
    "fullscreen": ["self"],
}
# --- end of the security section --------------------------------------------------

# Every handler scrubs ID numbers, phone numbers and link tokens from the records
# and logs a 403 without its traceback (governance.logging). A handler added here
# needs the "scrub" filter too (tests/security/test_logging.py checks).
# Django's own handlers (its DEBUG-only console, mail_admins with no ADMINS, the
# runserver log) are replaced so that nothing bypasses the filter.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "governance.logging.ScrubPersonalDataFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["scrub"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["scrub"],
        },
    },
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Record history (django-simple-history, grids.history) ------------------------
# History is read-only: the admin's history pages never offer "Revert" (writes
# go through the services), and a POST to them is refused.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_EDIT = False

# --- Text messages (grids.sms) ------------------------------------------------------
# The sender, by dotted path: the default writes to the log (masked number, link
# token removed) and sends nothing; a provider's adapter subclasses
# grids.sms.BaseSmsBackend and gets SMS_BACKEND_OPTIONS (JSON) as keyword arguments.
# A path that does not import, or options it refuses, stop manage.py at start.
SMS_BACKEND = env.str("SMS_BACKEND", default="grids.sms.LoggingSmsBackend")
SMS_BACKEND_OPTIONS = env.json("SMS_BACKEND_OPTIONS", default={})

# --- Import/export --------------------------------------------------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Background import and export jobs (grids.DataJob, grids.services.datajobs).
# Their files (the uploaded file, the exported one) live here, outside MEDIA_ROOT:
# only the job's own download view serves them, to the job's submitter.
DATA_JOBS_DIR = Path(env.str("DATA_JOBS_DIR", default=str(VAR_DIR / "jobs")))
# An import of at most this many rows runs in the request (same service);
# a bigger one waits for a Celery worker with a progress bar.
DATA_JOB_INLINE_ROWS = env.int("DATA_JOB_INLINE_ROWS", default=200)
# The largest file accepted, in bytes and in data rows.
DATA_JOB_MAX_UPLOAD_BYTES = env.int(
    "DATA_JOB_MAX_UPLOAD_BYTES", default=40 * 1024 * 1024
)
DATA_JOB_MAX_ROWS = env.int("DATA_JOB_MAX_ROWS", default=200_000)
# Rows per chunk between two progress updates; row errors kept per job.
DATA_JOB_CHUNK_ROWS = env.int("DATA_JOB_CHUNK_ROWS", default=500)
DATA_JOB_MAX_ERRORS = env.int("DATA_JOB_MAX_ERRORS", default=500)
# Files of finished jobs are removed after this many hours (data_jobs_cleanup).
DATA_JOB_RETENTION_HOURS = env.int("DATA_JOB_RETENTION_HOURS", default=72)
# A job still queued this long had its task lost (the broker was down when it
# was submitted): the periodic sweep sends it again (grids/broker.py).
DATA_JOB_REQUEUE_MINUTES = env.int("DATA_JOB_REQUEUE_MINUTES", default=10)

# --- Domain settings ---------------------------------------------------------------
# 微心愿: a posted wish nobody has claimed for this many days is flagged.
PARTYORG_WISH_STALE_DAYS = env.int("PARTYORG_WISH_STALE_DAYS", default=7)
# 吹哨报到: a summons still pending this many minutes after the whistle's time to
# report is marked absent (until then a late arrival is recorded as late).
PARTYORG_WHISTLE_ABSENT_GRACE_MINUTES = env.int(
    "PARTYORG_WHISTLE_ABSENT_GRACE_MINUTES", default=60
)
# The 15-minute service circle (seed 002): walking distance is approximated as the
# straight-line (haversine) distance times a detour factor, at a walking speed.
SERVICE_CIRCLE_MINUTES = env.int("SERVICE_CIRCLE_MINUTES", default=15)
SERVICE_CIRCLE_WALK_KMH = env.float("SERVICE_CIRCLE_WALK_KMH", default=5.0)
SERVICE_CIRCLE_DETOUR_FACTOR = env.float("SERVICE_CIRCLE_DETOUR_FACTOR", default=1.3)
# 12345 tickets: reminders this many working hours before a stage deadline; a
# handled ticket waits this many working days for the resident's verdict before it
# is marked 未评价; the signed evaluation link lives this many days.
TICKETS_REMINDER_WORKING_HOURS = env.float("TICKETS_REMINDER_WORKING_HOURS", default=4)
TICKETS_EVALUATION_WORKING_DAYS = env.int("TICKETS_EVALUATION_WORKING_DAYS", default=3)
TICKETS_EVALUATION_LINK_MAX_AGE_DAYS = env.int(
    "TICKETS_EVALUATION_LINK_MAX_AGE_DAYS", default=14
)
# After the resident's verdict, the evaluation page shows one more link built by
# this function (dotted path; empty: none): the residents' survey of the
# ticket's grid (以下评上). tickets never imports governance: the page reaches it
# through this setting only.
TICKETS_AFTER_VERDICT_LINK = env.str(
    "TICKETS_AFTER_VERDICT_LINK", default="governance.survey.ticket_survey_link"
)
# The ticket's pages (staff and phone) show one more button built by this
# function (dotted path; empty: none): "make it a deliberation topic" (partyorg,
# which tickets never imports), called with (ticket, user), returning
# (label, url) or None.
TICKETS_TOPIC_LINK = env.str(
    "TICKETS_TOPIC_LINK", default="partyorg.deliberation.links.ticket_topic_link"
)
# 以下评上: a survey link takes answers for this many days (a quarter's fits);
# the survey SMS go out on this day of the month, at 10:00 (schedules.py).
SURVEY_LINK_MAX_AGE_DAYS = env.int("SURVEY_LINK_MAX_AGE_DAYS", default=120)
# The site's address the survey links sent by SMS start with.
SITE_BASE_URL = env.str("SITE_BASE_URL", default="http://localhost:8000")
# Sending the link by SMS: the same round's link to the same number is not sent
# again within this many minutes unless staff ask for it (a double click sends once).
TICKETS_EVALUATION_LINK_RESEND_MINUTES = env.int(
    "TICKETS_EVALUATION_LINK_RESEND_MINUTES", default=10
)
# A resident's messages through the link: at most this many per evaluation round,
# and this many a minute to one ticket.
TICKETS_EVALUATION_MAX_MESSAGES = env.int("TICKETS_EVALUATION_MAX_MESSAGES", default=5)
TICKETS_EVALUATION_MESSAGES_PER_MINUTE = env.int(
    "TICKETS_EVALUATION_MESSAGES_PER_MINUTE", default=2
)
# Likely duplicates at intake: same grid and category, this close, this recent.
TICKETS_DUPLICATE_RADIUS_M = env.int("TICKETS_DUPLICATE_RADIUS_M", default=200)
TICKETS_DUPLICATE_WINDOW_DAYS = env.int("TICKETS_DUPLICATE_WINDOW_DAYS", default=7)
# 码上办 (residents' reports from a grid's QR poster): reports allowed per client
# address and per phone in their windows, the window in which the same text in
# the same grid is a duplicate, and how long the tracking link stays valid.
TICKETS_SELF_REPORT_PER_IP = env.int("TICKETS_SELF_REPORT_PER_IP", default=5)
TICKETS_SELF_REPORT_IP_WINDOW_MINUTES = env.int(
    "TICKETS_SELF_REPORT_IP_WINDOW_MINUTES", default=60
)
TICKETS_SELF_REPORT_PER_PHONE = env.int("TICKETS_SELF_REPORT_PER_PHONE", default=3)
TICKETS_SELF_REPORT_PHONE_WINDOW_HOURS = env.int(
    "TICKETS_SELF_REPORT_PHONE_WINDOW_HOURS", default=24
)
TICKETS_SELF_REPORT_DUPLICATE_HOURS = env.int(
    "TICKETS_SELF_REPORT_DUPLICATE_HOURS", default=24
)
# Seconds a resident must spend on the form before a report counts (bots fill
# it at once).
TICKETS_SELF_REPORT_MIN_FILL_SECONDS = env.int(
    "TICKETS_SELF_REPORT_MIN_FILL_SECONDS", default=3
)
TICKETS_TRACKING_LINK_MAX_AGE_DAYS = env.int(
    "TICKETS_TRACKING_LINK_MAX_AGE_DAYS", default=365
)
# 考单: weights of satisfaction, timeliness and effect in the total score.
TICKETS_ASSESSMENT_WEIGHTS = (0.4, 0.3, 0.3)
# Points: how long a resident's signed statement link stays valid.
POINTS_STATEMENT_LINK_MAX_AGE = timedelta(
    days=env.int("POINTS_STATEMENT_LINK_MAX_AGE_DAYS", default=90)
)
# Points: how far back a deed may be dated, at proposal and at approval.
POINTS_DEED_MAX_AGE_DAYS = env.int("POINTS_DEED_MAX_AGE_DAYS", default=90)
