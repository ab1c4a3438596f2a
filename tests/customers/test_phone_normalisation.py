"""The fast path for Chinese mobile numbers must give phonenumbers' verdict, number for number."""

import phonenumbers
import pytest
from hypothesis import given, settings, strategies as st

from core.customers import validation as v
from core.errors import KehuError


def _phonenumbers_verdict(value: str) -> str | None:
    try:
        parsed = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _ours(value: str) -> str | None:
    try:
        return v.phone(value)
    except KehuError as error:
        assert error.code == "PHONE_INVALID"
        return None


eleven_digits = st.from_regex(r"\A1[0-9]{10}\Z")


@settings(max_examples=3000, deadline=None)
@given(number=eleven_digits, prefix=st.sampled_from(["", "+86", "86", "+86 ", "0086"]))
def test_every_eleven_digit_number_gets_the_verdict_of_phonenumbers(number: str, prefix: str) -> None:
    assert _ours(prefix + number) == _phonenumbers_verdict(prefix + number)


@pytest.mark.parametrize("value", ["13912345678", "+8613912345678", "19912345678", "16612345678",
                                   "14012345678", "17912345678", "12012345678", "１３９１２３４５６７８",
                                   "139 1234 5678", "010-12345678"])
def test_edge_numbers_agree(value: str) -> None:
    assert _ours(value) == _phonenumbers_verdict(value)
