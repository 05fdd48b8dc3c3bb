"""Queries compiled once a process: ``PreparedQuery``.

Django compiles a queryset to SQL anew each time it runs: for a lookup by key
with ``select_related`` that is most of its cost (an API token with its account
and the account's region: ~1.7 ms of CPU, of which the SQL round trip is a
tenth). The few lookups that run on every request of a hot path (the API
token, the place of an intake, the 12345 platform) are built here once, as
ordinary querysets, and run again with other values:

    TOKEN_BY_PREFIX = PreparedQuery(
        lambda prefix: ApiToken.objects.select_related("user__region").filter(
            prefix=prefix
        )[:1],
        prefix=str,
    )
    token = TOKEN_BY_PREFIX.first(prefix="gw_0123456789ab")

The builder is called once per database alias with stand-in values (one per
declared parameter, of its type); Django compiles it, and each stand-in must
come out as a whole SQL parameter (``filter(x=value)``, not
``x__startswith=value``, which rewrites it): otherwise compiling refuses.
Rows become instances as Django's own iterator makes them (``from_db``, the
fields' database converters, ``select_related`` objects cached on the row's
instance), so what ``first`` returns is what ``queryset.first()`` would.

Writes on the same paths, without the compiler each time:

- ``insert_statement(obj, returning)``: ``obj``'s INSERT as ``save()`` writes it
  (its fields' ``pre_save`` and database values; a field set to ``RawSQL`` is
  written as that SQL), compiled once per shape; ``insert_row(obj)`` runs it;
- ``update_fields(obj, names)``: ``obj.save(update_fields=names)`` as one plain
  ``UPDATE … WHERE pk``.

Neither sends ``pre_save``/``post_save`` signals: use them on models nothing
listens to (no history, no receivers), on hot paths.

All of them run their SQL through ``execute(cursor, sql, params)``: on
PostgreSQL a server-side prepared statement (SQL ``PREPARE`` once per
connection, then ``EXECUTE``), so the server parses and plans each statement
once per connection instead of on every request (the token lookup, a join of
three tables: ~200 µs of the server's CPU planned each time, ~70 µs prepared).
``DATABASE_PREPARED_STATEMENTS = False`` turns it off, for a pooler that hands
one client's statements to several server connections (PgBouncer in
transaction mode).
"""

import hashlib
import re
import threading
from collections.abc import Callable, Iterable
from typing import NamedTuple

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery

_STAND_INS = {
    str: lambda n: f"\x00prepared-parameter-{n}\x00",
    int: lambda n: -7_654_321_000_000 - n,
}


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


class _Statement(NamedTuple):
    name: str
    prepare: str  # PREPARE name AS … (the SQL with $1, $2 …)
    execute: str  # EXECUTE name(%s, …), for the driver to fill in


_PLACEHOLDER = re.compile(r"%([%s])")
_STATEMENTS: dict[str, _Statement] = {}
_WRITTEN: dict[str, str] = {}  # name -> the SQL as written
_EXECUTE_NAME = re.compile(r"^EXECUTE (gw_[0-9a-f]{24})\b")


def _statement(sql: str) -> _Statement:
    found = _STATEMENTS.get(sql)
    if found is None:
        count = 0

        def number(match):
            nonlocal count
            if match.group(1) == "%":  # a literal %, written %% for the driver
                return "%"
            count += 1
            return f"${count}"

        body = _PLACEHOLDER.sub(number, sql)
        name = "gw_" + hashlib.sha256(sql.encode()).hexdigest()[:24]
        arguments = f"({', '.join(['%s'] * count)})" if count else ""
        found = _STATEMENTS[sql] = _Statement(
            name, f"PREPARE {name} AS {body}", f"EXECUTE {name}{arguments}"
        )
        _WRITTEN[name] = sql
    return found


def as_written(logged: str) -> str:
    """The SQL as written of a statement a query log shows as ``EXECUTE
    gw_…(…)`` (its placeholders not filled in); any other SQL as it is. For
    reading logs (and the tests that read them)."""
    found = _EXECUTE_NAME.match(logged)
    return _WRITTEN.get(found.group(1), logged) if found else logged


