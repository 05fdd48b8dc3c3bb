"""Settings come from the environment and refuse an unsafe production setup."""

import subprocess
import sys

from tests.processes import ROOT


def _import_settings(**env):
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": "/tmp"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import governance.settings as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)",
        ],
        env={**base, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_dev_secret_key_is_refused_when_debug_is_off(tmp_path):
    result = _import_settings(GRIDWORK_VAR_DIR=str(tmp_path), DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_dev_personal_data_keys_are_refused_when_debug_is_off(tmp_path):
    """The ID-number keys (grids/pii.py) have development defaults derived from
    the development SECRET_KEY; with DEBUG off each must be set."""
    real = {
        "GRIDWORK_VAR_DIR": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "PII_ENCRYPTION_KEYS": "dGVzdC1vbmx5LXBpaS1rZXktbm90LWZvci1wcm9kdWM=",
        "PII_HASH_KEY": "y" * 50,
    }
    assert _import_settings(**real).returncode == 0
    for missing in ("PII_ENCRYPTION_KEYS", "PII_HASH_KEY"):
        env = {k: v for k, v in real.items() if k != missing}
        result = _import_settings(**env)
        assert result.returncode != 0
        assert "PII_ENCRYPTION_KEYS or PII_HASH_KEY" in result.stderr


def test_defaults_are_sqlite_and_the_filesystem_broker(tmp_path):
    result = _import_settings(GRIDWORK_VAR_DIR=str(tmp_path), DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]
    assert (tmp_path / "broker" / "queue").is_dir()


def test_database_and_redis_urls_are_read(tmp_path):
    result = _import_settings(
        GRIDWORK_VAR_DIR=str(tmp_path),
        SECRET_KEY="x" * 50,
        PII_ENCRYPTION_KEYS="dGVzdC1vbmx5LXBpaS1rZXktbm90LWZvci1wcm9kdWM=",
        PII_HASH_KEY="y" * 50,
        DATABASE_URL="postgres://u@db:5432/gridwork",
        REDIS_URL="redis://cache:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://cache:6379/0",
    ]
