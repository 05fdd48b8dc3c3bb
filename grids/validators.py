"""Validators for personal data: ID-card numbers (GB 11643) and mainland phones."""

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# ASCII digits only: Chinese input methods type full-width ones (１２３), which
# normalize_* turns into ASCII before these patterns see them.
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")


def id_number_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True)
    )
    return ID_CHECK_CHARS[total % 11]


def normalize_id_number(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().upper()


def validate_id_number(value: str) -> None:
    value = normalize_id_number(value)
    if len(value) != 18:
        raise ValidationError(
            _("An ID-card number has 18 characters; this one has %(count)d."),
            code="id_length",
            params={"count": len(value)},
        )
    if not _ID_SHAPE.match(value):
        raise ValidationError(
            _("An ID-card number is 17 digits followed by a digit or X."),
            code="id_shape",
        )
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        born = None
    if born is None or born > dt.date.today() or born.year < 1890:
        raise ValidationError(
            _("The birth date inside the ID-card number is not a real date."),
            code="id_birth_date",
        )
    if id_number_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _(
                "The check digit of the ID-card number is wrong: please check the number."
            ),
            code="id_check_digit",
        )


def birth_date_from_id(value: str) -> dt.date:
    value = normalize_id_number(value)
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def gender_from_id(value: str) -> str:
    """'male' or 'female' from the 17th digit (odd: male)."""
    return "male" if int(normalize_id_number(value)[16]) % 2 else "female"


def normalize_phone(value: str) -> str:
    value = re.sub(r"[\s()]", "", unicodedata.normalize("NFKC", value or ""))
    if value.startswith("+86"):
        value = value[3:]
    return value


def is_mobile_phone(value: str) -> bool:
    """A mainland mobile number (the only kind that receives text messages)."""
    return bool(_MOBILE.match(normalize_phone(value)))


def validate_mainland_phone(value: str) -> None:
    value = normalize_phone(value)
    if not (_MOBILE.match(value) or _LANDLINE.match(value)):
        raise ValidationError(
            _(
                "Enter a mainland China phone number: 11 digits starting with 1, or a landline with its area code."
            ),
            code="phone",
        )


def build_id_number(area_code: str, birth_date: dt.date, sequence: int) -> str:
    """A well-formed ID-card number (demo data and tests): area, birth date, 3-digit
    sequence (odd for men), check character."""
    first17 = f"{area_code[:6]:0<6}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_number_check_char(first17)


GEOJSON_AREA_TYPES = ("Polygon", "MultiPolygon")


def validate_geojson_boundary(value) -> None:
    """A GeoJSON Polygon or MultiPolygon geometry (or a Feature holding one)."""
    if value in (None, ""):
        return
    geometry = value.get("geometry") if isinstance(value, dict) else None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = geometry
    if (
        not isinstance(value, dict)
        or value.get("type") not in GEOJSON_AREA_TYPES
        or not isinstance(value.get("coordinates"), list)
        or not value["coordinates"]
    ):
        raise ValidationError(
            _("The boundary must be a GeoJSON Polygon or MultiPolygon."),
            code="geojson",
        )
