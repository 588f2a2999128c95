"""The matcher's alerts carry the listed side of the hit (``entry_person`` / ``entry_document``),
so a duty officer sees the listed person beside the traveller."""

from __future__ import annotations

import datetime as dt

from schemas.alert import MAX_ENTRY_DOCUMENTS, MAX_ENTRY_NAMES
from schemas.codec import encode
from services.matcher.domain import to_alert, to_alert_json
from tests.unit.matcher.helpers import event, person_entry, screen, sltd_entry

CREATED = dt.datetime(2026, 11, 22, 8, 16, tzinfo=dt.UTC)
NAMES = [
    {"surname": "KHOLMATOVA", "given_names": "DILNOZA", "patronymic": "RUSTAMOVNA"},
    {"surname": "Холматова", "given_names": "Дилноза"},
]


def test_a_person_alert_carries_the_listed_person_in_every_script() -> None:
    entry = person_entry(
        "RED-1", NAMES, date_of_birth="1990-02-03", sex="F", nationalities=["UZB", "KAZ"],
        documents=[{"number": "FA 123 4567", "issuing_state": "UZB", "type": "P"}],
    )  # fmt: skip
    [match] = screen([entry], event("KHOLMATOVA", "DILNOZA", date_of_birth="1990-02-03"))
    alert = to_alert(match, CREATED)
    assert alert.entry_person is not None
    assert [n.model_dump(exclude_none=True) for n in alert.entry_person.names] == NAMES
    assert str(alert.entry_person.date_of_birth) == "1990-02-03"
    assert alert.entry_person.nationalities == ["UZB", "KAZ"]
    assert [d.number for d in alert.entry_person.documents] == ["FA 123 4567"]  # as listed
    assert (alert.entry_document, alert.entry_omitted) == (None, None)
    assert to_alert_json(match, CREATED) == encode(alert)


def test_a_document_alert_carries_the_listed_document() -> None:
    document = {"number": "AB1234567", "issuing_state": "UZB", "type": "P"}
    [match] = screen([sltd_entry("SLTD-1", "AB 1234567")], event("ANYONE", document=document))
    alert = to_alert(match, CREATED)
    assert alert.entry_document is not None
    assert (alert.entry_document.number, alert.entry_document.status) == ("AB 1234567", "stolen")
    assert alert.entry_person is None
    assert to_alert_json(match, CREATED) == encode(alert)


def test_an_entry_with_many_names_is_cut_down_and_says_what_it_left_out() -> None:
    aliases = [{"surname": f"ALIAS{chr(65 + i % 26)}{i}", "given_names": "X"} for i in range(40)]
    documents = [{"number": f"N{i:07d}", "issuing_state": "UZB"} for i in range(15)]
    entry = person_entry("RED-2", [*NAMES, *aliases], date_of_birth="1990-02-03",
                         documents=documents)  # fmt: skip
    [match] = screen([entry], event("KHOLMATOVA", "DILNOZA", date_of_birth="1990-02-03"))
    alert = to_alert(match, CREATED)
    assert alert.entry_person is not None
    assert len(alert.entry_person.names) == MAX_ENTRY_NAMES
    assert alert.entry_person.names[0].surname == "KHOLMATOVA"  # the entry's own order
    assert len(alert.entry_person.documents) == MAX_ENTRY_DOCUMENTS
    assert alert.entry_omitted is not None
    assert (alert.entry_omitted.names, alert.entry_omitted.documents) == (32, 5)
    line = to_alert_json(match, CREATED)
    assert line == encode(alert)
    assert len(line) < 4_000


def test_an_entry_the_models_refuse_still_alerts_without_a_listed_side() -> None:
    # relay screen reads files that were never validated: a name with a control character
    entry = person_entry("RED-3", [{"surname": "KHOLMATOVA\x07", "given_names": "DILNOZA"}],
                         date_of_birth="1990-02-03")  # fmt: skip
    [match] = screen([entry], event("KHOLMATOVA", "DILNOZA", date_of_birth="1990-02-03"))
    alert = to_alert(match, CREATED)
    assert alert.entry_person is None
    assert alert.entry_id == "RED-3"
