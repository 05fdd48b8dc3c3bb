"""Queries compiled once (``grids.prepared``): the same instances as the
queryset's own ``first()``, related rows cached, converters applied, one
statement; a builder whose parameter does not reach the SQL whole is refused.
And the two hot-path helpers built on the same idea: ``ScopedRegionField``
(the intake's place) and ``FieldsBuiltOnceMixin``'s copies."""

import pytest
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    connection,
    connections,
    transaction,
)
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from grids.api.serializers import FieldsBuiltOnceMixin, ScopedRegionField
from grids.choices import UserRole
from grids.models import ApiToken, IdempotencyKey, Region
from grids.prepared import PreparedQuery, as_written, execute
from grids.services.api_tokens import api_token_create
from tests.grids.factories import UserFactory, make_tree

pytestmark = pytest.mark.django_db

TOKEN_BY_PREFIX = PreparedQuery(
    lambda prefix: ApiToken.objects.select_related("user__region").filter(
        prefix=prefix
    )[:1],
    prefix=str,
)
KEYS_OF_USER = PreparedQuery(
    lambda user_id, scope: IdempotencyKey.objects.filter(
        user_id=user_id, scope=scope
    ).order_by("pk"),
    user_id=int,
    scope=str,
)


def _values(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def token():
    tree = make_tree()
    root = UserFactory(is_superuser=True, region=tree["district"])
    user = UserFactory(role=UserRole.STREET_STAFF, region=tree["street"])
    made, _key = api_token_create(actor=root, user=user, name="设备")
    return made


def test_first_is_the_querysets_first_with_its_relations_cached(token):
    expected = (
        ApiToken.objects.select_related("user__region").filter(pk=token.pk).first()
    )
    with CaptureQueriesContext(connection) as queries:
        found = TOKEN_BY_PREFIX.first(prefix=token.prefix)
        assert _values(found) == _values(expected)
        assert _values(found.user) == _values(expected.user)
        assert _values(found.user.region) == _values(expected.user.region)
    assert len(queries) == 1
    assert found._state.adding is False and found._state.db == "default"


def test_no_row_is_none_and_values_are_parameters_not_sql(token):
    assert TOKEN_BY_PREFIX.first(prefix="gw_000000000000") is None
    assert TOKEN_BY_PREFIX.first(prefix="' OR '1'='1") is None


def test_database_converters_are_applied():
    user = UserFactory()
    for n in range(3):
        IdempotencyKey.objects.create(
            user=user,
            scope="api",
            key=f"key-{n:08d}",
            fingerprint="f",
            response_status=201,
            response_body={"n": n, "名": ["列表"]},
        )
    rows = KEYS_OF_USER.all(user_id=user.pk, scope="api")
    assert [row.response_body for row in rows] == [
        {"n": n, "名": ["列表"]} for n in range(3)
    ]
    assert KEYS_OF_USER.all(user_id=user.pk, scope="phone") == []


def test_a_parameter_rewritten_by_its_lookup_is_refused():
    starts = PreparedQuery(
        lambda name: Region.objects.filter(name__startswith=name), name=str
    )
    with pytest.raises(ValueError, match="unchanged"):
        starts.all(name="测试")


def test_wrong_or_missing_values_are_refused(token):
    with pytest.raises(TypeError):
        TOKEN_BY_PREFIX.first()
    with pytest.raises(TypeError):
        TOKEN_BY_PREFIX.first(prefix="x", other=1)
    with pytest.raises(TypeError):
        PreparedQuery(lambda when: Region.objects.filter(pk=when), when=float)


# --- the intake's place ------------------------------------------------------------


class _PlaceSerializer(serializers.Serializer):
    region = ScopedRegionField()


@pytest.fixture
def places():
    tree = make_tree()
    other = make_tree(name="外区")
    staff = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0], is_staff=False
    )
    return tree, other, staff


def _check(user, value):
    request = APIRequestFactory().post("/")
    request.user = user
    serializer = _PlaceSerializer(data={"region": value}, context={"request": request})
    valid = serializer.is_valid()
    return valid, serializer


