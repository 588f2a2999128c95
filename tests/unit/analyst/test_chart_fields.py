"""Each pattern's evidence places its event on the analyst's link chart: whose event it is (an
index into the lead's subjects), the document as presented, the party (the post's party id),
the trip ("<mode> <number> <day>") and the reporting country. flow_surge places no person."""

from __future__ import annotations

from schemas.event import Event
from schemas.lead import EvidenceItem, Lead, Pattern, SubjectDocument
from services.analyst.domain import Hit
from tests.unit.analyst.builders import P, event, flight, party, run
from tests.unit.analyst.test_escort import ESCORT, MINORS, _escorted
from tests.unit.analyst.test_surge import _week

FRIEND = P("ISMOILOV", "SANJAR", "1984-12-12", number="FA 222-3334")
WANTED = P("KHOLMATOV", "ALISHER", "1985-03-02", number="FA1234567")


def _lead(events: list[Event], pattern: Pattern, hits: list[Hit] | None = None) -> Lead:
    [lead] = [x for x in run(events, hits or []).leads.values() if x.pattern is pattern]
    return lead


def _by_event(lead: Lead) -> dict[str, EvidenceItem]:
    return {item.event_id: item for item in lead.evidence}


def _surname(lead: Lead, item: EvidenceItem) -> str:
    assert item.subject is not None
    traveller = lead.subjects[item.subject].traveller
    assert traveller is not None
    return traveller.surname


def test_serial_escort_names_the_party_the_flight_and_each_minors_index() -> None:
    events = [e for n, d in enumerate((0, 12, 33)) for e in _escorted(d, MINORS[n], f"P-{n:03d}")]
    lead = _lead(events, Pattern.SERIAL_ESCORT)
    items = _by_event(lead)
    days = ("2026-03-02", "2026-03-14", "2026-04-04")
    for n, day in enumerate(days):
        adult, minor = items[events[2 * n].event_id], items[events[2 * n + 1].event_id]
        assert adult.subject == 0
        assert minor.subject == n + 1
        assert _surname(lead, minor) == MINORS[n].surname
        assert f"minor #{n + 1}:" in minor.why
        assert adult.party == minor.party == f"P-{n:03d}"
        assert adult.transport == minor.transport == f"air HY{n:03d} {day}"
        assert adult.country == minor.country == "KAZ"
        assert adult.document == SubjectDocument(number=ESCORT.number or "", issuing_state="UZB")
        assert minor.document is None  # the minors showed none in these events


def test_minor_repeated_crossings_names_each_companion_and_the_crossing_alone() -> None:
    minor = P("NAZAROV", "SANJAR", "2012-10-10", number="FA5550001")
    first, second = P("TOSHMATOV", "RAVSHAN", "1975-01-01"), P("MIRZAEV", "FARRUKH", "1988-02-02")
    events = [
        event(first, 0, party=party("M-1", "guardian")),
        event(minor, 0, party=party("M-1")),
        event(minor, 9, country="KGZ", transport={"mode": "road", "number": "01 KG 777"}),
        event(second, 20, party=party("M-3")),
        event(minor, 20, party=party("M-3")),
    ]
    lead = _lead(events, Pattern.MINOR_REPEATED_CROSSINGS)
    items = _by_event(lead)
    assert [items[events[i].event_id].subject for i in (1, 2, 4)] == [0, 0, 0]
    assert {_surname(lead, items[e.event_id]) for e in (events[0], events[3])} == {
        "TOSHMATOV", "MIRZAEV",
    }  # fmt: skip
    assert items[events[0].event_id].subject != items[events[3].event_id].subject
    assert items[events[0].event_id].party == items[events[1].event_id].party == "M-1"
    alone = items[events[2].event_id]
    assert (alone.party, alone.transport, alone.country) == (None, "road 01KG777 2026-03-11", "KGZ")
    assert alone.document == SubjectDocument(number="FA5550001", issuing_state="UZB")


def test_associate_of_listed_names_the_party_and_the_transport_of_each_trip() -> None:
    first = [event(FRIEND, 0, party=party("A-1")), event(WANTED, 0, party=party("A-1"))]
    second = [event(FRIEND, 17, transport=flight("HY771")),
              event(WANTED, 17, transport=flight("HY771"))]  # fmt: skip
    hits = [
        Hit(e.event_id, "RED-2025-004711", "red_notice", "strong") for e in (first + second)[1::2]
    ]
    lead = _lead(first + second, Pattern.ASSOCIATE_OF_LISTED, hits)
    items = _by_event(lead)
    assert [items[e.event_id].subject for e in first + second] == [0, 1, 0, 1]
    assert lead.subjects[1].entry_id == "RED-2025-004711"
    assert {items[e.event_id].party for e in first} == {"A-1"}
    assert {items[e.event_id].transport for e in second} == {"air HY771 2026-03-19"}
    assert items[second[0].event_id].party is None
    # the document as the associate presented it, separators and all
    assert items[first[0].event_id].document == SubjectDocument(
        number="FA 222-3334", issuing_state="UZB"
    )


def test_document_many_identities_names_each_identity_and_where_it_was_shown() -> None:
    other = P("TURSUNOV", "BAHODIR", "1992-06-15", number="FA1234567")
    events = [event(WANTED, 0), event(other, 6, country="KGZ"), event(WANTED, 9)]
    lead = _lead(events, Pattern.DOCUMENT_MANY_IDENTITIES)
    items = _by_event(lead)
    assert [items[e.event_id].subject for e in events] == [1, 2, 1]  # 0 is the document
    assert [_surname(lead, items[e.event_id]) for e in events] == [
        "KHOLMATOV", "TURSUNOV", "KHOLMATOV",
    ]  # fmt: skip
    assert [items[e.event_id].country for e in events] == ["KAZ", "KGZ", "KAZ"]
    shown = SubjectDocument(number="FA1234567", issuing_state="UZB")
    assert all(items[e.event_id].document == shown for e in events)


def test_identity_many_documents_names_each_document_as_presented() -> None:
    events = [
        event(P("YOQUBOV", "SHAVKAT", "1981-09-09", number="FA0000001"), 0),
        event(P("YAKUBOV", "SHAVKAT", "1981-09-09", number="FA0000002"), 9),
        event(P("Ёкубов", "Шавкат", "1981-09-09", number="N12345678", state="KAZ"), 20),
    ]
    lead = _lead(events, Pattern.IDENTITY_MANY_DOCUMENTS)
    items = _by_event(lead)
    assert [items[e.event_id].subject for e in events] == [0, 0, 0]
    assert [
        (d.number, d.issuing_state)
        for d in (items[e.event_id].document for e in events)
        if d is not None
    ] == [("FA0000001", "UZB"), ("FA0000002", "UZB"), ("N12345678", "KAZ")]
    # the chart joins each event to its document subject: the same document, the same node
    assert [s.document for s in lead.subjects[1:]] == [items[e.event_id].document for e in events]


def test_flow_surge_evidence_places_no_person() -> None:
    events = [e for week in range(6) for e in _week(week, 3)] + _week(6, 30)
    lead = _lead(events, Pattern.FLOW_SURGE)
    assert lead.subjects == []
    for item in lead.evidence:
        assert (item.subject, item.document, item.party, item.transport) == (None,) * 4
