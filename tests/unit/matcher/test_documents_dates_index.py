"""Documents, dates of birth, urgency, cancellation and alerts."""

from __future__ import annotations

import datetime as dt

import pytest

from services.matcher.domain import WatchlistIndex, dates, entry_record, to_alert
from services.matcher.domain.documents import normalise_number
from tests.unit.matcher.helpers import event, person_entry, screen, sltd_entry


def _document(number: str, state: str = "UZB") -> dict[str, str]:
    return {"number": number, "issuing_state": state, "type": "P"}


@pytest.mark.parametrize("number", ["AA1234567", "aa 123-4567", "АА1234567", "aa.123/4567"])
def test_sltd_number_in_any_format_or_cyrillic_series_alerts(number: str) -> None:
    [match] = screen(
        [sltd_entry("DOC-1", "AA1234567")], event("ANYONE", "AT ALL", document=_document(number))
    )
    assert (match.kind, match.band, match.list) == ("document", "strong", "sltd")


@pytest.mark.parametrize(("number", "state"), [("AA1234567", "KAZ"), ("AA1234568", "UZB")])
def test_other_state_or_one_digit_off_does_not_alert(number: str, state: str) -> None:
    assert (
        screen(
            [sltd_entry("DOC-1", "AA1234567")], event("X", "Y", document=_document(number, state))
        )
        == []
    )


def test_listed_persons_passport_alerts_under_any_name() -> None:
    entry = person_entry(
        "RED-1",
        [{"surname": "KHOLMATOV", "given_names": "ALISHER"}],
        documents=[_document("FA1234567")],
    )
    [match] = screen([entry], event("PETROV", "IVAN", document=_document("FA 1234567")))
    assert (match.kind, match.band, match.urgency) == ("document", "strong", "urgent")
    assert any(item.field == "name" and item.how == "different" for item in match.evidence)


def test_normalise_number() -> None:
    assert normalise_number(" ab-12 34.5/6 ") == "AB123456"
    assert normalise_number("ЕК123") == "EK123"


@pytest.mark.parametrize(
    ("event_dob", "entry_dob", "how", "contradicts"),
    [
        ("1985-03-02", "1985-03-02", "exact", False),
        ("1985-03-02", "1985", "partial_date", False),
        ("1985-03-02", "1985-01-01", "placeholder_date", False),
        ("1985-03-02", "1985-02-03", "day_month_swapped", False),
        ("1985-03-02", "1995-03-02", "different", True),
        ("1985-03-02", None, "unknown", False),
    ],
)
def test_date_comparison(
    event_dob: str, entry_dob: str | None, how: str, contradicts: bool
) -> None:
    found = dates.compare(event_dob, entry_dob)
    assert (found.how, found.contradicts) == (how, contradicts)


def test_yellow_notice_of_a_minor_is_urgent_and_of_an_adult_normal() -> None:
    def one(dob: str) -> str:
        entry = person_entry(
            "YEL-1",
            [{"surname": "SADYKOVA", "given_names": "MADINA"}],
            list="yellow_notice",
            date_of_birth=dob,
        )
        [match] = screen([entry], event("SADYKOVA", "MADINA", date_of_birth=dob))
        return match.urgency

    assert one("2012-06-01") == "urgent"
    assert one("1990-06-01") == "normal"


def test_cancelled_entry_stops_matching() -> None:
    entry = person_entry("RED-1", [{"surname": "KHOLMATOV", "given_names": "ALISHER"}])
    index = WatchlistIndex()
    index.upsert(entry_record(entry))
    index.upsert(entry_record(sltd_entry("DOC-1", "AA1234567")))
    assert len(index) == 2
    index.upsert(entry_record({**entry, "status": "cancelled"}))
    index.remove("DOC-1")
    assert len(index) == 0
    assert screen([entry, {**entry, "status": "cancelled"}], event("KHOLMATOV", "ALISHER")) == []


def test_alert_id_is_stable_and_alert_is_valid() -> None:
    entry = person_entry(
        "RED-1", [{"surname": "Холматов", "given_names": "Алишер"}], nationalities=["UZB"]
    )
    [match] = screen([entry], event("KHOLMATOV", "ALISHER"))
    now = dt.datetime(2026, 11, 22, 8, 15, 31, tzinfo=dt.UTC)
    first, second = to_alert(match, now), to_alert(match, now + dt.timedelta(hours=1))
    assert first.alert_id == second.alert_id
    assert first.kind == "person"
    assert first.explanation[0].how == "transliteration"