def _prepared_on(connection) -> set[str]:
    """The names prepared on ``connection``'s current driver connection (a new
    one, after a reconnect, has none)."""
    raw = connection.connection
    noted = getattr(connection, "_gridwork_prepared", None)
    if noted is None or noted[0] is not raw:
        noted = connection._gridwork_prepared = (raw, set())
    return noted[1]


def execute(cursor, sql: str, params=()) -> None:
    """``cursor.execute(sql, params)``, as a server-side prepared statement on
    PostgreSQL (``DATABASE_PREPARED_STATEMENTS``).

    The statement is prepared on first use on each driver connection (a
    ``PREPARE`` survives the rollback of the transaction it ran in) and named by
    a hash of its SQL. The switch happens in the innermost execute wrapper, so
    everything around it (query logs, ``CaptureQueriesContext``, other
    wrappers) sees ``sql`` and ``params`` as given, and the ``PREPARE`` is not
    counted as a query of its own; the log shows the ``EXECUTE`` the server ran
    (``as_written`` gives the SQL back). Use it for SQL whose parameters' types
    the server can tell from where they stand (a column compared or written, an
    explicit cast): each statement that uses it is run by a test on
    PostgreSQL."""
    connection = cursor.db
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    statement = _statement(sql)

    def as_prepared(run, _sql, params, many, context):
        prepared = _prepared_on(connection)
        if statement.name not in prepared:
            run(statement.prepare, None, many, context)
            prepared.add(statement.name)
        return run(statement.execute, params, many, context)

    wrappers = connection.execute_wrappers
    wrappers.append(as_prepared)
    try:
        cursor.execute(sql, params)
    finally:
        wrappers.remove(as_prepared)


class _Compiled:
    __slots__ = (
        "converters",
        "end",
        "init_list",
        "model",
        "order",
        "populators",
        "sql",
        "start",
    )


