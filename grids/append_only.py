"""Append-only tables (event logs, the points ledger, the audit log), in one place.

Three guards, from the first line to the last: the model refuses to save an
existing row or delete one, the queryset refuses bulk ``update()`` and
``delete()``, and on PostgreSQL a trigger refuses any UPDATE or DELETE whoever
issues it (``append_only_trigger`` in the table's migration).
"""

from django.db import migrations, models


class AppendOnlyError(TypeError):
    """An attempt to change or remove a row of an append-only table."""


def _refuse(model_label: str):
    raise AppendOnlyError(f"{model_label} is append-only.")


class AppendOnlyQuerySetMixin:
    """Mix into a table's QuerySet: bulk changes are refused."""

    def update(self, **kwargs):
        _refuse(self.model._meta.label)

    def delete(self):
        _refuse(self.model._meta.label)

    delete.queryset_only = True


class AppendOnlyQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    pass


class AppendOnlyModel(models.Model):
    """A row is written once and never changed or deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            _refuse(self._meta.label)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        _refuse(self._meta.label)


def append_only_trigger(table: str) -> migrations.RunPython:
    """A migration operation: on PostgreSQL, a trigger refusing UPDATE and DELETE
    on ``table``. Other databases rely on the model and queryset guards."""
    function = f"{table}_append_only"
    create_sql = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = '{table} is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {function} ON {table};
CREATE TRIGGER {function}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    drop_sql = f"""
DROP TRIGGER IF EXISTS {function} ON {table};
DROP FUNCTION IF EXISTS {function}();
"""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(create_sql)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(drop_sql)

    return migrations.RunPython(forwards, backwards, elidable=False)
