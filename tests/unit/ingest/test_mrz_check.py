"""MRZ cross-check: disagreements flagged (never overwritten), gaps filled from a valid MRZ."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from schemas.event import Event
from schemas.mrz import read_mrz
from services.ingest.domain.intake import validate
from services.ingest.domain.mrz_check import (
    DISAGREES,
    FILLED,
    cross_check,
    dates_agree,
    names_agree,
)
from tests.unit.schemas.examples import EVENT

TODAY = dt.date(2026, 11, 22)


def checked(change: Any = None) -> Event:
    raw = copy.deepcopy(EVENT)
    if change is not None:
        change(raw)
    event = validate(raw)
    assert isinstance(event, Event)
    assert event.document
    assert event.document.mrz
    return cross_check(event, read_mrz(event.document.mrz, today=TODAY))


def flags(event: Event) -> dict[str, str]:
    return {f.field: f.reason for f in event.flags}


def test_agreeing_event_has_no_flags() -> None:
    event = checked()
    assert event.mrz_valid is True
    assert event.flags == []


def test_disagreements_are_flagged_and_the_sent_value_kept() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["traveller"].update(surname="KHOLMATOVA", date_of_birth="1985-03-03", sex="F")
        raw["document"].update(number="FA1234568", expiry_date="2031-05-02", issuing_state="KAZ")

    event = checked(change)
    assert flags(event) == {
        "traveller.surname": DISAGREES, "traveller.date_of_birth": DISAGREES,
        "traveller.sex": DISAGREES, "document.number": DISAGREES,
        "document.expiry_date": DISAGREES, "document.issuing_state": DISAGREES,
    }  # fmt: skip
    assert event.traveller.surname == "KHOLMATOVA"
    assert event.document is not None
    assert event.document.number == "FA1234568"


def test_missing_fields_are_filled_from_a_valid_mrz_and_flagged_as_filled() -> None:
    def change(raw: dict[str, Any]) -> None:
        for key in ("given_names", "date_of_birth", "sex", "nationality"):
            del raw["traveller"][key]
        del raw["document"]["expiry_date"], raw["document"]["type"]

    event = checked(change)
    person, doc = event.traveller, event.document
    assert (person.given_names, person.date_of_birth, person.sex, person.nationality) == (
        "ALISHER", "1985-03-02", "M", "UZB",
    )  # fmt: skip
    assert doc is not None
    assert (doc.expiry_date, doc.type) == ("2031-05-01", "P")
    assert set(flags(event).values()) == {FILLED}
    assert len(event.flags) == 6


def test_an_invalid_mrz_is_flagged_and_fills_nothing() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["document"]["mrz"][1] = raw["document"]["mrz"][1].replace("FA12345673", "FA12345679")
        del raw["traveller"]["sex"]

    event = checked(change)
    assert event.mrz_valid is False
    assert list(flags(event)) == ["document.mrz"]
    assert "check digit" in flags(event)["document.mrz"]
    assert event.traveller.sex is None


def test_other_scripts_partial_dates_and_lower_case_are_not_disagreements() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["traveller"].update(surname="Холматов", given_names="Alisher", date_of_birth="1985")

    assert checked(change).flags == []


def test_name_and_date_rules() -> None:
    assert names_agree("Müller", "MUELLER", truncated=False)
    assert names_agree("Müller", "MULLER", truncated=False)
    assert names_agree("O'Brien-Smith", "OBRIEN SMITH", truncated=False)
    assert names_agree("Holmatova-Abdullaeva", "HOLMATOVA ABDU", truncated=True)
    assert not names_agree("Holmatova-Abdullaeva", "HOLMATOVA ABDU", truncated=False)
    assert names_agree("Иванов", "IVANOV", truncated=False) is None
    assert dates_agree("1925-03-02", "2025-03-02")  # an MRZ year has two digits
    assert dates_agree("1985-03", "1985-03-02")
    assert not dates_agree("1985-04", "1985-03-02")


NAMES = st.text(alphabet="ABCXYZabcÄÖüéЖ' -<", max_size=12)


@given(NAMES, st.booleans())
def test_a_name_sent_as_printed_agrees_as_the_letter_comparison_says(name: str, cut: bool) -> None:
    # names_agree short-cuts equal texts; a trailing space (not a letter) takes the long way
    assert names_agree(name, name, truncated=cut) == names_agree(name, name + " ", truncated=cut)


@given(st.one_of(st.dates().map(dt.date.isoformat), st.text(max_size=12)))
def test_a_date_always_agrees_with_itself(value: str) -> None:
    assert dates_agree(value, value)