class PreparedQuery:
    """A queryset compiled once per database alias, run with new values."""

    def __init__(self, build: Callable, **parameters: type):
        unknown = [kind for kind in parameters.values() if kind not in _STAND_INS]
        if unknown:
            raise TypeError(f"Parameters may be str or int, not {unknown}.")
        self._build = build
        self._parameters = parameters
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> _Compiled:
        stand_ins = {
            name: _STAND_INS[kind](n)
            for n, (name, kind) in enumerate(self._parameters.items())
        }
        queryset = self._build(**stand_ins).using(alias)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        names = {value: name for name, value in stand_ins.items()}
        # Each SQL parameter is a declared one (by name) or a constant of the
        # query (kept as it is); every declared one must be there, whole.
        order = tuple(
            (True, names[param])
            if _hashable(param) and param in names
            else (False, param)
            for param in params
        )
        missing = set(self._parameters) - {name for named, name in order if named}
        if missing:
            raise ValueError(
                "A prepared query's parameters must reach the SQL unchanged; "
                f"{sorted(missing)} did not ({params!r})."
            )
        compiled = _Compiled()
        compiled.sql, compiled.order = sql, order
        if compiler.annotation_col_map or queryset.query.deferred_loading[0]:
            raise ValueError("A prepared query loads whole rows: no annotations.")
        klass_info, select = compiler.klass_info, compiler.select
        compiled.model = klass_info["model"]
        fields = klass_info["select_fields"]
        compiled.start, compiled.end = fields[0], fields[-1] + 1
        compiled.init_list = [
            column[0].target.attname for column in select[compiled.start : compiled.end]
        ]
        compiled.populators = get_related_populators(klass_info, select, alias)
        compiled.converters = list(
            compiler.get_converters(
                [column[0] for column in select[: compiler.col_count]]
            ).items()
        )
        return compiled

    def compiled(self, alias: str = DEFAULT_DB_ALIAS) -> _Compiled:
        found = self._compiled.get(alias)
        if found is None:
            with self._lock:
                found = self._compiled.get(alias)
                if found is None:
                    found = self._compiled[alias] = self._compile(alias)
        return found

    def all(self, *, using: str = DEFAULT_DB_ALIAS, **values) -> list:
        """The instances of the query run with ``values``."""
        if values.keys() != self._parameters.keys():
            raise TypeError(f"Give exactly {sorted(self._parameters)}.")
        compiled = self.compiled(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            execute(
                cursor,
                compiled.sql,
                [values[item] if named else item for named, item in compiled.order],
            )
            rows = cursor.fetchall()
        out = []
        for row in rows:
            if compiled.converters:
                # As SQLCompiler.apply_converters, with this thread's connection.
                row = list(row)
                for position, (converters, expression) in compiled.converters:
                    value = row[position]
                    for converter in converters:
                        value = converter(value, expression, connection)
                    row[position] = value
            obj = compiled.model.from_db(
                using, compiled.init_list, row[compiled.start : compiled.end]
            )
            for populator in compiled.populators:
                populator.populate(row, obj)
            out.append(obj)
        return out

    def first(self, *, using: str = DEFAULT_DB_ALIAS, **values):
        """The first instance, or None (build the query with ``[:1]``)."""
        found = self.all(using=using, **values)
        return found[0] if found else None


# The INSERT of each (model, database, RETURNING, conflicts ignored, SQL of its
# RawSQL values).
_INSERT_SQL: dict[tuple, str] = {}


def insert_statement(
    obj,
    returning: str,
    *,
    using: str = DEFAULT_DB_ALIAS,
    ignore_conflicts: bool = False,
):
    """``(sql, params)`` of ``obj``'s INSERT with ``RETURNING returning``; not
    run. ``ignore_conflicts``: a row that breaks a unique constraint is not
    written (and nothing is returned), as ``bulk_create(ignore_conflicts=True)``
    writes it. Django's insert compiler costs ~0.7 ms a row; the values alone a
    tenth of it."""
    connection = connections[using]
    meta = obj._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    values = [field.pre_save(obj, True) for field in fields]
    if any(
        hasattr(v, "resolve_expression") and not isinstance(v, RawSQL) for v in values
    ):
        raise ValueError("Only RawSQL expressions are written by insert_statement.")
    shape = tuple(
        (n, value.sql) for n, value in enumerate(values) if isinstance(value, RawSQL)
    )
    key = (type(obj), using, returning, ignore_conflicts, shape)
    sql = _INSERT_SQL.get(key)
    if sql is None:
        query = InsertQuery(
            type(obj), on_conflict=OnConflict.IGNORE if ignore_conflicts else None
        )
        query.insert_values(fields, [obj])
        ((sql, _params),) = query.get_compiler(using=using).as_sql()
        sql = _INSERT_SQL[key] = f"{sql} RETURNING {returning}"
    params = []
    for field, value in zip(fields, values, strict=True):
        if isinstance(value, RawSQL):
            params.extend(value.params)
        else:
            params.append(field.get_db_prep_save(value, connection))
    return sql, params


def insert_row(
    obj, *, using: str = DEFAULT_DB_ALIAS, ignore_conflicts: bool = False
) -> bool:
    """``obj.save()`` of a new row as one prepared INSERT (its pk read back);
    whether it was written (False only with ``ignore_conflicts``, for a row
    its unique constraints refused)."""
    connection = connections[using]
    sql, params = insert_statement(
        obj,
        connection.ops.quote_name(obj._meta.pk.column),
        using=using,
        ignore_conflicts=ignore_conflicts,
    )
    with connection.cursor() as cursor:
        execute(cursor, sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    (obj.pk,) = row
    obj._state.adding, obj._state.db = False, using
    return True


def update_fields(obj, names: Iterable[str]) -> None:
    """``obj.save(update_fields=names)`` as one plain UPDATE by primary key."""
    using = obj._state.db or DEFAULT_DB_ALIAS
    connection = connections[using]
    ops, meta = connection.ops, obj._meta
    assignments, params = [], []
    for name in names:
        field = meta.get_field(name)
        assignments.append(f"{ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    with connection.cursor() as cursor:
        execute(
            cursor,
            f"UPDATE {ops.quote_name(meta.db_table)} SET {', '.join(assignments)}"
            f" WHERE {ops.quote_name(meta.pk.column)} = %s",
            [*params, obj.pk],
        )
