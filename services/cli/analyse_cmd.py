"""``relay analyse``: the analysis patterns over an events file, offline.

Events are read, put in time order and fed to the very pattern code of the streaming
analysis (``services.analyst.domain``); with ``--watchlist`` each event is first screened by
the matcher's code, so that listed persons are known. One lead a line (the Lead format of
DESIGN.md, its final state) goes to ``--out`` or standard output and nothing else does;
progress, the summary and bad lines (file:line: reason) go to standard error.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

import typer
from pydantic import ValidationError

from schemas.codec import decode_event, encode
from schemas.event import Event
from services.analyst.domain import Analyser, Hit, Params
from services.cli.screen_cmd import ScreenReport, lines_of, load_watchlist, output
from services.cli.screen_pool import reason_of
from services.matcher.domain import Screener, WatchlistIndex, event_record
from services.matcher.domain.score import Match

_CHUNK = 512  # events screened together (as relay screen does)


@dataclass
class AnalyseReport:
    events: int = 0
    bad_lines: int = 0
    hits: int = 0
    leads: int = 0
    seconds: float = 0.0


def read_events(path: Path, err: TextIO, report: AnalyseReport) -> list[Event]:
    """Every valid event of the file, in time order (stable: file order breaks ties)."""
    events = []
    for number, line in lines_of(path):
        try:
            events.append(decode_event(line))
        except (ValidationError, ValueError) as exc:
            report.bad_lines += 1
            print(f"{path}:{number}: {reason_of(exc)}", file=err)
    events.sort(key=lambda e: e.occurred_at)
    return events


def hit_of(match: Match) -> Hit:
    return Hit(
        match.event_id, match.entry_id, match.list, match.band, match.restricted_to, match.issuer
    )


def _screened(
    events: list[Event], index: WatchlistIndex | None
) -> Iterator[tuple[Event, list[Hit]]]:
    if index is None:
        yield from ((event, []) for event in events)
        return
    screener = Screener(index)
    for start in range(0, len(events), _CHUNK):
        chunk = events[start : start + _CHUNK]
        found = screener.screen_many([event_record(e) for e in chunk])
        for event, matches in zip(chunk, found, strict=True):
            yield event, [hit_of(m) for m in matches]


def analyse_events(
    events: list[Event], index: WatchlistIndex | None, analyser: Analyser, report: AnalyseReport
) -> None:
    started = time.perf_counter()
    for event, hits in _screened(events, index):
        report.events += 1
        report.hits += len(hits)
        analyser.observe(event, hits)
        analyser.tick(event.occurred_at)  # the history beyond the window is purged
    report.seconds = time.perf_counter() - started


def write_leads(analyser: Analyser, out: BinaryIO) -> int:
    leads = sorted(analyser.leads.values(), key=lambda lead: (lead.created_at, lead.lead_id))
    for lead in leads:
        out.write(encode(lead) + b"\n")
    return len(leads)


def analyse_files(
    events: Path, watchlist: Path | None, key: bytes, out: BinaryIO, err: TextIO
) -> AnalyseReport:
    report = AnalyseReport()
    index = None
    if watchlist is not None:
        loaded = ScreenReport()
        index = load_watchlist(watchlist, err, loaded)
        report.bad_lines += loaded.bad_lines
        print(f"watchlist: {loaded.entries} active entries", file=err)
    found = read_events(events, err, report)
    analyser = Analyser(Params(), key)
    analyse_events(found, index, analyser, report)
    report.leads = write_leads(analyser, out)
    return report


def analyse(
    events: Path = typer.Option(
        ..., "--events", exists=True, dir_okay=False, help="Events, JSON lines."
    ),
    watchlist: Path | None = typer.Option(
        None, "--watchlist", exists=True, dir_okay=False, help="Watchlist entries, JSON lines."
    ),
    out: Path | None = typer.Option(
        None, "--out", dir_okay=False, help="Leads file (default: standard output)."
    ),
    key_file: Path | None = typer.Option(
        None,
        "--key-file",
        exists=True,
        dir_okay=False,
        help="Pseudonymisation key (at least 16 bytes). Lead ids derive from it: the same key "
        "gives the same ids run after run. Default: a fresh random key.",
    ),
) -> None:
    """Find the analysis patterns in EVENTS and write one lead a line."""
    err = sys.stderr
    key = key_file.read_bytes() if key_file is not None else secrets.token_bytes(32)
    with output(out) as handle:
        report = analyse_files(events, watchlist, key, handle, err)
    rate = report.events / report.seconds if report.seconds else 0.0
    print(
        f"analysed {report.events} events in {report.seconds:.2f} s ({rate:.0f}/s): "
        f"{report.hits} watchlist hits, {report.leads} leads, {report.bad_lines} bad lines",
        file=err,
    )


def register(app: typer.Typer) -> None:
    app.command("analyse")(analyse)
