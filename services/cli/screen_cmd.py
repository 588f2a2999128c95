"""``relay screen``: offline screening of an events file against a watchlist file.

One alert a line (the Alert format of DESIGN.md) goes to ``--out`` or standard output and
nothing else does; progress, the summary and bad lines (file:line: reason) go to standard
error. The matching code is the streaming matcher's (``services.matcher.domain``), and so is
the store: documents and SLTD entries are screened from a disk-backed store
(``services.matcher.docstore``), people from memory. ``--store DIR`` keeps the store built from
``--watchlist`` there, or, without ``--watchlist``, screens against a store built before (by
``relay watchlist build-index`` or an earlier ``relay screen``); otherwise the store is built in
a scratch directory and removed once open.
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
from tempfile import TemporaryDirectory
from typing import BinaryIO, TextIO

import typer
from pydantic import ValidationError

from schemas.codec import decode_entry, decode_event
from schemas.errors import summarise_errors
from services.matcher.docstore import DocStore, build_store, open_index
from services.matcher.domain import (
    Screener,
    WatchlistIndex,
    entry_record,
    event_record,
    to_alert_json,
)
from services.matcher.domain.records import EntryRecord

# The topic a store built from a file says it reflects: none (it records no offsets).
_OFFLINE_TOPIC = "(file)"
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


def load_watchlist(
    path: Path, err: TextIO, report: ScreenReport, store: Path | None = None
) -> WatchlistIndex:
    """Every valid line of the file in a new store-backed index (at ``store``, or in a scratch
    directory removed once the store is open); bad lines are reported and skipped."""
    started = time.perf_counter()

    def records() -> Iterator[EntryRecord]:
        for number, line in lines_of(path):
            try:
                yield entry_record(decode_entry(line))
            except (ValidationError, ValueError) as exc:
                report.bad_lines += 1
                print(f"{path}:{number}: {reason_of(exc)}", file=err)

    with TemporaryDirectory(prefix="relay-screen-") as scratch:
        where = store or Path(scratch) / "store"
        build_store(where, _OFFLINE_TOPIC, records(), None)
        index = open_store(where)  # stays mapped after the scratch directory is gone
    report.entries = len(index)
    report.load_seconds = time.perf_counter() - started
    return index


def open_store(path: Path) -> WatchlistIndex:
    """The index over a store built before; its people are filed in memory."""
    # A million long-lived records: the cycle collector would rescan them again and again
    # while they load and on every collection afterwards; they hold no cycles.
    gc.disable()
    try:
        return open_index(DocStore.open(path, readonly=True))  # screening only reads
    finally:
        gc.freeze()
        gc.enable()


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


def screen_files(
    watchlist: Path | None,
    events: Path,
    out: BinaryIO,
    err: TextIO,
    store: Path | None = None,
) -> ScreenReport:
    report = ScreenReport()
    if watchlist is not None:
        index = load_watchlist(watchlist, err, report, store)
    else:
        assert store is not None  # the command asks for one of the two
        started = time.perf_counter()
        index = open_store(store)
        report.entries = len(index)
        report.load_seconds = time.perf_counter() - started
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
    watchlist: Path | None = typer.Option(
        None, "--watchlist", exists=True, dir_okay=False, help="Watchlist entries, JSON lines."
    ),
    events: Path = typer.Option(
        ..., "--events", exists=True, dir_okay=False, help="Events, JSON lines."
    ),
    out: Path | None = typer.Option(
        None, "--out", dir_okay=False, help="Alerts file (default: standard output)."
    ),
    store: Path | None = typer.Option(
        None,
        "--store",
        file_okay=False,
        help="Store directory: built from --watchlist and kept, or (alone) screened against.",
    ),
) -> None:
    """Screen EVENTS against WATCHLIST (or a store built before) and write one alert a line."""
    err = sys.stderr
    if watchlist is None and store is None:
        raise typer.BadParameter("give --watchlist, --store or both", param_hint="--watchlist")
    with output(out) as handle:
        report = screen_files(watchlist, events, handle, err, store)
    rate = report.events / report.screen_seconds if report.screen_seconds else 0.0
    print(
        f"screened {report.events} events in {report.screen_seconds:.2f} s ({rate:.0f}/s): "
        f"{report.alerts} alerts, {report.bad_lines} bad lines",
        file=err,
    )


def register(app: typer.Typer) -> None:
    app.command("screen")(screen)
