"""associate_of_listed, document_many_identities, identity_many_documents and their near-misses."""

from __future__ import annotations

from schemas.lead import Pattern
from services.analyst.domain import Hit
from tests.unit.analyst.builders import P, event, flight, party, patterns, run

WANTED = P("KHOLMATOV", "ALISHER", "1985-03-02", number="FA1234567")
FRIEND = P("ISMOILOV", "SANJAR", "1984-12-12", number="FA2223334")
FRIEND_CYRILLIC = P("Исмоилов", "Санжар", "1984-12-12", number="FA2223334")


def _red(event_id: str, band: str = "strong") -> Hit:
    return Hit(event_id, "RED-2025-004711", "red_notice", band, ("KAZ",), "UZB")


def test_twice_beside_a_wanted_person_is_a_lead_that_inherits_the_restriction() -> None:
    first = [event(FRIEND, 0, party=party("A-1")), event(WANTED, 0, party=party("A-1"))]
    second = [event(FRIEND_CYRILLIC, 17, transport=flight("HY771")),
              event(WANTED, 17, transport=flight("HY771"))]  # fmt: skip
    hits = [_red(first[1].event_id), _red(second[1].event_id)]
    analyser = run(first + second, hits)
    [lead] = analyser.leads.values()
    assert lead.pattern is Pattern.ASSOCIATE_OF_LISTED
    assert [s.role for s in lead.subjects] == ["associate", "listed"]
    assert lead.subjects[1].entry_id == "RED-2025-004711"
    assert lead.dissemination is not None
    assert sorted(lead.dissemination.restricted_to) == ["KAZ", "UZB"]
    assert len(lead.evidence) == 4
    assert "same party" in lead.evidence[0].why


def test_once_or_a_possible_hit_is_not_enough() -> None:
    once = [event(FRIEND, 0, party=party("A-1")), event(WANTED, 0, party=party("A-1"))]
    assert patterns(run(once, [_red(once[1].event_id)])) == []
    twice = [*once, event(FRIEND, 9, party=party("A-2")), event(WANTED, 9, party=party("A-2"))]
    possible = [_red(twice[1].event_id, "possible"), _red(twice[3].event_id, "possible")]
    assert patterns(run(twice, possible)) == []


def test_an_alert_after_its_event_still_pairs() -> None:
    one, two = party("A-1"), party("A-2")
    events = [event(FRIEND, 0, party=one), event(WANTED, 0, party=one),
              event(WANTED, 8, party=two), event(FRIEND, 8, party=two)]  # fmt: skip
    analyser = run(events)
    assert analyser.leads == {}
    analyser.observe_hit(_red(events[1].event_id))
    grown = analyser.observe_hit(_red(events[2].event_id))
    assert [lead.pattern for lead in grown] == [Pattern.ASSOCIATE_OF_LISTED]


def test_once_with_a_missing_minor_is_a_lead() -> None:
    child = P("NAZAROVA", "MADINA", "2014-02-01", "F")
    events = [event(FRIEND, 0, party=party("Y-1", "guardian")), event(child, 0, party=party("Y-1"))]
    hit = Hit(events[1].event_id, "YEL-2026-000001", "yellow_notice", "strong")
    assert patterns(run(events, [hit])) == ["associate_of_listed"]


def test_two_colleagues_on_one_flight_again_and_again_are_no_lead() -> None:
    colleague = P("SAFAROV", "RAVSHAN", "1990-01-01", number="FA3334445")
    events = []
    for week in range(8):
        trip, together = flight("HY555"), party(f"C-{week}")
        events += [event(FRIEND, 7 * week, party=together, transport=trip),
                   event(colleague, 7 * week, party=together, transport=trip)]  # fmt: skip
    assert patterns(run(events)) == []


def test_one_passport_under_two_identities() -> None:
    other = P("TURSUNOV", "BAHODIR", "1992-06-15", number="FA1234567")
    events = [event(WANTED, 0), event(other, 6, country="KGZ"), event(WANTED, 9)]
    [lead] = run(events).leads.values()
    assert lead.pattern is Pattern.DOCUMENT_MANY_IDENTITIES
    assert [s.role for s in lead.subjects] == ["document", "identity", "identity"]
    assert lead.subjects[0].document is not None
    assert lead.subjects[0].document.number == "FA1234567"
    assert "identity #2 of 2" in lead.evidence[1].why


def test_one_person_writing_the_name_in_another_script_is_one_identity() -> None:
    cyrillic = P("Холматов", "Алишер", "1985-02-03", number="FA 123 4567")  # swapped day/month
    events = [event(WANTED, 0), event(cyrillic, 6), event(WANTED, 12)]
    assert patterns(run(events)) == []


def test_one_person_with_three_documents() -> None:
    events = [
        event(P("YOQUBOV", "SHAVKAT", "1981-09-09", number="FA0000001"), 0),
        event(P("YAKUBOV", "SHAVKAT", "1981-09-09", number="FA0000002"), 9),  # another standard
        event(P("Ёкубов", "Шавкат", "1981-09-09", number="N12345678", state="KAZ"), 20),
    ]
    [lead] = run(events).leads.values()
    assert lead.pattern is Pattern.IDENTITY_MANY_DOCUMENTS
    assert [s.role for s in lead.subjects] == ["person", "document", "document", "document"]
    assert "3 different documents" in lead.summary


def test_a_renewed_passport_is_no_lead_but_two_used_in_turn_is() -> None:
    old = P("UMAROV", "ZAFAR", "1977-04-04", number="FA4440001")
    new = P("UMAROV", "ZAFAR", "1977-04-04", number="FA9990002")
    renewal = [event(old, 0), event(old, 10), event(new, 20), event(new, 30), event(new, 40)]
    assert patterns(run(renewal)) == []
    in_turn = [event(old, 0), event(new, 10), event(old, 20)]
    assert patterns(run(in_turn)) == ["identity_many_documents"]


def test_a_wanted_parents_child_is_not_an_associate() -> None:
    child = P("KHOLMATOV", "BOBUR", "2015-05-05")
    events = []
    for n in range(3):
        events += [event(WANTED, 9 * n, party=party(f"K-{n}", "guardian")),
                   event(child, 9 * n, party=party(f"K-{n}"))]  # fmt: skip
    hits = [_red(e.event_id) for e in events[::2]]
    assert patterns(run(events, hits)) == []
