"""Entries published without a forename (INTERPOL: ``forename: null`` or ``"-"``) still
alert on a traveller with the same surname and birth date, whatever given name he travels on."""

from __future__ import annotations

from tests.unit.matcher.helpers import event, person_entry, screen

BORN = "1979-03-14"


def test_an_entry_without_a_forename_alerts_on_a_traveller_who_has_one() -> None:
    entry = person_entry("RED-2026-10847", [{"surname": "KARIMOV"}], date_of_birth=BORN)
    for given in ("BAKHTIYOR", "RUSTAM ALIEVICH"):
        [match] = screen([entry], event("KARIMOV", given, date_of_birth=BORN))
        assert match.entry_id == "RED-2026-10847"


def test_without_a_forename_the_surname_and_birth_date_must_still_agree() -> None:
    entry = person_entry("RED-2026-10847", [{"surname": "KARIMOV"}], date_of_birth=BORN)
    assert screen([entry], event("KARIMOV", "BAKHTIYOR", date_of_birth="1985-07-01")) == []
    assert screen([entry], event("NAZAROV", "BAKHTIYOR", date_of_birth=BORN)) == []


def test_an_entry_with_a_forename_still_needs_it_matched() -> None:
    entry = person_entry(
        "RED-2026-1", [{"surname": "KARIMOV", "given_names": "DILSHOD"}], date_of_birth=BORN
    )
    assert screen([entry], event("KARIMOV", "BAKHTIYOR", date_of_birth=BORN)) == []
