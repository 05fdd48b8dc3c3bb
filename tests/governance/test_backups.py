"""Backups (issue 9): ``backup_db`` and ``restore_db`` round trips on PostgreSQL and
SQLite, compared by row counts and the points ledger checksum."""

import json
import subprocess
import uuid

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from governance import backups
from grids.choices import UserRole
from points import services
from points.selectors import ledger_checksum
from tests.grids.factories import UserFactory, make_tree
from tests.points.factories import PrizeFactory, RuleItemFactory, resident_in
from tests.processes import BIN, ROOT, process_env

pytestmark = pytest.mark.django_db(transaction=True)

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_dump round trip needs PostgreSQL"
)


def seed_for_backup() -> None:
    """A few rows through the services: awards approved (ledger credits), one
    rejected, and a redemption (a debit)."""
    tree = make_tree(name=f"备份区{uuid.uuid4().hex[:6]}")
    staff = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    resident = resident_in(tree["grids"][0])
    for i, points in enumerate((30, 20, 15)):
        award, _ = services.award_propose(
            actor=staff,
            resident_id=resident.pk,
            rule_item_id=RuleItemFactory(points=points).pk,
            awarded_on=timezone.localdate(),
            idempotency_key=f"backup-{uuid.uuid4().hex}",
        )
        if i < 2:
            services.award_approve(actor=staff, award_id=award.pk)
        else:
            services.award_reject(actor=staff, award_id=award.pk, reason="重复申报")
    prize = PrizeFactory(region=tree["communities"][0], price=10, stock=5)
    services.redemption_create(
        actor=staff, resident_id=resident.pk, prize_id=prize.pk, quantity=2
    )