@pytest.mark.parametrize("as_text", [False, True])
def test_a_place_in_the_callers_area_is_found(places, as_text):
    tree, _other, staff = places
    grid = tree["grids"][0]
    valid, serializer = _check(staff, str(grid.pk) if as_text else grid.pk)
    assert valid, serializer.errors
    assert serializer.validated_data["region"] == grid
    assert _values(serializer.validated_data["region"]) == _values(grid)


@pytest.mark.parametrize(
    "pick",
    [
        lambda tree, other: other["grids"][0].pk,  # another district
        lambda tree, other: tree["grids"][2].pk,  # the other community
        lambda tree, other: tree["street"].pk,  # above the caller
        lambda tree, other: 2**31 + 5,  # past int4
        lambda tree, other: 2**63 + 5,  # past int8
        lambda tree, other: 0,
        lambda tree, other: -3,
    ],
)
def test_a_place_outside_the_area_does_not_exist(places, pick):
    tree, other, staff = places
    valid, serializer = _check(staff, pick(tree, other))
    assert not valid
    assert serializer.errors["region"][0].code == "does_not_exist"


@pytest.mark.parametrize("value", ["x", "1.5", 1.0, True, None, [1], {"id": 1}, ""])
def test_a_place_of_the_wrong_type_is_refused(places, value):
    _tree, _other, staff = places
    valid, serializer = _check(staff, value)
    assert not valid
    assert serializer.errors["region"][0].code in {"incorrect_type", "null"}


def test_an_inactive_caller_sees_no_place(places):
    tree, _other, staff = places
    staff.is_active = False
    valid, serializer = _check(staff, tree["grids"][0].pk)
    assert not valid and serializer.errors["region"][0].code == "does_not_exist"


# --- the fields built once ---------------------------------------------------------


class _Built(FieldsBuiltOnceMixin, serializers.Serializer):
    name = serializers.CharField(max_length=5)
    count = serializers.IntegerField(min_value=1, validators=[lambda v: None])
    tags = serializers.ListField(child=serializers.CharField(max_length=3))
    place = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all())


class _Plain(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    count = serializers.IntegerField(min_value=1, validators=[lambda v: None])
    tags = serializers.ListField(child=serializers.CharField(max_length=3))
    place = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all())


def test_copies_are_independent_of_each_other():
    first, second = _Built(), _Built()
    a, b = first.fields, second.fields
    for name in a:
        assert a[name] is not b[name]
        assert a[name].parent is first and b[name].parent is second
    assert a["tags"].child is not b["tags"].child
    assert a["tags"].child.parent is a["tags"]
    a["count"].validators.append(lambda v: None)
    assert len(b["count"].validators) == len(_Built().fields["count"].validators)
    a["place"].queryset = Region.objects.none()
    assert a["place"].queryset.query.is_empty()
    assert not b["place"].queryset.query.is_empty()
    assert not _Built().fields["place"].queryset.query.is_empty()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "abc", "count": 2, "tags": ["x"], "place": None},
        {"name": "abcdef", "count": 0, "tags": ["long"], "place": "x"},
        {"count": "many"},
    ],
)
def test_copies_validate_as_drfs_own_fields(data):
    region = make_tree()["grids"][0]
    if data.get("place") is None and "place" in data:
        data = {**data, "place": region.pk}
    built, plain = _Built(data=data), _Plain(data=data)
    assert built.is_valid() == plain.is_valid()
    assert built.errors == plain.errors
    if not plain.errors:
        assert built.validated_data == plain.validated_data


def test_constants_of_the_query_stay_as_they_are():
    tree = make_tree()
    grid = tree["grids"][0]
    active_by_name = PreparedQuery(
        lambda name: Region.objects.filter(name=name, is_active=True, depth__gte=0),
        name=str,
    )
    assert active_by_name.all(name=grid.name) == [grid]
    Region.objects.filter(pk=grid.pk).update(is_active=False)
    assert active_by_name.all(name=grid.name) == []


