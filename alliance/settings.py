"""Alliance settings: one module, read from the environment.

The README's configuration table lists every variable. Defaults suit the quick start
(DEBUG on, SQLite, tasks in-process); a production deployment sets DEBUG=0 and must then
give SECRET_KEY and ALLOWED_HOSTS, or start-up stops with a message naming what is missing.
"""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import django_stubs_ext
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from alliance import env
from alliance.observability import logs as observability_logs
from alliance.partners.catalogue import SCOPES as PARTNER_SCOPES

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.boolean("DEBUG", False)

if DEBUG:
    SECRET_KEY = env.string("SECRET_KEY", "django-insecure-quick-start-only")
else:
    SECRET_KEY = env.string("SECRET_KEY")
    if SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be at least 50 random characters when DEBUG is off."
        )

ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off (comma-separated).")
CSRF_TRUSTED_ORIGINS = env.string_list("CSRF_TRUSTED_ORIGINS", [])
for origin in CSRF_TRUSTED_ORIGINS:
    if not origin.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entry {origin!r} must include the scheme (https://...)."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "oauth2_provider",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_htmx",
    "template_partials",
    "csp",
    # Before audit, so its failed-sign-in handler runs first and the audit event can say
    # that a refusal was a lockout (audit.signals).
    "axes",
    "alliance",
    "alliance.webhooks",
    "audit",
    "consortia",
    "agreements",
    "compute",
    "alliance.partners",
    # Single sign-on through each organisation's OpenID provider (alliance/sso).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "alliance.sso",
]

MIDDLEWARE = [
    # Outermost: request metrics and the log context (request id, user, path) for all below;
    # then the probes and /metrics, answered before host validation and the HTTPS redirect.
    "alliance.observability.middleware.RequestObservabilityMiddleware",
    "alliance.observability.middleware.OperationsEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions (it reads the language the person chose) and before CommonMiddleware
    # (which may redirect and must see the activated language).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "alliance.denials.DenialAuditMiddleware",
    # After authentication, as django-axes requires: turns a lockout into alliance.lockout's page.
    "axes.middleware.AxesMiddleware",
    # Last, so it sees a view's exception first: a lost database answers 503.
    "alliance.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "alliance.urls"
WSGI_APPLICATION = "alliance.wsgi.application"
ASGI_APPLICATION = "alliance.asgi.application"

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
                "consortia.context_processors.inbox_summary",
            ],
        },
    },
]

