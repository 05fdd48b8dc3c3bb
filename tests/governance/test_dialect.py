"""The SQL that differs between PostgreSQL and SQLite (governance.dialect)."""

import datetime as dt

import pytest
from django.db import connection

from governance import dialect


def test_a_list_parameter_selects_its_members(db):
    sql = (
        "SELECT n FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) x"
        f" WHERE {dialect.in_list('n', 'ids')} ORDER BY n"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": dialect.list_param([3, 1, 99])})
        assert [row[0] for row in cursor.fetchall()] == [1, 3]
        cursor.execute(sql, {"ids": dialect.list_param([])})
        assert cursor.fetchall() == []


def test_local_dates_and_utc_parameters(db):
    """A UTC instant of 16:30 on the 31st is the 1st in Asia/Shanghai."""
    moment = dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {dialect.local_date('x.at')} FROM (SELECT %(at)s AS at) x",
            {"at": dialect.db_datetime(moment), "tz": "Asia/Shanghai"},
        )
        (day,) = cursor.fetchone()
    assert str(day) == "2026-11-01"


def test_the_fixed_offset_refuses_a_zone_with_daylight_saving_time():
    assert dialect._fixed_offset_minutes("Asia/Shanghai") == 480
    with pytest.raises(NotImplementedError):
        dialect._fixed_offset_minutes("Europe/Berlin")
