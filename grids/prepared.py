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
"""

import threading
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import get_related_populators

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
            cursor.execute(
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
