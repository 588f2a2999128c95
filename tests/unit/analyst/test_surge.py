"""flow_surge: a route and profile far above its own baseline; aggregates only."""

from __future__ import annotations

import random

import pytest

from schemas.event import Event
from schemas.lead import Pattern
from services.analyst.domain.params import FlowSurge, Params
from services.analyst.domain.surge import robust_z
from tests.unit.analyst.builders import P, event, flight, run

_rng = random.Random(5)


def _young_woman(n: int) -> P:
    return P(f"NAME{n:04d}OVA".replace("0", "A"), "AIGERIM", f"200{_rng.randint(2, 7)}-01-15", "F")


def _week(week: int, count: int, destination: str = "ARE") -> list[Event]:
    return [
        event(_young_woman(week * 1000 + n), 7 * week + 6 * n / max(count, 1),
              transport=flight("KC" + str(100 + n % 5), destination))
        for n in range(count)
    ]  # fmt: skip


def test_robust_z_is_the_stated_statistic() -> None:
    z, median, mad = robust_z(30, [2, 3, 2, 4, 3, 2])
    assert median == 2.5
    assert mad == 0.5
    assert z == pytest.approx((30 - 2.5) / max(1.4826 * 0.5, 2.5**0.5))
    assert robust_z(5, [0, 0, 0, 0])[0] == 5.0  # the Poisson floor of a quiet route


def test_a_surge_after_quiet_weeks_is_an_aggregate_lead() -> None:
    events = [e for week in range(6) for e in _week(week, 3)] + _week(6, 30)
    analyser = run(events)
    [lead] = analyser.leads.values()
    assert lead.pattern is Pattern.FLOW_SURGE
    assert lead.subjects == []
    assert lead.aggregate is not None
    assert (lead.aggregate.country, lead.aggregate.destination) == ("KAZ", "ARE")
    assert (lead.aggregate.sex, lead.aggregate.age_band, lead.aggregate.count) == ("F", "18-24", 30)
    assert lead.aggregate.baseline_median == 3
    assert len(lead.evidence) == 30
    assert "30 journeys (30 exits; a party is one journey) of women aged 18-24" in lead.summary
    assert "from KAZ to ARE" in lead.summary


def test_usual_weeks_and_too_little_history_are_no_lead() -> None:
    steady = [e for week in range(8) for e in _week(week, 20)]
    assert run(steady).leads == {}
    early = [e for week in range(2) for e in _week(week, 3)] + _week(2, 30)
    assert run(early).leads == {}
    strict = Params(flow_surge=FlowSurge(min_count=40))
    surge = [e for week in range(6) for e in _week(week, 3)] + _week(6, 30)
    assert run(surge, params=strict).leads == {}


def test_another_route_does_not_share_the_baseline() -> None:
    events = [e for week in range(6) for e in _week(week, 25, "TUR")] + _week(6, 30, "ARE")
    [lead] = run(events).leads.values()
    assert lead.aggregate is not None
    assert lead.aggregate.destination == "ARE"


def test_a_party_is_one_journey_so_a_few_families_are_no_surge() -> None:
    # three quiet weeks of three girls each; then eight sisters' parties of four in one week:
    # 32 exits, but eight decisions to travel
    quiet = [e for week in range(5) for e in _week(week, 3)]
    families = [
        event(_young_woman(9000 + 10 * f + n), 35 + f / 2, party={"id": f"FAM-{f}"},
              transport=flight("KC200"))
        for f in range(8)
        for n in range(4)
    ]  # fmt: skip
    assert run(quiet + families).leads == {}
    alone = [event(_young_woman(9500 + n), 35 + n / 8, transport=flight("KC200"))
             for n in range(32)]  # fmt: skip
    [lead] = run(quiet + alone).leads.values()
    assert lead.aggregate is not None
    assert lead.aggregate.count == 32