def _manage(*args, database_url, tmp_path, check=True):
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=process_env(DATABASE_URL=database_url, GRIDWORK_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def _python(code, *, database_url, tmp_path) -> str:
    result = subprocess.run(
        [str(BIN / "python"), "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=process_env(DATABASE_URL=database_url, GRIDWORK_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


_CHECKSUM = (
    "import json; from points.selectors import ledger_checksum; "
    "print(json.dumps(ledger_checksum()))"
)


@pytest.fixture
def scratch_database():
    """An empty PostgreSQL database beside the test database, dropped afterwards."""
    s = connection.settings_dict
    name = f"{s['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    params = {
        "host": s.get("HOST") or "127.0.0.1",
        "port": s.get("PORT") or 5432,
        "user": s.get("USER") or "postgres",
        "password": s.get("PASSWORD") or None,
        "dbname": "postgres",
    }
    admin = psycopg2.connect(**params)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    password = f":{params['password']}" if params["password"] else ""
    url = f"postgres://{params['user']}{password}@{params['host']}:{params['port']}/{name}"
    try:
        yield url, {**params, "dbname": name}
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _counts(params) -> dict[str, int]:
    with psycopg2.connect(**params) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    conn.close()
    return counts


@needs_postgresql
def test_postgresql_round_trip_keeps_every_row_and_the_ledger(
    tmp_path, scratch_database
):
    seed_for_backup()
    source_ledger = ledger_checksum()
    assert source_ledger["rows"] == 3 and source_ledger["points"] == 30 + 20 - 20
    dump = tmp_path / "gridwork.dump"

    call_command("backup_db", output=dump)

    manifest = json.loads(backups.manifest_path(dump).read_text())
    assert manifest["format"] == backups.POSTGRES_FORMAT
    assert manifest["points_ledger"] == source_ledger
    assert manifest["tables"]["points_ledgerentry"] == 3
    assert manifest["sha256"] == backups.file_sha256(dump)
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    url, params = scratch_database
    result = _manage(
        "restore_db", str(dump), "--yes", database_url=url, tmp_path=tmp_path
    )
    assert "match" in result.stdout
    # Checked again here, without the command's own comparison: every table of
    # the source has its rows in the copy, and the ledger hashes the same.
    restored = _counts(params)
    assert restored == manifest["tables"]
    assert {t: n for t, n in restored.items() if n} == {
        t: n for t, n in backups.table_row_counts().items() if n
    }
    copy_ledger = json.loads(_python(_CHECKSUM, database_url=url, tmp_path=tmp_path))
    assert copy_ledger == source_ledger


@needs_postgresql
def test_restore_refuses_without_yes_a_full_database_and_a_changed_dump(
    tmp_path, scratch_database
):
    seed_for_backup()
    dump = tmp_path / "gridwork.dump"
    call_command("backup_db", output=dump)
    url, params = scratch_database

    refused = _manage(
        "restore_db", str(dump), database_url=url, tmp_path=tmp_path, check=False
    )
    assert refused.returncode != 0 and "--yes" in refused.stderr
    assert _counts(params) == {}

    _manage("restore_db", str(dump), "--yes", database_url=url, tmp_path=tmp_path)
    again = _manage(
        "restore_db",
        str(dump),
        "--yes",
        database_url=url,
        tmp_path=tmp_path,
        check=False,
    )
    assert again.returncode != 0 and "--clean" in again.stderr
    # --clean replaces what is there: the same rows, not twice as many.
    _manage(
        "restore_db", str(dump), "--yes", "--clean", database_url=url, tmp_path=tmp_path
    )
    assert _counts(params)["points_ledgerentry"] == 3

    # A manifest that does not describe the database restored is an error.
    manifest_file = backups.manifest_path(dump)
    manifest = json.loads(manifest_file.read_text())
    manifest["points_ledger"]["md5"] = "0" * 32
    manifest["tables"]["points_ledgerentry"] = 4
    manifest_file.write_text(json.dumps(manifest))
    differs = _manage(
        "restore_db",
        str(dump),
        "--yes",
        "--clean",
        database_url=url,
        tmp_path=tmp_path,
        check=False,
    )
    assert differs.returncode != 0
    assert "points_ledgerentry" in differs.stderr and "points ledger" in differs.stderr

    # A dump changed after the backup is refused before anything is touched.
    dump.write_bytes(dump.read_bytes()[:-10] + b"0123456789")
    damaged = _manage(
        "restore_db",
        str(dump),
        "--yes",
        "--clean",
        database_url=url,
        tmp_path=tmp_path,
        check=False,
    )
    assert damaged.returncode != 0 and dump.name in damaged.stderr
    assert _counts(params)["points_ledgerentry"] == 3


@needs_postgresql
def test_backup_without_pg_dump_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match="pg_dump"):
        call_command("backup_db", output=tmp_path / "x.dump")
    assert not (tmp_path / "x.dump").exists()


def test_backup_refuses_to_overwrite_a_file(tmp_path):
    existing = tmp_path / "old.dump"
    existing.write_bytes(b"an older backup")
    with pytest.raises(CommandError):
        call_command("backup_db", output=existing)
    assert existing.read_bytes() == b"an older backup"


def test_sqlite_round_trip_with_the_backup_api(tmp_path):
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    _manage("migrate", "--noinput", "-v0", database_url=source, tmp_path=tmp_path)
    _python(
        "from tests.governance.test_backups import seed_for_backup; seed_for_backup()",
        database_url=source,
        tmp_path=tmp_path,
    )
    source_ledger = json.loads(
        _python(_CHECKSUM, database_url=source, tmp_path=tmp_path)
    )
    assert source_ledger["rows"] == 3
    dump = tmp_path / "backup.sqlite3"

    _manage("backup_db", "--output", str(dump), database_url=source, tmp_path=tmp_path)

    manifest = json.loads(backups.manifest_path(dump).read_text())
    assert manifest["format"] == backups.SQLITE_FORMAT
    assert manifest["points_ledger"] == source_ledger
    assert not (tmp_path / "backup.sqlite3-wal").exists()
    result = _manage(
        "restore_db", str(dump), "--yes", database_url=target, tmp_path=tmp_path
    )
    assert "match" in result.stdout
    copy_ledger = json.loads(_python(_CHECKSUM, database_url=target, tmp_path=tmp_path))
    assert copy_ledger == source_ledger
    # The source is not empty: replacing it needs --clean.
    refused = _manage(
        "restore_db",
        str(dump),
        "--yes",
        database_url=source,
        tmp_path=tmp_path,
        check=False,
    )
    assert refused.returncode != 0 and "--clean" in refused.stderr
