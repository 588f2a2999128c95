"""Field types: countries, partial dates, names, document numbers; and the entry rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from schemas.common import (
    CountryCode,
    DocumentNumber,
    NameText,
    PartialDate,
    normalise_document_number,
    partial_date_parts,
    to_alpha3,
)
from schemas.event import TravelDocument
from schemas.watchlist import WatchlistEntry
from tests.unit.schemas.examples import RED_NOTICE, SLTD

country = TypeAdapter(CountryCode)
partial_date = TypeAdapter(PartialDate)
name = TypeAdapter(NameText)
document_number = TypeAdapter(DocumentNumber)


@pytest.mark.parametrize(
    "code", ["UZB", "KAZ", "KGZ", "TJK", "TKM", "RUS", "IND", "BEL", "XXA", "UNO"]
)
def test_country_accepts_alpha3_and_icao_codes(code: str) -> None:
    assert country.validate_python(code) == code


@pytest.mark.parametrize("code", ["XYZ", "UZ", "uzb", "D", "UTO", "", "UZBK"])
def test_country_rejects_others_naming_the_code(code: str) -> None:
    with pytest.raises(ValidationError, match=r"country_code|alpha-3"):
        country.validate_python(code)


@pytest.mark.parametrize(
    ("given_code", "alpha3"),
    [("UZ", "UZB"), ("kz", "KAZ"), ("UZB", "UZB"), ("D", "DEU"), ("D<<", "DEU"), (" be ", "BEL")],
)
def test_to_alpha3(given_code: str, alpha3: str) -> None:
    assert to_alpha3(given_code) == alpha3


def test_to_alpha3_names_the_unknown_code() -> None:
    with pytest.raises(ValueError, match="'QQ'"):
        to_alpha3("QQ")


@pytest.mark.parametrize("value", ["1985", "1985-03", "1985-03-02", "2024-02-29"])
def test_partial_dates(value: str) -> None:
    assert partial_date.validate_python(value) == value


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("2025-02-30", "impossible_date"),
        ("2023-02-29", "impossible_date"),
        ("1985-13", "impossible_date"),
        ("0000", "impossible_date"),
        ("85", "partial_date_format"),
        ("02.03.1985", "partial_date_format"),
        ("1985-3-2", "partial_date_format"),
        ("1985-03-02\n", "partial_date_format"),  # a trailing newline would be kept
        ("1985\n", "partial_date_format"),
        ("\u0661\u0669\u0668\u0665-03", "partial_date_format"),  # Arabic-Indic digits
    ],
)
def test_impossible_or_malformed_dates(value: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        partial_date.validate_python(value)
    assert caught.value.errors()[0]["type"] == rule


def _letters(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789 +\u0662", min_size=size, max_size=size)


@given(st.builds("{}-{}-{}".format, _letters(4), _letters(2), _letters(2)))
def test_ten_letter_dates_follow_the_rule(text: str) -> None:
    # full dates take a shortcut through the C date parser: it must agree with the rule
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) is None:
        expected = "partial_date_format"
    else:
        try:
            dt.date(int(text[:4]), int(text[5:7]) or 1, int(text[8:]) or 1)  # 00: not known
            expected = "ok"
        except ValueError:
            expected = "impossible_date"
    try:
        assert partial_date.validate_python(text) == text
        outcome = "ok"
    except ValidationError as exc:
        outcome = exc.errors()[0]["type"]
    assert outcome == expected


def test_partial_date_parts() -> None:
    assert partial_date_parts("1985") == (1985, None, None)
    assert partial_date_parts("1985-03") == (1985, 3, None)
    assert partial_date_parts("1985-03-02") == (1985, 3, 2)


@given(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))
def test_every_calendar_date_is_a_partial_date(day: dt.date) -> None:
    text = day.isoformat()
    assert partial_date.validate_python(text) == text
    assert partial_date.validate_python(text[:7]) == text[:7]


@pytest.mark.parametrize("value", ["Холматов", "Ñúñez-O'Brien", "ХОЛМАТОВ Алишер", "Kholmatov"])
def test_names_in_any_script_kept_as_given(value: str) -> None:
    assert name.validate_python(value) == value


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("A\u202eB", "name_bidi_char"),
        ("A\u2066B", "name_bidi_char"),
        ("A\u200dB", "name_zero_width_char"),
        ("A\ufeffB", "name_zero_width_char"),
        ("A\x00B", "name_control_char"),
        ("A\tB", "name_control_char"),
        ("   ", "name_blank"),
        ("", "string_too_short"),
        ("A" * 201, "string_too_long"),
    ],
)
def test_names_reject_hidden_characters(value: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        name.validate_python(value)
    assert caught.value.errors()[0]["type"] == rule


@given(st.text(alphabet=st.characters(categories=["L", "M"]), min_size=1, max_size=200))
def test_any_letters_are_a_name(value: str) -> None:
    assert name.validate_python(value) == value


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("FA 123-45.67", "FA1234567"), ("fa1234567", "FA1234567"), ("AB/12 34", "AB1234")],
)
def test_document_number_original_kept_normalised_derived(raw: str, normalised: str) -> None:
    assert normalise_document_number(raw) == normalised
    doc = TravelDocument(number=raw, issuing_state="UZB")
    assert doc.number == raw
    assert doc.normalised_number == normalised


@pytest.mark.parametrize("raw", ["---", "FA#123", "", "A" * 41])
def test_document_number_rejects(raw: str) -> None:
    with pytest.raises(ValidationError):
        document_number.validate_python(raw)


def test_dissemination_rule() -> None:
    restricted = WatchlistEntry.model_validate(RED_NOTICE)
    assert restricted.may_disseminate_to("KAZ")
    assert restricted.may_disseminate_to("UZB")
    assert not restricted.may_disseminate_to("RUS")
    open_entry = WatchlistEntry.model_validate(SLTD)
    assert open_entry.may_disseminate_to("RUS")


def test_python_callers_may_pass_plain_strings_for_enums() -> None:
    entry = WatchlistEntry.model_validate(SLTD)
    assert entry.list == "sltd"
    assert entry.document is not None
    assert entry.document.status == "stolen"
