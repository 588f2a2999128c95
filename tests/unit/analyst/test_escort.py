"""serial_escort and minor_repeated_crossings, and the family that must not become a lead."""

from __future__ import annotations

import datetime as dt

from schemas.event import Event
from schemas.lead import Pattern
from tests.unit.analyst.builders import P, event, flight, party, patterns, run

ESCORT = P("YUSUPOV", "BOTIR", "1979-05-11", number="FA1112223")
ESCORT_CYRILLIC = P("Юсупов", "Ботир", "1979-05-11", number="FA1112223")
MINORS = [
    P("NAZAROVA", "MADINA", "2013-02-01", "F"),
    P("TURSUNOV", "JASUR", "2012-07-19"),
    P("ERGASHEVA", "ZARINA", "2014-11-30", "F"),
    P("SAFAROV", "AKMAL", "2011-01-09"),
]


def _escorted(day: float, minor: P, pid: str, consent: str | None = "not_shown") -> list[Event]:
    adult = ESCORT_CYRILLIC if day > 10 else ESCORT  # one person, written in two scripts
    return [
        event(adult, day, party=party(pid, "guardian"), transport=flight(f"HY{pid[-3:]}")),
        event(minor, day, party=party(pid, consent=consent), transport=flight(f"HY{pid[-3:]}")),
    ]


def test_one_adult_with_three_unrelated_minors_is_one_lead() -> None:
    events = [e for n, d in enumerate((0, 12, 33)) for e in _escorted(d, MINORS[n], f"P-{n:03d}")]
    analyser = run(events)
    [lead] = [lead for lead in analyser.leads.values() if lead.pattern is Pattern.SERIAL_ESCORT]
    assert {e.event_id for e in lead.evidence} == {e.event_id for e in events}
    assert [s.role for s in lead.subjects] == ["escort", "minor", "minor", "minor"]
    assert "3 different minors" in lead.summary
    assert "no parental consent shown" in " ".join(e.why for e in lead.evidence)
    assert lead.score >= 0.85  # guardian and missing consent raise it


def test_the_lead_grows_and_is_never_doubled() -> None:
    events = [e for n, d in enumerate((0, 12, 33)) for e in _escorted(d, MINORS[n], f"P-{n:03d}")]
    analyser = run(events)
    [first] = analyser.leads.values()
    fourth = _escorted(40, MINORS[3], "P-004")
    grown = [lead for e in fourth for lead in analyser.observe(e)]
    assert grown
    assert grown[-1].lead_id == first.lead_id
    assert len(grown[-1].evidence) == len(first.evidence) + 2
    assert grown[-1].created_at == first.created_at
    assert len(analyser.leads) == 1
    assert analyser.observe(fourth[0]) == []  # the same event again changes nothing


def test_two_minors_or_a_longer_spell_are_not_enough() -> None:
    two = [e for n, d in enumerate((0, 12)) for e in _escorted(d, MINORS[n], f"P-{n:03d}")]
    assert patterns(run(two)) == []
    spread = [e for n, d in enumerate((0, 40, 80)) for e in _escorted(d, MINORS[n], f"P-{n:03d}")]
    assert Pattern.SERIAL_ESCORT.value not in patterns(run(spread))


def test_a_family_with_its_own_children_every_weekend_is_no_lead() -> None:
    father = P("KARIMOV", "SHERZOD", "1982-04-04", number="FA7000001")
    mother = P("KARIMOVA", "NIGORA", "1985-08-21", "F", number="FA7000002")
    children = [
        P("KARIMOVA", "MALIKA", "2014-03-03", "F", number="FA7000003"),
        P("Каримов", "Бобур", "2016-06-06", number="FA7000004"),  # the domestic ID in Cyrillic
        P("KARIMOV", "ULUGBEK", "2019-09-09", number="FA7000005"),
    ]
    events = []
    for week in range(12):
        pid = f"FAM-{week}"
        lead = mother if week % 2 else father  # either parent takes them, alone
        trip = flight(f"KC{100 + week}")
        events.append(event(lead, 7 * week + 5, party=party(pid, "guardian"), transport=trip))
        events += [
            event(child, 7 * week + 5, party=party(pid, consent="shown"), transport=trip)
            for child in children
        ]
    assert patterns(run(events)) == []


