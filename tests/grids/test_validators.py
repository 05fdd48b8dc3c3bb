import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from grids.masking import mask_id_number, mask_name, mask_phone
from grids.validators import (
    build_id_number,
    gender_from_id,
    validate_id_number,
    validate_mainland_phone,
)

# A textbook-valid number (GB 11643 example with check character X).
VALID_WITH_X = "11010519491231002X"


def test_valid_id_numbers_pass():
    validate_id_number(VALID_WITH_X)
    validate_id_number(VALID_WITH_X.lower())
    validate_id_number(build_id_number("370102", dt.date(1990, 1, 1), 123))


def test_bad_check_digit_is_refused_with_its_reason():
    with pytest.raises(ValidationError) as exc:
        validate_id_number("110105194912310021")
    assert exc.value.code == "id_check_digit"


@pytest.mark.parametrize("value", ["11010519491231002", "11010519491231002X1", ""])
def test_wrong_length_is_refused(value):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(value)
    assert exc.value.code == "id_length"


def test_impossible_birth_date_is_refused():
    first17 = "37010219900230123"  # 30 February
    from grids.validators import id_number_check_char

    with pytest.raises(ValidationError) as exc:
        validate_id_number(first17 + id_number_check_char(first17))
    assert exc.value.code == "id_birth_date"


def test_letters_inside_are_refused():
    with pytest.raises(ValidationError) as exc:
        validate_id_number("1101051949A231002X")
    assert exc.value.code == "id_shape"


def test_error_message_speaks_chinese_by_default_and_english_when_asked():
    with pytest.raises(ValidationError) as exc:
        validate_id_number("110105194912310021")
    with translation.override("zh-hans"):
        assert "校验位" in exc.value.messages[0]
    with translation.override("en"):
        assert "check digit" in exc.value.messages[0]


def test_gender_from_id():
    assert gender_from_id(build_id_number("370102", dt.date(1990, 1, 1), 123)) == "male"
    assert (
        gender_from_id(build_id_number("370102", dt.date(1990, 1, 1), 124)) == "female"
    )


@pytest.mark.parametrize(
    "phone", ["13812345678", "+86 138 1234 5678", "0531-86012345", "053186012345"]
)
def test_mainland_phones_pass(phone):
    validate_mainland_phone(phone)


@pytest.mark.parametrize(
    "phone", ["12812345678", "1381234567", "abc", "+1 415 555 0100"]
)
def test_other_phones_fail(phone):
    with pytest.raises(ValidationError):
        validate_mainland_phone(phone)


def test_masking():
    assert mask_id_number("371302199001011234") == "3713**********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("张三") == "张*"
    assert mask_id_number("") == ""
