"""``relay analyse`` over a simulated file with planted patterns: each one found, nothing else."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from schemas.lead import Lead, Pattern
from services.cli.analyse_cmd import analyse_files
from services.cli.main import app
from services.demo.plant import PlantSpec
from services.demo.simulate import SimulationSpec, Simulator, Sort
from services.demo.to_file import Clock, write_events
from services.demo.watchlist_gen import WatchlistSpec, generate
from tests.unit.analyst.builders import KEY

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=60)
# A listed person of the simulator crosses again and again, as one person: a missing child
# crossing alone, a wanted person on several passports are patterns, planted or not.
LISTED = "listed"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(events, watchlist, planted tag by event id) of 60 simulated days."""
    folder = tmp_path_factory.mktemp("analyse")
    entries = generate(WatchlistSpec(persons=200, sltd=200, seed=11, today=START.date()))
    watchlist = folder / "watchlist.jsonl"
    watchlist.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in entries))
    plan = PlantSpec(tuple(Pattern), START, SPAN, instances=2)
    sim = Simulator(SimulationSpec(seed=7, listed_share=0.02, broken_share=0.005), entries, plan)
    tags: dict[str, str] = {}

    def record(item: Any) -> None:
        if item.planted and item.event_id:
            tags[item.event_id] = item.planted
        elif item.sort is Sort.LISTED_PERSON and item.event_id:
            tags[item.event_id] = LISTED

    events = folder / "events.jsonl"
    with events.open("wb") as out:
        write_events(sim, Clock(START, SPAN, 8000), out, record)
    return events, watchlist, tags


def test_every_planted_instance_is_one_lead_and_no_lead_is_invented(
    simulated: tuple[Path, Path, dict[str, str]],
) -> None:
    events, watchlist, tags = simulated
    out, err = io.BytesIO(), io.StringIO()
    report = analyse_files(events, watchlist, KEY, out, err)
    leads = [Lead.model_validate_json(line) for line in out.getvalue().splitlines()]
    assert report.leads == len(leads)
    assert report.bad_lines > 0  # the simulator's broken records, reported on stderr
    assert "events.jsonl:" in err.getvalue()
    planted = set(tags.values()) - {LISTED}
    found: dict[str, set[str]] = defaultdict(set)
    natural = 0
    for lead in leads:
        mine = {tags.get(e.event_id, "") for e in lead.evidence}
        instance = {t for t in mine if t.startswith(lead.pattern.value + "#")}
        if not instance and mine == {LISTED}:
            natural += 1
            continue
        assert instance, (lead.pattern, lead.summary)  # every lead is a planted instance
        found[lead.pattern.value] |= instance
    assert set().union(*found.values()) == planted
    assert len(leads) - natural == len(planted)  # one lead per instance, never two
    surge = [lead for lead in leads if lead.pattern is Pattern.FLOW_SURGE]
    assert surge
    assert all(lead.subjects == [] for lead in surge)


def test_the_same_key_gives_the_same_lead_ids(
    simulated: tuple[Path, Path, dict[str, str]],
) -> None:
    events, watchlist, _ = simulated
    runs = []
    for _ in range(2):
        out = io.BytesIO()
        analyse_files(events, watchlist, KEY, out, io.StringIO())
        runs.append([json.loads(line)["lead_id"] for line in out.getvalue().splitlines()])
    assert runs[0] == runs[1]
    assert runs[0]


def test_the_command_writes_leads_only_to_stdout(
    simulated: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    events, _, _ = simulated
    key = tmp_path / "key"
    key.write_bytes(KEY)
    result = CliRunner().invoke(app, ["analyse", "--events", str(events), "--key-file", str(key)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines
    assert all(Lead.model_validate_json(line) for line in lines)
    assert "analysed" in result.stderr
