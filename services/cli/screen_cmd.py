"""``relay screen``: offline screening of an events file against a watchlist file.

One alert a line (the Alert format of DESIGN.md) goes to ``--out`` or standard output and
nothing else does; progress, the summary and bad lines (file:line: reason) go to standard
error. The matching code is the streaming matcher's (``services.matcher.domain``).
"""

from __future__ import annotations

import datetime as dt
import gc
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import BinaryIO, TextIO

import typer
from pydantic import ValidationError

from schemas.codec import decode_entry, decode_event
from schemas.errors import summarise_errors
from services.matcher.domain import (
    Screener,
    WatchlistIndex,
    entry_record,
    event_record,
    to_alert_json,
)

# Events screened together: their new names go to the vocabulary in one native call
_CHUNK = 512


@dataclass
class ScreenReport:
    entries: int = 0
    events: int = 0
    alerts: int = 0
    bad_lines: int = 0
    load_seconds: float = 0.0
    screen_seconds: float = 0.0


def lines_of(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of every non-blank line of a JSON-lines file."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def reason_of(exc: Exception) -> str:
    """Why a line was refused, in one line (a validation error's fields summarised)."""
    return summarise_errors(exc) if isinstance(exc, ValidationError) else str(exc)


def load_watchlist(path: Path, err: TextIO, report: ScreenReport) -> WatchlistIndex:
    """Every valid line of the file in a new index; bad lines are reported and skipped."""
    index = WatchlistIndex()
    started = time.perf_counter()
    # A million long-lived records: the cycle collector would rescan them again and again
    # while they load and on every collection afterwards; they hold no cycles.
    gc.disable()
    try:
        for number, line in lines_of(path):
            try:
                index.upsert(entry_record(decode_entry(line)))
            except (ValidationError, ValueError) as exc:
                report.bad_lines += 1
                print(f"{path}:{number}: {reason_of(exc)}", file=err)
    finally:
        gc.freeze()
        gc.enable()
    report.entries = len(index)
    report.load_seconds = time.perf_counter() - started
    return index


def screen_events(
    index: WatchlistIndex, path: Path, out: BinaryIO, err: TextIO, report: ScreenReport
) -> None:
    screener = Screener(index)
    started = time.perf_counter()
    lines = lines_of(path)
    while chunk := list(islice(lines, _CHUNK)):
        records = []
        for number, line in chunk:
            try:
                records.append(event_record(decode_event(line)))
            except (ValidationError, ValueError) as exc:
                report.bad_lines += 1
                print(f"{path}:{number}: {reason_of(exc)}", file=err)
        report.events += len(records)
        for matches in screener.screen_many(records):
            if matches:
                created_at = dt.datetime.now(dt.UTC)
                for match in matches:
                    out.write(to_alert_json(match, created_at) + b"\n")
                report.alerts += len(matches)
    report.screen_seconds = time.perf_counter() - started


def screen_files(watchlist: Path, events: Path, out: BinaryIO, err: TextIO) -> ScreenReport:
    report = ScreenReport()
    index = load_watchlist(watchlist, err, report)
    print(f"watchlist: {report.entries} active entries in {report.load_seconds:.1f} s", file=err)
    screen_events(index, events, out, err, report)
    return report


@contextmanager
def output(out: Path | None) -> Iterator[BinaryIO]:
    """``--out``'s file, or standard output (flushed at the end)."""
    if out is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with out.open("wb") as handle:
        yield handle


def screen(
    watchlist: Path = typer.Option(
        ..., "--watchlist", exists=True, dir_okay=False, help="Watchlist entries, JSON lines."
    ),
    events: Path = typer.Option(
        ..., "--events", exists=True, dir_okay=False, help="Events, JSON lines."
    ),
    out: Path | None = typer.Option(
        None, "--out", dir_okay=False, help="Alerts file (default: standard output)."
    ),
) -> None:
    """Screen EVENTS against WATCHLIST and write one alert a line."""
    err = sys.stderr
    with output(out) as handle:
        report = screen_files(watchlist, events, handle, err)
    rate = report.events / report.screen_seconds if report.screen_seconds else 0.0
    print(
        f"screened {report.events} events in {report.screen_seconds:.2f} s ({rate:.0f}/s): "
        f"{report.alerts} alerts, {report.bad_lines} bad lines",
        file=err,
    )


def register(app: typer.Typer) -> None:
    app.command("screen")(screen)
