"""``relay screen --workers N``: forked workers write the bytes one process writes, in order."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from services.cli import screen_cmd, screen_pool
from services.cli.main import app
from services.cli.screen_cmd import _CHUNK, ScreenOptions, ScreenReport, screen_files
from tests.unit.matcher.helpers import (
    kholmatov_and_stolen_passport,
    person_entry,
    sltd_entry,
)

CREATED = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


def _clock() -> dt.datetime:
    return CREATED


def _screen(
    watchlist: Path | None, events: Path, options: ScreenOptions
) -> tuple[bytes, str, ScreenReport]:
    out, err = io.BytesIO(), io.StringIO()
    report = screen_files(watchlist, events, out, err, options)
    return out.getvalue(), err.getvalue(), report


def _without_timing(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith("watchlist: ")]


class Labelled(NamedTuple):
    events: Path  # the labelled set's events, with refused lines among them
    store: Path  # its watchlist's store
    one: tuple[bytes, str, ScreenReport]  # what one process wrote


@pytest.fixture(scope="module")
def labelled(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Labelled:
    """The labelled set screened by one process, building the store the others read."""
    folder = tmp_path_factory.mktemp("labelled")
    events = folder / "events.jsonl"
    lines = (shared_data / "screening-dev" / "events.jsonl").read_text().splitlines()
    for place in (3, _CHUNK, 5 * _CHUNK + 1, len(lines) - 2):  # in several chunks
        lines.insert(place, '{"event_id": "not-a-uuid"}')
    events.write_text("\n".join(lines) + "\n")
    watchlist = shared_data / "screening-dev" / "watchlist.jsonl"
    options = ScreenOptions(store=folder / "store", workers=1, clock=_clock)
    return Labelled(events, folder / "store", _screen(watchlist, events, options))


def test_workers_write_the_bytes_one_process_writes_in_input_order(labelled: Labelled) -> None:
    one = labelled.one
    many = _screen(None, labelled.events, ScreenOptions(labelled.store, workers=3, clock=_clock))

    assert many[0] == one[0]
    assert _without_timing(many[1]) == _without_timing(one[1])
    assert one[2].alerts > 1_000  # a real sample: thousands of alerts, in many chunks
    assert (many[2].events, many[2].alerts, many[2].bad_lines) == (
        one[2].events,
        one[2].alerts,
        4,
    )
    place = {e: n for n, e in enumerate(_event_order(labelled.events.read_bytes()))}
    alerted = [place[e] for e in _event_order(many[0])]
    assert alerted == sorted(alerted)  # the events' alerts in the events' order


def test_the_chunks_are_screened_in_the_workers(
    labelled: Labelled, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(screen_pool, "_screen_chunk", _pid_instead)  # the workers fork after
    out, _, _ = _screen(None, labelled.events, ScreenOptions(labelled.store, workers=2))
    pids = out.decode().split()
    assert len(pids) == -(-len(labelled.events.read_bytes().splitlines()) // _CHUNK)
    assert str(os.getpid()) not in pids


_screen_chunk = screen_pool._screen_chunk


def _pid_instead(chunk: list[screen_pool.Line]) -> screen_pool.Screened:
    """A worker's chunk, its alerts replaced by the worker's pid (sent by name: module level)."""
    return dataclasses.replace(_screen_chunk(chunk), alerts=f"{os.getpid()}\n".encode())


def _event_order(lines: bytes) -> list[str]:
    """Event ids in the order they come, each once (an event may give several alerts)."""
    return list(dict.fromkeys(json.loads(line)["event_id"] for line in lines.splitlines()))


def test_a_store_built_in_scratch_stays_until_the_workers_are_done(tmp_path: Path) -> None:
    watchlist, events = tmp_path / "w.jsonl", tmp_path / "e.jsonl"
    entries = [
        person_entry("RED-1", [{"surname": "Холматов", "given_names": "Алишер"}]),
        sltd_entry("DOC-1", "AA1234567"),
    ]
    watchlist.write_text("".join(json.dumps(e) + "\n" for e in entries) + "{not json\n")
    hit, doc = kholmatov_and_stolen_passport()
    events.write_text("".join(json.dumps(e) + "\n" for e in (hit, doc)) + '{"event_id": 1}\n')

    one = _screen(watchlist, events, ScreenOptions(workers=1, clock=_clock))
    many = _screen(watchlist, events, ScreenOptions(workers=2, clock=_clock))

    assert many[0] == one[0]
    assert [json.loads(line)["entry_id"] for line in many[0].splitlines()] == ["RED-1", "DOC-1"]
    assert _without_timing(many[1]) == _without_timing(one[1])
    assert f"{watchlist}:3:" in many[1]
    assert f"{events}:3:" in many[1]


def test_without_fork_one_process_screens(
    labelled: Labelled, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(screen_cmd, "can_fork", lambda: False)
    monkeypatch.setattr(screen_pool.Workers, "screen", _no_workers)
    options = ScreenOptions(labelled.store, workers=4, clock=_clock)
    assert _screen(None, labelled.events, options)[0] == labelled.one[0]


def _no_workers(*_: object) -> None:
    raise AssertionError("no worker may be forked where fork is not available")


def test_the_command_takes_workers(labelled: Labelled, tmp_path: Path) -> None:
    alerts = tmp_path / "alerts.jsonl"
    args = ["screen", "--store", str(labelled.store), "--events", str(labelled.events)]
    result = CliRunner().invoke(app, [*args, "--out", str(alerts), "--workers", "2"])
    assert result.exit_code == 0, result.output
    written = alerts.read_bytes()
    assert len(written.splitlines()) == labelled.one[2].alerts
    assert _event_order(written) == _event_order(labelled.one[0])
    refused = CliRunner().invoke(app, [*args, "--workers", "0"])
    assert refused.exit_code != 0
    assert "--workers" in refused.output