def test_a_mother_under_her_own_name_beside_the_father_is_no_escort() -> None:
    father = P("RAHIMOV", "DILSHOD", "1980-01-01")
    mother = P("UMAROVA", "FERUZA", "1983-02-02", "F")  # kept her own family name
    events = []
    for week, child in enumerate([P("RAHIMOV", "OTABEK", "2015-05-05"),
                                  P("RAHIMOVA", "SAIDA", "2016-06-06", "F"),
                                  P("RAHIMOV", "ZAFAR", "2017-07-07")]):  # fmt: skip
        pid = f"R-{week}"
        events += [event(mother, 7 * week, party=party(pid, "guardian")),
                   event(child, 7 * week, party=party(pid)),
                   event(father, 7 * week, party=party(pid))]  # fmt: skip
    assert patterns(run(events)) == []


MINOR = P("Назаров", "Санжар", "2012-10-10", number="FA5550001")
MINOR_LATIN = P("NAZAROV", "SANJAR", "2012-10-10", number="FA5550001")


def test_a_minor_crossing_alone_and_with_unrelated_adults() -> None:
    events = [
        event(P("TOSHMATOV", "RAVSHAN", "1975-01-01"), 0, party=party("M-1", "guardian")),
        event(MINOR, 0, party=party("M-1")),
        event(MINOR_LATIN, 9),  # alone, no party
        event(P("MIRZAEV", "FARRUKH", "1988-02-02"), 20, party=party("M-3")),
        event(MINOR_LATIN, 20, party=party("M-3")),
    ]
    analyser = run(events)
    [lead] = analyser.leads.values()
    assert lead.pattern is Pattern.MINOR_REPEATED_CROSSINGS
    assert {e.event_id for e in lead.evidence} == {e.event_id for e in events}
    assert "1 time(s) alone" in lead.summary
    assert [s.role for s in lead.subjects] == ["minor", "companion", "companion"]


def test_a_minor_always_with_its_parent_is_no_lead() -> None:
    parent = P("NAZAROVA", "DILNOZA", "1986-03-03", "F")
    events = []
    for n in range(6):
        minor = MINOR if n % 2 else MINOR_LATIN
        events += [event(parent, 5 * n, party=party(f"N-{n}", "guardian")),
                   event(minor, 5 * n, party=party(f"N-{n}"))]  # fmt: skip
    assert patterns(run(events)) == []


def test_a_party_still_arriving_does_not_count_the_minor_alone() -> None:
    incomplete = {"id": "S-1", "size": 2}
    events = [event(MINOR, d, party=incomplete | {"id": f"S-{d}"}) for d in (0, 5, 10)]
    assert patterns(run(events)) == []


def test_history_is_purged_after_the_window_and_the_leads_stay() -> None:
    events = [e for n, d in enumerate((0, 12, 33)) for e in _escorted(d, MINORS[n], f"P-{n:03d}")]
    analyser = run(events)
    assert len(analyser.leads) == 1
    later = events[-1].occurred_at + analyser.params.retention + dt.timedelta(days=1)
    analyser.purge(later)
    assert analyser.members == {}
    assert analyser.registry.persons == {}
    assert analyser.groups.parties == {}
    assert analyser.escorts.trips == {}
    assert analyser.identity_documents.uses == {}
    assert len(analyser.leads) == 1
    # what was forgotten counts no more: one more crossing is not a fourth
    assert analyser.observe(_escorted(later.day, MINORS[3], "P-009")[0]) == []


def test_a_minor_whose_adults_may_yet_arrive_is_not_alone() -> None:
    """Members of a party arrive one by one; without a size, no adult yet is not "alone"."""
    events = [event(MINOR, d, party={"id": f"U-{d}"}) for d in (0, 5, 10, 15)]
    assert patterns(run(events)) == []
    sized = [event(MINOR, d, party={"id": f"U-{d}", "size": 1}) for d in (0, 5, 10)]
    sized += [event(MINOR_LATIN, 15)]
    assert patterns(run(sized)) == ["minor_repeated_crossings"]


def test_a_minor_always_beside_the_same_unrelated_adult_is_no_lead() -> None:
    stepfather = P("TOSHMATOV", "RAVSHAN", "1975-01-01")
    events = []
    for n in range(4):
        events += [event(stepfather, 6 * n, party=party(f"T-{n}", "guardian")),
                   event(MINOR_LATIN, 6 * n, party=party(f"T-{n}"))]  # fmt: skip
    assert patterns(run(events)) == []


def test_a_minor_met_again_is_one_subject() -> None:
    events = _escorted(0, MINORS[0], "P-001")
    events += _escorted(12, MINORS[0], "P-002")
    events.append(event(MINORS[1], 12, party=party("P-002"), transport=flight("HY002")))
    events += _escorted(30, MINORS[2], "P-003")
    [lead] = run(events).leads.values()
    assert [s.role for s in lead.subjects] == ["escort", "minor", "minor", "minor"]
    assert sum("minor #1:" in e.why for e in lead.evidence) == 2
