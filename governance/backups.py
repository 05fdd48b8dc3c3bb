"""Database backups: dump, restore, and the manifest that proves a restore whole.

``backup`` writes one file: on PostgreSQL a ``pg_dump`` custom-format archive
(``-Fc``), on SQLite a copy made with SQLite's online backup API. Beside it goes
``<file>.manifest.json``: the row count of every table, the points ledger's
checksum (``points.selectors.ledger_checksum``) and the dump's SHA-256. The
counts, the checksum and the dump come from one snapshot: on PostgreSQL a
``REPEATABLE READ`` transaction exports its snapshot and ``pg_dump --snapshot``
dumps exactly what that transaction counted; on SQLite the copy is taken inside
the transaction that counted, which holds the write lock.

``restore`` checks the dump against the manifest's SHA-256, loads it into the
configured database (``pg_restore --clean --if-exists`` on PostgreSQL, the
backup API the other way on SQLite) and then counts again: any table whose count
differs, or a ledger checksum that differs, is an error.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from points.selectors import ledger_checksum

MANIFEST_VERSION = 1
POSTGRES_FORMAT = "pg_dump-custom"
SQLITE_FORMAT = "sqlite-backup-api"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class Verification:
    """What a restored database holds compared with the manifest."""

    tables: int
    mismatches: dict  # table (or "points ledger") -> (expected, found)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def default_backup_path(now: dt.datetime | None = None) -> Path:
    """``<var>/backups/gridwork-<UTC time>.<dump|sqlite3>``."""
    now = now or timezone.now()
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if _vendor() == "sqlite" else "dump"
    return Path(settings.VAR_DIR) / "backups" / f"gridwork-{stamp}.{suffix}"


def _connection(using=DEFAULT_DB_ALIAS):
    return connections[using]


def _vendor(using=DEFAULT_DB_ALIAS) -> str:
    return _connection(using).vendor


def table_row_counts(using=DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Every table's row count, by name, read in the current transaction."""
    connection = _connection(using)
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def database_state(using=DEFAULT_DB_ALIAS) -> dict:
    """Row counts and the ledger checksum, as the manifest records them."""
    return {
        "tables": table_row_counts(using),
        "points_ledger": ledger_checksum(),
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            _(
                "%(tool)s was not found. Install the PostgreSQL client tools "
                "(Debian: apt install postgresql-client) of the server's version."
            )
            % {"tool": name}
        )
    return found


def _pg_args_and_env(using=DEFAULT_DB_ALIAS) -> tuple[list[str], dict]:
    """Connection options for the client tools; the password goes in PGPASSWORD,
    never on the command line, where ``ps`` shows it."""
    s = _connection(using).settings_dict
    args = ["--dbname", s["NAME"]]
    if s.get("HOST"):
        args += ["--host", s["HOST"]]
    if s.get("PORT"):
        args += ["--port", str(s["PORT"])]
    if s.get("USER"):
        args += ["--username", s["USER"]]
    env = {**os.environ}
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    return args, env


def _run(args: list[str], env: dict | None = None) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            _("%(tool)s failed (exit code %(code)s): %(error)s")
            % {
                "tool": Path(args[0]).name,
                "code": result.returncode,
                "error": result.stderr.strip()[-2000:],
            }
        )


