"""Masking of personal data for display. Stored values stay whole."""


def mask_id_number(value: str | None) -> str:
    """``371302199001011234`` → ``3713**********1234``."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``; landlines keep area code and last 2."""
    if not value:
        return ""
    if len(value) == 11 and value.startswith("1"):
        return value[:3] + "****" + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def mask_name(value: str | None) -> str:
    """``张三丰`` → ``张*丰``, ``张三`` → ``张*``: for public rankings."""
    if not value:
        return ""
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


# --- Which fields are personal data -------------------------------------------
# A model lists its personal-data fields in ``sensitive_fields`` (the ID-card
# number, and what is derived from it: birth date and gender; phones). Field
# names every app uses for personal data are sensitive wherever they appear.
SENSITIVE_FIELD_NAMES = frozenset(
    {"id_number", "phone", "reporter_phone", "reporter_name"}
)


def sensitive_fields_of(model) -> frozenset:
    """The names of ``model``'s personal-data fields."""
    return frozenset(getattr(model, "sensitive_fields", ())) | SENSITIVE_FIELD_NAMES


def is_sensitive_path(model, path: str) -> bool:
    """Whether the lookup ``path`` from ``model`` (``resident__birth_date__year``,
    ``household__residents__id_number``, ``-phone``, ``=phone``) reaches a
    personal-data field, following relations forward and backward."""
    from django.core.exceptions import FieldDoesNotExist
    from django.db.models.constants import LOOKUP_SEP

    parts = str(path).lstrip("-=^@").split(LOOKUP_SEP)
    for index, part in enumerate(parts):
        if model is None:
            return bool(set(parts[index:]) & SENSITIVE_FIELD_NAMES)
        if part in sensitive_fields_of(model):
            return True
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            # A transform or lookup (``year``, ``gte``) or a custom parameter.
            return bool(set(parts[index:]) & SENSITIVE_FIELD_NAMES)
        if not field.is_relation:
            return False
        model = field.related_model
    return False


def age_band(birth_date, on=None) -> str:
    """The age band shown instead of a birth date (which would unmask the ID)."""
    import datetime as dt

    from django.utils.translation import gettext as _

    if birth_date is None:
        return ""
    on = on or dt.date.today()
    age = (
        on.year
        - birth_date.year
        - ((on.month, on.day) < (birth_date.month, birth_date.day))
    )
    if age < 18:
        return _("under 18")
    if age < 60:
        return _("18–59")
    if age < 80:
        return _("60–79")
    return _("80 and over")