def test_insert_row_and_update_fields_write_what_save_writes():
    from grids.prepared import insert_row, update_fields

    user = UserFactory()
    made = IdempotencyKey(user=user, scope="api", key="k-00000001", fingerprint="f")
    with CaptureQueriesContext(connection) as queries:
        insert_row(made)
    assert len(queries) == 1 and made.pk and made._state.adding is False
    saved = IdempotencyKey(user=user, scope="api", key="k-00000002", fingerprint="f")
    saved.save()
    for obj in (made, saved):
        obj.response_status, obj.response_body = 201, {"编号": "2026-000001"}
        update_fields(obj, ["response_status", "response_body"])
    first, second = (IdempotencyKey.objects.get(pk=o.pk) for o in (made, saved))
    skip = {"id", "key"}
    assert {k: v for k, v in _values(first).items() if k not in skip} == {
        k: v for k, v in _values(second).items() if k not in skip and k != "created_at"
    } | {"created_at": first.created_at}
    assert first.response_body == {"编号": "2026-000001"}


# --- server-side prepared statements (``grids.prepared.execute``) ---------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements: PostgreSQL"
)


def _prepared_statements(name_like="gw_%"):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE %s",
            [name_like],
        )
        return dict(cursor.fetchall())


def _run(sql, params=()):
    with connection.cursor() as cursor:
        execute(cursor, sql, params)
        return cursor.fetchall()


@postgres_only
def test_a_statement_is_prepared_once_per_connection_and_logged_as_written():
    sql = "SELECT %s::int + 1, 'a%%b', %s::text"
    with CaptureQueriesContext(connection) as queries:
        first = _run(sql, [1, "x"])
        second = _run(sql, [41, "y"])
    assert first == [(2, "a%b", "x")] and second == [(42, "a%b", "y")]
    prepared = {
        name: text for name, text in _prepared_statements().items() if "a%b" in text
    }
    assert len(prepared) == 1
    ((name, text),) = prepared.items()
    assert text == f"PREPARE {name} AS SELECT $1::int + 1, 'a%b', $2::text"
    # One query a run in the log (the PREPARE is not counted), which shows
    # what the server ran.
    assert [q["sql"] for q in queries] == [
        f"EXECUTE {name}(1, 'x')",
        f"EXECUTE {name}(41, 'y')",
    ]
    assert as_written(queries[0]["sql"]) == sql
    assert as_written("SELECT 1") == "SELECT 1"


@postgres_only
def test_a_statement_without_parameters():
    assert _run("SELECT 7 AS seven") == [(7,)]
    assert _run("SELECT 7 AS seven") == [(7,)]


@postgres_only
def test_a_prepare_outlives_the_rolled_back_transaction_it_ran_in():
    sql = "SELECT %s::int * 3 AS rollback_check"
    sid = transaction.savepoint()
    assert _run(sql, [2]) == [(6,)]
    transaction.savepoint_rollback(sid)
    assert _run(sql, [3]) == [(9,)]


@postgres_only
def test_a_new_connection_prepares_again():
    # A connection of its own (outside the test's transaction), closed and
    # opened again as after a lost connection: the new one has no prepared
    # statements, and the statement is prepared on it anew.
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    sql = "SELECT %s::int - 1 AS reconnect_check"
    try:
        for value in (5, 8):
            with other.cursor() as cursor:
                execute(cursor, sql, [value])
                assert cursor.fetchall() == [(value - 1,)]
                cursor.execute("SELECT count(*) FROM pg_prepared_statements")
                assert cursor.fetchone() == (1,)
            other.close()
    finally:
        other.close()


@postgres_only
def test_off_for_poolers(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    assert _run("SELECT %s::int AS pooled_check", [4]) == [(4,)]
    assert not any("pooled_check" in text for text in _prepared_statements().values())


def test_a_failing_statement_raises_as_it_would_unprepared():
    with pytest.raises(DatabaseError), transaction.atomic():
        _run("SELECT * FROM no_such_table_here WHERE id = %s", [1])
    # And the connection goes on.
    assert _run("SELECT %s", [1]) in ([(1,)], [("1",)])
