"""One check for every append-only table (grids.append_only): the model, the
queryset and, on PostgreSQL, the trigger refuse changes and deletions."""

import pytest
from django.db import DatabaseError, connection, transaction

from grids.append_only import AppendOnlyError


def assert_append_only(instance, **change):
    """``instance`` (saved) cannot be changed with ``change`` nor deleted, by the
    model, the queryset or raw SQL."""
    model = type(instance)
    (field, value), *_ = change.items()
    before = getattr(model.objects.get(pk=instance.pk), field)
    setattr(instance, field, value)
    with pytest.raises(AppendOnlyError):
        instance.save()
    with pytest.raises(AppendOnlyError):
        instance.delete()
    with pytest.raises(AppendOnlyError):
        model.objects.filter(pk=instance.pk).update(**change)
    with pytest.raises(AppendOnlyError):
        model.objects.filter(pk=instance.pk).delete()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        column = connection.ops.quote_name(model._meta.get_field(field).column)
        for sql, params in (
            (f"UPDATE {table} SET {column} = {column} WHERE id = %s", [instance.pk]),
            (f"DELETE FROM {table} WHERE id = %s", [instance.pk]),
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, params)
    assert getattr(model.objects.get(pk=instance.pk), field) == before
    assert model.objects.filter(pk=instance.pk).exists()
