"""Test settings: the real settings module, with test-only defaults and speed-ups.

The suite runs against PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set (CI
does), and against SQLite with in-process tasks otherwise.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-" + "x" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from alliance.settings import *  # noqa: F403
from alliance.settings import DATABASES, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Webhook tests deliver to receivers on 127.0.0.1 (the bench allows the same).
WEBHOOK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests reuse user ids across rolled-back transactions and share one cache, so a limit would
# count one test's requests against the next; test_rate_limits.py turns it on where it tests it.
API_RATE_LIMIT_PER_MINUTE = 0

# Ordinary tests run tasks in-process; tests marked celery_integration start a real worker
# on the Redis broker (see tests/conftest.py).
CELERY_TASK_ALWAYS_EAGER = True
TEST_REDIS_URL = REDIS_URL

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Transactional tests end with a flush, which TRUNCATEs every table; the audit table's
    # trigger allows that only to a session that opts in. The application never does.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c alliance.audit_allow_truncate=on"
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Static files come from the finders (no collectstatic in tests).
STATIC_ROOT = None  # type: ignore[assignment]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# One signing key and export folder per test session, never the developer's own.
_SCRATCH = Path(tempfile.mkdtemp(prefix="alliance-tests-"))
AUDIT_SIGNING_KEY_PATH = _SCRATCH / "audit-signing-key.pem"
AUDIT_EXPORT_ROOT = _SCRATCH / "audit-exports"
MEDIA_ROOT = _SCRATCH / "media"
# The demo CA that seals executed PDFs in tests (created once per session, tests/conftest.py).
SIGNING_DEMO_DIR = _SCRATCH / "signing-demo"
