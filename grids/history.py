"""Record history (django-simple-history): one historical row per save of the
records people keep — regions, the roster, households and residents, staff
accounts, the points rules and prizes, the party tree and its members — with
who made the change and when. ``grids.AuditEntry`` stays the log that services
write on purpose for reference data (with the action and the changed fields);
this one is taken on every ``save()``.

``PrivateHistoricalRecords`` keeps personal data out of the history tables: a
model's ``sensitive_fields`` (``grids.masking.sensitive_fields_of``: ID number,
birth date, gender, phones), any field whose name starts with ``id_number``
(whatever columns hold the ID number: encrypted text, a lookup hash), the
password hash and last login of accounts, and MPTT's bookkeeping columns are
never copied. A save that touches only excluded fields (a login stamping
``last_login``, a password change) writes no history row.

The user recorded is the actor a service was called with (``records_actor``
wraps each service of these models, so jobs and commands name their actor too),
else the signed-in user of the web request (simple-history's
``HistoryRequestMiddleware``). ``QuerySet.update()`` and ``bulk_create`` send no
signals: a service that changes tracked rows that way records them with
``record_bulk_history`` (docs/architecture.md lists what is not recorded).
"""

import contextlib
import contextvars
import functools

from simple_history.models import HistoricalRecords

from .masking import sensitive_fields_of

# Columns no history row may hold, on every model.
ALWAYS_EXCLUDED = frozenset({"password", "last_login"})
# Any field named like this holds (a form of) the ID-card number.
ID_NUMBER_PREFIX = "id_number"
# MPTT's bookkeeping: rewritten by bulk UPDATEs on every move; ``parent`` is the
# tree's history.
TREE_FIELDS = frozenset({"lft", "rght", "tree_id", "depth"})

_actor = contextvars.ContextVar("history_actor", default=None)


def excluded_history_fields(model) -> list[str]:
    """The concrete fields of ``model`` its history never copies."""
    sensitive = sensitive_fields_of(model) | ALWAYS_EXCLUDED
    excluded = {
        field.name
        for field in model._meta.concrete_fields
        if field.name in sensitive or field.name.startswith(ID_NUMBER_PREFIX)
    }
    if hasattr(model, "_mptt_meta"):
        # django-mptt adds these columns after the class is prepared.
        excluded |= TREE_FIELDS
    return sorted(excluded)


def history_user(request=None, **kwargs):
    """The user a history row names: the service's actor, else the request's."""
    actor = _actor.get()
    if actor is not None:
        return actor
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


@contextlib.contextmanager
def history_actor(actor):
    """Within the block, history rows name ``actor`` (None: the request's user)."""
    token = _actor.set(actor if getattr(actor, "pk", None) is not None else None)
    try:
        yield
    finally:
        _actor.reset(token)


def records_actor(service):
    """Decorate a service taking ``actor=``: its saves are recorded as the actor's."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        with history_actor(kwargs.get("actor")):
            return service(*args, **kwargs)

    return wrapper


class PrivateHistoricalRecords(HistoricalRecords):
    """``HistoricalRecords`` that never copies personal data (module docstring)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("get_user", history_user)
        super().__init__(**kwargs)

    def finalize(self, sender, **kwargs):
        if sender is self.cls:
            self.excluded_fields = sorted(
                set(self.excluded_fields) | set(excluded_history_fields(sender))
            )
        super().finalize(sender, **kwargs)

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if (
            not created
            and update_fields is not None
            and set(update_fields) <= set(self.excluded_fields)
        ):
            return  # nothing the history keeps has changed
        super().post_save(instance, created, using=using, **kwargs)


def record_bulk_history(model, instances, *, actor=None) -> None:
    """One "changed" history row per instance, for rows a service changed with
    ``QuerySet.update()`` (no signal, so no row otherwise)."""
    instances = list(instances)
    if not instances:
        return
    user = actor if getattr(actor, "pk", None) is not None else _actor.get()
    model.history.bulk_history_create(instances, update=True, default_user=user)
