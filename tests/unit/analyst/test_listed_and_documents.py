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


def test_a_namesakes_passport_between_two_uses_of_ones_own_is_not_in_turn() -> None:
    own = P("TURDUBAEV", "AZAMAT", "1991-12-09", number="LE1610370", state="KGZ")
    namesake = P("TURDUBAEV", "AZAMAT", "1991-09-12", number="LF2246263", state="KGZ")  # swapped
    assert patterns(run([event(own, 0), event(namesake, 7), event(own, 15)])) == []
    exact = P("TURDUBAEV", "AZAMAT", "1991-12-09", number="LF2246263", state="KGZ")
    assert patterns(run([event(own, 0), event(exact, 7), event(own, 15)])) == [
        "identity_many_documents"
    ]


def test_a_missing_child_beside_its_own_mother_is_no_associate_lead() -> None:
    mother = P("NAZAROVA", "DILNOZA", "1986-05-05", "F")
    child = P("NAZAROV", "BOBUR", "2016-02-01")
    events = [event(mother, 0, party=party("Y-2", "guardian")), event(child, 0, party=party("Y-2"))]
    hit = Hit(events[1].event_id, "YEL-2026-000002", "yellow_notice", "strong")
    assert patterns(run(events, [hit])) == []


def test_a_name_with_a_slip_weakens_the_link_between_documents() -> None:
    # Erlan and Erzhan are one edit apart: the matcher screens them as one name, but three
    # passports of one state over such links are three namesakes as likely as one person
    events = [
        event(P("ZHUMABAEV", "ERLAN", "1972-12-16", number="N52551885", state="KAZ"), 0),
        event(P("ЖҰМАБАЕВ", "ЕРЛАН", "1972-12-16", number="N02539579", state="KAZ"), 3),
        event(P("ZHUMABAEV", "ERZHAN", "1972-12-16", number="N00089210", state="KAZ"), 26),
    ]
    assert patterns(run(events)) == []


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


def test_namesakes_whose_dates_only_loosely_agree_are_no_lead() -> None:
    # one name, three passports of one state, the date swapped and a 1 January placeholder:
    # the matcher would screen them as one person, but three holders is likelier than one
    events = [
        event(P("MIRZOEV", "RUSTAM", "1973-09-11", number="400000001", state="TJK"), 0),
        event(P("MIRZOYEV", "RUSTAM", "1973-01-01", number="400000002", state="TJK"), 14),
        event(P("MIRZOEV", "RUSTAM", "1973-11-09", number="400000003", state="TJK"), 18),
    ]
    assert patterns(run(events)) == []


def test_two_boys_of_one_name_and_birthday_with_other_fathers_are_two_people() -> None:
    first = P("GURBANOW", "SERDAR", "2012-02-14", "M", "A1000001", "TKM", "DOWLETOWIÇ")
    other = P("GURBANOW", "SERDAR", "2012-02-14", "M", "A1000002", "TKM", "MAKSATOWIÇ")
    events = [event(first, 0), event(other, 9), event(first, 20)]
    assert patterns(run(events)) == []  # not one boy using two passports in turn


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