DATABASES = {"default": env.database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.integer("CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The hottest statements (alliance.compiled's prepared=True queries, the compliance gate's
# write) are prepared once per connection; off behind a connection pooler in transaction mode
# (PgBouncer), which keeps no prepared statement from one transaction to the next.
ALLIANCE_PREPARED_STATEMENTS = env.boolean("ALLIANCE_PREPARED_STATEMENTS", True)
if ALLIANCE_PREPARED_STATEMENTS and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # psycopg prepares nothing while this is None, Django's default. Django's own cursors bind
    # parameters on the client, which psycopg never prepares, so this reaches only the queries
    # that ask for it; 5 is psycopg's own default.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "consortia.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user would be a user without an organisation; Alliance has none.
ANONYMOUS_USER_NAME = None
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Sign-in throttling (django-axes, alliance/lockout.py): after this many failed sign-ins for
# one username from one address, that pair is refused for the cool-off, right password or not.
LOGIN_FAILURE_LIMIT = env.integer("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env.integer("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The pause ends when the page says, however often someone tries meanwhile (the tries are
# still refused and audited).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "audit.middleware.client_address"
AXES_LOCKOUT_CALLABLE = "alliance.lockout.locked_out"
# Sign-ins are already in the audit log; axes keeps only its failure counts.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
# English first (the default); French is the first further EU language. The language comes
# from the browser's Accept-Language or the switcher in base.html (a session/cookie choice).
# URLs carry no language prefix: the API under /api/v1/ stays the same for machine clients.
LANGUAGES = [("en-gb", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.string("MEDIA_ROOT", str(BASE_DIR / "media")))

# Security: strict unless DEBUG; each can be relaxed explicitly behind a TLS-terminating proxy.
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env.boolean("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.boolean("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp): everything from this deployment and nothing inline,
# so an injected <script> or style cannot run. htmx is told not to add its indicator <style>
# (templates/base.html), charts take their styles from css/charts.css (alliance/charts.py),
# and the one page that needs more says so itself (alliance/api/doc_pages.py). SVG charts
# and the favicon are same-origin; Swagger UI draws a few icons as data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
_proxy_ssl_header = env.optional_string("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header is not None:
    # e.g. "HTTP_X_FORWARDED_PROTO": trusted only because the operator says the proxy sets it.
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https")

# The request header a trusted reverse proxy sets to the client's address, as Django names it
# in request.META (e.g. HTTP_X_REAL_IP). Unset: REMOTE_ADDR. Never trust X-Forwarded-For
# unless a proxy you run overwrites it.
AUDIT_CLIENT_ADDRESS_HEADER = env.optional_string("AUDIT_CLIENT_ADDRESS_HEADER")
if AUDIT_CLIENT_ADDRESS_HEADER is not None and not AUDIT_CLIENT_ADDRESS_HEADER.startswith("HTTP_"):
    raise ImproperlyConfigured(
        "AUDIT_CLIENT_ADDRESS_HEADER must be a request.META key such as HTTP_X_REAL_IP."
    )

# The Ed25519 key that signs audit checkpoints; created on first use. Keep it out of backups
# that leave the deployment, and back it up inside it: losing it means new checkpoints are
# signed by a new key (old ones stay verifiable with the old public key).
AUDIT_SIGNING_KEY_PATH = Path(
    env.string("AUDIT_SIGNING_KEY_PATH", str(BASE_DIR / "var" / "audit-signing-key.pem"))
)
# Exports of the audit log are written here.
AUDIT_EXPORT_ROOT = Path(env.string("AUDIT_EXPORT_ROOT", str(MEDIA_ROOT / "audit-exports")))

# The public address of this deployment, for identifiers that leave it (ODRL exports name
# agreements, clauses, parties and datasets by URL).
PUBLIC_BASE_URL = env.string(
    "PUBLIC_BASE_URL", "http://127.0.0.1:8000" if DEBUG else "https://" + ALLOWED_HOSTS[0]
).rstrip("/")

# Agreements expiring within this many days show on consortium pages and trigger a notice.
AGREEMENT_EXPIRY_WARNING_DAYS = env.integer("AGREEMENT_EXPIRY_WARNING_DAYS", 60, minimum=1)
# Uploads to the signed-PDF verifier are read in memory and refused above this size.
VERIFY_UPLOAD_MAX_BYTES = env.integer("VERIFY_UPLOAD_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)

# Tasks: with REDIS_URL they go to a real broker and worker; without, they run in-process,
# which is what the quick start needs and nothing else.
REDIS_URL = env.redis_url("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every task is idempotent (docs/DESIGN rule 4), so a message is acknowledged only once its
# task has run: a worker that dies mid-task leaves it on the broker for the next one. Tasks
# that must not run twice opt out (consortia.tasks.send_notice). Redelivery after a killed
# pool process (reject_on_worker_lost) is chosen per task, where a takeover is guarded.
CELERY_TASK_ACKS_LATE = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Longer than the slowest task, so a task acknowledged late is not redelivered while it runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = TIME_ZONE
DIGEST_HOUR_UTC = env.integer("DIGEST_HOUR_UTC", 6, minimum=0)
if DIGEST_HOUR_UTC > 23:
    raise ImproperlyConfigured(
        f"DIGEST_HOUR_UTC={DIGEST_HOUR_UTC} is not an hour of the day (0-23)."
    )
CELERY_BEAT_SCHEDULE = {
    "agreements-expiry": {
        "task": "agreements.tasks.agreements_expiry_sweep",
        "schedule": timedelta(hours=24),
    },
    "agreements-seal-sweep": {
        "task": "agreements.tasks.agreements_seal_sweep",
        "schedule": timedelta(minutes=5),
    },
    "audit-seal-checkpoints": {
        "task": "audit.tasks.audit_seal_checkpoints",
        "schedule": timedelta(minutes=env.integer("AUDIT_CHECKPOINT_MINUTES", 15, minimum=1)),
    },
    "idempotency-purge": {
        "task": "alliance.tasks.idempotency_purge",
        "schedule": timedelta(hours=24),
    },
    "personal-tokens-purge": {
        "task": "alliance.tasks.personal_tokens_purge",
        "schedule": timedelta(hours=24),
    },
    "compliance-sweep": {
        "task": "compute.tasks.compliance_sweep",
        "schedule": timedelta(hours=1),
    },
    "fair-share-alerts": {
        "task": "compute.tasks.fair_share_alerts",
        "schedule": timedelta(hours=24),
    },
    # At a fixed hour, so a digest arrives at the start of the working day, not 24 h after
    # whenever beat last started.
    "notifications-daily-digest": {
        "task": "consortia.tasks.notifications_daily_digest",
        "schedule": crontab(minute=0, hour=DIGEST_HOUR_UTC),
    },
    "health-check-daily": {
        "task": "consortia.tasks.health_check_daily",
        "schedule": timedelta(hours=24),
    },
    "motions-remind-closing": {
        "task": "consortia.tasks.motions_remind_closing",
        "schedule": timedelta(hours=1),
    },
    "motions-close-due": {
        "task": "consortia.tasks.motions_close_due",
        "schedule": timedelta(minutes=1),
    },
    "membership-invitation-sweep": {
        "task": "consortia.tasks.membership_invitation_sweep",
        "schedule": timedelta(minutes=10),
    },
}

if REDIS_URL is not None:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = env.string(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.string("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "alliance@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

REST_FRAMEWORK = {
    # Tokens first, so an anonymous API call is told 401 with a WWW-Authenticate challenge.
    # Partner clients' tokens are recognised by their prefix; people's go on to knox.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "alliance.partners.authentication.PartnerClientAuthentication",
        "alliance.personal_tokens.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "alliance.partners.scopes.ClientScopes",
    ],
    "DEFAULT_PAGINATION_CLASS": "alliance.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "alliance.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["alliance.throttling.PerMinute"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests a minute per person (or address) on the API; 0 turns the limit off.
API_RATE_LIMIT_PER_MINUTE = env.integer("API_RATE_LIMIT_PER_MINUTE", 1200, minimum=0)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(days=env.integer("API_TOKEN_TTL_DAYS", 90, minimum=1)),
    "AUTO_REFRESH": False,
}
# Partner clients (OAuth2 client credentials). Secrets are stored hashed; tokens live an hour
# and carry at most the scopes the client's organisation gave it.
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "alliance.partners.validator.PartnerValidator",
    "ACCESS_TOKEN_GENERATOR": "alliance.partners.authentication.generate_token",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.integer("PARTNER_TOKEN_TTL_SECONDS", 3600, minimum=60),
    "SCOPES": PARTNER_SCOPES,
    "DEFAULT_SCOPES": [],
    # RFC 9700 (the OAuth 2.0 security BCP) throughout: tokens stored as digests, none in
    # query strings, no implicit or password grants (only client credentials are used).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# DOT's own models, named so its swappable migrations resolve (none is swapped).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
PARTNER_CLIENT_MAX_DAYS = env.integer("PARTNER_CLIENT_MAX_DAYS", 730, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "Alliance API",
    "DESCRIPTION": "Governance of sovereign AI partnerships: consortia, agreements, compute, audit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Docs assets come from drf-spectacular-sidecar: nothing is fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "alliance.api.schema.safe_write_headers",
        "alliance.api.schema.problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ConsortiumStatusEnum": "consortia.models.Consortium.Status",
        "MembershipStatusEnum": "consortia.models.Membership.Status",
        "OrganisationKindEnum": "consortia.models.Organisation.Kind",
        "JurisdictionKindEnum": "consortia.models.Jurisdiction.Kind",
        "RoleEnum": "consortia.models.Role",
        "AgreementKindEnum": "agreements.models.AgreementKind",
        "AgreementStatusEnum": "agreements.models.Agreement.Status",
        "AgreementVersionStatusEnum": "agreements.models.AgreementVersion.Status",
        "ClauseKindEnum": "agreements.models.ClauseKind",
        "PartyRoleEnum": "agreements.models.PartyRole",
        "IPAssetKindEnum": "agreements.models.IPAssetKind",
        "SensitivityEnum": "agreements.models.Sensitivity",
    },
}

# Logs: JSON lines (LOG_FORMAT=json, the default unless DEBUG) or plain text, each record
# carrying the request id, user and path, or the task and the request that enqueued it
# (alliance/observability/logs.py).
LOG_FORMAT = observability_logs.log_format()
LOGGING = observability_logs.logging_config(LOG_FORMAT, env.string("LOG_LEVEL", "INFO"))

# PDF signing (agreements/pdfsign)
# Production seals with the PKCS#12 file in SIGNING_PKCS12_PATH. Without it, the demo CA in
# SIGNING_DEMO_DIR seals if someone made it (`manage.py signing_init`); only with DEBUG on is
# it made on first use, so a production deployment cannot seal with it by accident.
_signing_pkcs12_path = env.optional_string("SIGNING_PKCS12_PATH")
SIGNING_PKCS12_PATH = Path(_signing_pkcs12_path) if _signing_pkcs12_path else None
SIGNING_PKCS12_PASSPHRASE = env.optional_string("SIGNING_PKCS12_PASSPHRASE")
SIGNING_DEMO_DIR = Path(env.string("SIGNING_DEMO_DIR", BASE_DIR / "var" / "signing-demo"))
# A PEM bundle of further CAs trusted when verifying: the production CA's root if the PKCS#12
# file lacks it, the timestamp authority's root, the CAs of partner organisations.
_signing_trust_roots = env.optional_string("SIGNING_TRUST_ROOTS")
SIGNING_TRUST_ROOTS = Path(_signing_trust_roots) if _signing_trust_roots else None
SIGNING_TSA_URL = env.optional_string("SIGNING_TSA_URL")
if SIGNING_TSA_URL is not None and not SIGNING_TSA_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("SIGNING_TSA_URL must be an http:// or https:// URL.")

# Webhooks (alliance/webhooks, docs/webhooks.md). Deliveries never go to private, loopback,
# link-local, multicast or reserved addresses, except inside these networks (comma-separated
# CIDRs): a receiver on the deployment's own network, or 127.0.0.0/8 for tests and benches.
# (Each entry is checked when the app starts: alliance.webhooks.apps.)
WEBHOOK_ALLOWED_PRIVATE_NETWORKS = env.string_list("WEBHOOK_ALLOWED_PRIVATE_NETWORKS", [])
WEBHOOK_CONNECT_TIMEOUT = env.integer("WEBHOOK_CONNECT_TIMEOUT", 3, minimum=1)
WEBHOOK_READ_TIMEOUT = env.integer("WEBHOOK_READ_TIMEOUT", 10, minimum=1)
WEBHOOK_MAX_RESPONSE_BYTES = env.integer("WEBHOOK_MAX_RESPONSE_BYTES", 64 * 1024, minimum=1024)
WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS = env.integer(
    "WEBHOOK_SECRET_ROTATION_OVERLAP_HOURS", 24, minimum=0
)
# A PEM file of further CAs trusted for https endpoints (a sovereign deployment's own CA).
WEBHOOK_CA_BUNDLE = env.optional_string("WEBHOOK_CA_BUNDLE")
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {
    "task": "alliance.webhooks.tasks.webhooks_sweep",
    "schedule": timedelta(minutes=1),
}

# Single sign-on (alliance/sso, docs/sso.md). django-allauth speaks OpenID Connect; each
# organisation's provider is one of its SocialApps, and Alliance's adapters decide who is
# linked and who is refused. Local accounts keep Django's own login page; allauth's account
# pages (signup, password reset, e-mail management) are not mounted, and its adapter keeps
# signup closed.
ACCOUNT_ADAPTER = "alliance.sso.adapters.LocalAccountAdapter"
SOCIALACCOUNT_ADAPTER = "alliance.sso.adapters.OrganisationProviderAdapter"
# Addresses come from the organisation's provider, which vouches for them; Alliance sends no
# confirmation mail, and two organisations' people may share an address.
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = False
# Never sign in, link or create by e-mail: only the (provider, subject) pair links an account.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10  # seconds for each call to a provider
# Issuers must be https; a provider on the loopback interface may use http only when this is
# on (development and tests).
SSO_ALLOW_LOOPBACK_HTTP_ISSUERS = env.boolean("SSO_ALLOW_LOOPBACK_HTTP_ISSUERS", DEBUG)

# Operations (alliance/observability, docs/operations.md "Health, logs and metrics").
# Celery workers write a heartbeat to Redis every WORKER_HEARTBEAT_INTERVAL seconds; /readyz
# fails when none is fresher than WORKER_HEARTBEAT_MAX_AGE.
WORKER_HEARTBEAT_INTERVAL = env.integer("WORKER_HEARTBEAT_INTERVAL", 10, minimum=1)
WORKER_HEARTBEAT_MAX_AGE = env.integer("WORKER_HEARTBEAT_MAX_AGE", 60, minimum=1)
if WORKER_HEARTBEAT_MAX_AGE <= WORKER_HEARTBEAT_INTERVAL:
    raise ImproperlyConfigured(
        f"WORKER_HEARTBEAT_MAX_AGE={WORKER_HEARTBEAT_MAX_AGE} must exceed "
        f"WORKER_HEARTBEAT_INTERVAL={WORKER_HEARTBEAT_INTERVAL}, or a live worker looks dead."
    )
# /metrics answers only direct requests from these networks (comma-separated CIDRs), and only
# with "Authorization: Bearer <token>" when METRICS_BEARER_TOKEN is set; others get a 404.
METRICS_ALLOWED_NETWORKS = tuple(
    env.string_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
)
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_NETWORKS entry {_network!r} is not a network such as 10.0.0.0/8."
        ) from None
METRICS_BEARER_TOKEN = env.optional_string("METRICS_BEARER_TOKEN")
