"""Test settings: the base settings with faster hashing and an isolated var dir."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use")
# Test-only keys (Fernet.generate_key() format), not the development defaults.
os.environ.setdefault(
    "PII_ENCRYPTION_KEYS", "dGVzdC1vbmx5LXBpaS1rZXktbm90LWZvci1wcm9kdWM="
)
os.environ.setdefault("PII_HASH_KEY", "test-only-pii-hash-key-not-for-production")
os.environ.setdefault("GRIDWORK_VAR_DIR", tempfile.mkdtemp(prefix="gridwork-test-"))

from .settings import *  # noqa: F403
from .settings import DATABASES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a worker or server process started by a test
    # sees the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Each test process keeps its own cache (rate-limit counters), cleared by the
# tests that count; a live server started by a test runs in the same process.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The router is tested against a second alias that mirrors the test database
# (tests/governance/test_db_router.py); pages keep reading ``default``, since a
# mirror's separate connection cannot see a test's uncommitted rows.
DATABASES["replica"] = {
    **DATABASES["default"],
    "TEST": {**DATABASES["default"].get("TEST", {}), "MIRROR": "default"},
}
DATABASE_REPLICA_READS = False

# The security walk requests every Open311 URL as every role from one address;
# the throttle's own test sets its rate low.
OPEN311_THROTTLE_RATE = "100000/min"
