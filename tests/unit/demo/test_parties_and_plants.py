"""The simulator's travel parties, transport and planted pattern instances."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from schemas.event import Event, PartyRole
from schemas.lead import Pattern
from services.analyst.domain.identity import same_family
from services.cli.main import app
from services.demo.plant import PlantSpec
from services.demo.simulate import SimulationSpec, Simulator, Sort
from services.matcher.domain.dates import is_minor

NOW = dt.datetime(2026, 6, 1, 7, 30, tzinfo=dt.UTC)


def _events(sim: Simulator, n: int, step: dt.timedelta = dt.timedelta(0)) -> list[Any]:
    return [sim.next(NOW + step * i) for i in range(n)]


def test_parties_are_families_and_groups_sharing_id_direction_and_transport() -> None:
    items = _events(Simulator(SimulationSpec(seed=3, broken_share=0, listed_share=0)), 3000)
    parties: dict[str, list[Event]] = defaultdict(list)
    for item in items:
        event = Event.model_validate(item.value)
        if event.type.value == "border_crossing":
            assert event.transport is not None
            assert event.direction is not None
            assert event.country in (event.transport.origin, event.transport.destination)
        if event.party is not None:
            parties[event.party.id].append(event)
    assert len(parties) > 100
    families = 0
    for members in parties.values():
        sizes = {m.party.size for m in members if m.party}
        assert sizes == {len(members)}
        assert len({(m.direction, repr(m.transport)) for m in members}) == 1
        minors = [m for m in members if is_minor(m.traveller.date_of_birth, NOW.date())]
        if minors:
            families += 1
            [guardian] = [m for m in members if m.party and m.party.role is PartyRole.GUARDIAN]
            assert all(same_family(guardian.traveller.surname, m.traveller.surname) for m in minors)
    assert families > 30


def test_planted_instances_come_in_time_and_tagged() -> None:
    start = NOW
    plan = PlantSpec(tuple(Pattern), start, dt.timedelta(days=60), instances=2)
    sim = Simulator(SimulationSpec(seed=5), [], plan)
    assert sim.planter is not None
    expected = dict(sim.planter.planted)
    # associate_of_listed needs a watchlist: none given, none planted
    assert not any(tag.startswith("associate_of_listed") for tag in expected)
    assert len(expected) == 2 * (len(Pattern) - 1)
    items = _events(sim, 6000, dt.timedelta(days=60) / 6000)
    planted = [i for i in items if i.sort is Sort.PLANTED]
    assert Counter(i.planted for i in planted) == expected
    for item in planted:
        Event.model_validate(item.value)
    assert len(sim.planter) == 0


def test_planting_keeps_the_background_of_a_seed() -> None:
    spec = SimulationSpec(seed=9)
    plain = [i.value for i in _events(Simulator(spec), 300)]
    plan = PlantSpec((Pattern.SERIAL_ESCORT,), NOW + dt.timedelta(days=1), dt.timedelta(days=1))
    with_plan = [i.value for i in _events(Simulator(spec, [], plan), 300)]
    assert plain == with_plan  # nothing due yet: the same traffic


def test_relay_simulate_writes_a_file_on_a_simulated_clock(tmp_path: Path) -> None:
    out, record = tmp_path / "events.jsonl", tmp_path / "record.jsonl"
    args = ["simulate", "--target", "file", "--out", str(out), "--count", "3000",
            "--days", "30", "--start", "2026-02-02T00:00:00", "--plant",
            "serial_escort,minor_repeated_crossings", "--record", str(record),
            "--watchlist", str(tmp_path / "none.jsonl"), "--listed-share", "0"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["generated"] == 3000
    assert set(summary["planted"]) == {f"{p}#{n}" for p in ("serial_escort",
                                        "minor_repeated_crossings") for n in (1, 2, 3)}  # fmt: skip
    times = [json.loads(line)["occurred_at"] for line in out.read_text().splitlines()[:50]]
    assert times[0].startswith("2026-02-02T00:00")
    assert len(record.read_text().splitlines()) == 3000
    bad = CliRunner().invoke(app, [*args[:-4], "--plant", "smuggling"])
    assert bad.exit_code != 0
    assert "patterns are" in bad.output
