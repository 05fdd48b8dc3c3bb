"""Model fields for personal data at rest (``grids.pii``)."""

from django.db import models


class EncryptedCharField(models.CharField):
    """A short text stored encrypted (``grids.pii.encrypt``) in a text column.

    In Python the value is the plain text, so forms, validators and services see
    the ID-card number as before; in the database it is a Fernet token. Nothing
    can be looked up by it (each encryption differs): ``filter(id_number=…)``
    raises ``FieldError``; look up through the blind index instead. ``max_length``
    applies to the plain text.
    """

    description = "Encrypted text"

    def get_internal_type(self):
        return "TextField"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        from .pii import decrypt

        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value  # "no phone" stays visible as empty, nothing more
        from .pii import encrypt

        return encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def get_transform(self, lookup_name):
        return None


class BlindIndexField(models.CharField):
    """The keyed hash (``grids.pii.blind_index``) of the field named ``source``,
    computed on every save and insert (``bulk_create`` included)."""

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if kwargs.get("max_length") == 64:
            del kwargs["max_length"]
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        from .pii import blind_index

        value = blind_index(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value