def backup(output: Path, using=DEFAULT_DB_ALIAS) -> dict:
    """Dump the database to ``output`` and write the manifest beside it; return
    the manifest."""
    output = Path(output)
    if output.exists():
        raise BackupError(_("%(path)s already exists.") % {"path": output})
    output.parent.mkdir(parents=True, exist_ok=True)
    connection = _connection(using)
    vendor = connection.vendor
    if vendor == "postgresql":
        pg_dump = _tool("pg_dump")
        conn_args, env = _pg_args_and_env(using)
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SET TRANSACTION READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            state = database_state(using)
            _run(
                [
                    pg_dump,
                    *conn_args,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={output}",
                ],
                env,
            )
        dump_format = POSTGRES_FORMAT
    elif vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        # A read transaction (deferred, not Django's IMMEDIATE one, which the
        # backup API would wait on forever): in WAL mode it reads one snapshot,
        # both for the counts and for the copy, while writers go on.
        raw.execute("BEGIN")
        try:
            state = database_state(using)
            target = sqlite3.connect(output)
            try:
                raw.backup(target)
                # One self-contained file: no -wal/-shm beside it.
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        finally:
            raw.execute("ROLLBACK")
        dump_format = SQLITE_FORMAT
    else:
        raise BackupError(
            _("Backups support PostgreSQL and SQLite, not %(vendor)s.")
            % {"vendor": vendor}
        )
    manifest = {
        "version": MANIFEST_VERSION,
        "format": dump_format,
        "created_at": timezone.now().isoformat(),
        "file": output.name,
        "sha256": file_sha256(output),
        "size": output.stat().st_size,
        **state,
    }
    manifest_path(output).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


def read_manifest(dump: Path) -> dict:
    path = manifest_path(dump)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            _("The manifest %(path)s is missing: the dump cannot be checked.")
            % {"path": path}
        ) from None
    except ValueError:
        raise BackupError(
            _("The manifest %(path)s is damaged.") % {"path": path}
        ) from None
    if manifest.get("version") != MANIFEST_VERSION:
        raise BackupError(_("The manifest %(path)s is damaged.") % {"path": path})
    return manifest


def database_is_empty(using=DEFAULT_DB_ALIAS) -> bool:
    connection = _connection(using)
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def restore(dump: Path, *, clean: bool, using=DEFAULT_DB_ALIAS) -> Verification:
    """Load ``dump`` into the configured database and compare it with the
    manifest. Refuses a database that holds tables unless ``clean``, a dump
    whose SHA-256 is not the manifest's, and a dump of the other vendor."""
    dump = Path(dump)
    if not dump.is_file():
        raise BackupError(_("%(path)s does not exist.") % {"path": dump})
    manifest = read_manifest(dump)
    if file_sha256(dump) != manifest["sha256"]:
        raise BackupError(
            _("%(path)s is not the file its manifest describes (checksum differs).")
            % {"path": dump}
        )
    connection = _connection(using)
    expected = {"postgresql": POSTGRES_FORMAT, "sqlite": SQLITE_FORMAT}.get(
        connection.vendor
    )
    if manifest["format"] != expected:
        raise BackupError(
            _("This dump (%(format)s) cannot be restored into %(vendor)s.")
            % {"format": manifest["format"], "vendor": connection.vendor}
        )
    if not clean and not database_is_empty(using):
        raise BackupError(
            _(
                "The database is not empty. Restore with --clean to replace its "
                "contents with the backup."
            )
        )
    if connection.vendor == "postgresql":
        pg_restore = _tool("pg_restore")
        conn_args, env = _pg_args_and_env(using)
        connection.close()  # hold no lock the restore would wait for
        _run(
            [pg_restore, *conn_args, "--no-owner", "--no-privileges"]
            + ["--single-transaction", "--exit-on-error"]
            + (["--clean", "--if-exists"] if clean else [])
            + [str(dump)],
            env,
        )
    else:
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        try:
            # Replaces every page of the live file; other connections see the
            # restored database on their next read.
            source.backup(connection.connection)
        finally:
            source.close()
        connection.close()
    return verify(manifest, using=using)


def verify(manifest: dict, using=DEFAULT_DB_ALIAS) -> Verification:
    """Compare the database with the manifest's counts and ledger checksum."""
    with transaction.atomic(using=using):
        if _vendor(using) == "postgresql":
            with _connection(using).cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        state = database_state(using)
    mismatches = {}
    for table, count in manifest["tables"].items():
        found = state["tables"].get(table)
        if found != count:
            mismatches[table] = (count, found)
    if state["points_ledger"] != manifest["points_ledger"]:
        mismatches["points ledger"] = (
            manifest["points_ledger"],
            state["points_ledger"],
        )
    return Verification(tables=len(manifest["tables"]), mismatches=mismatches)
