"""``relay screen``: offline screening of an events file against a watchlist file.

One alert a line (the Alert format of DESIGN.md) goes to ``--out`` or standard output and
nothing else does; progress, the summary and bad lines (file:line: reason) go to standard
error. The matching code is the streaming matcher's (``services.matcher.domain``), and so is
the store: documents and SLTD entries are screened from a disk-backed store
(``services.matcher.docstore``), people from memory. ``--store DIR`` keeps the store built from
``--watchlist`` there, or, without ``--watchlist``, screens against a store built before (by
``relay watchlist build-index`` or an earlier ``relay screen``); otherwise the store is built in
a scratch directory and removed at the end. ``--workers`` screens in that many forked processes
(``screen_pool``); the alerts are the same bytes, in the same order, as one process writes.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import BinaryIO, TextIO

import typer
from pydantic import ValidationError

from schemas.codec import decode_entry
from services.cli.screen_pool import (
    Clock,
    Line,
    Screened,
    Workers,
    can_fork,
    cpus,
    reason_of,
    screen_here,
    utc_now,
)
from services.common import gcpolicy
from services.matcher.docstore import DocStore, StoreUnusable, build_store, open_index
from services.matcher.domain import WatchlistIndex, entry_record
from services.matcher.domain.records import EntryRecord
from services.matcher.domain.variants import groups as name_groups

# The topic a store built from a file says it reflects: none (it records no offsets).
_OFFLINE_TOPIC = "(file)"
# Events screened together: their new names go to the vocabulary in one native call
_CHUNK = 512


@dataclass(frozen=True)
class ScreenOptions:
    """How to screen: ``store`` keeps (or, without a watchlist, is) the store; ``workers``
    processes screen (one: this process); ``clock`` stamps the alerts' ``created_at``."""

    store: Path | None = None
    workers: int = 1
    clock: Clock = utc_now


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
        index = open_index(DocStore.open(path, readonly=True))  # screening only reads
        name_groups()  # read now, once: forked workers share it as they share the index
        return index
    finally:
        gc.freeze()
        gc.enable()


def chunks_of(path: Path) -> Iterator[list[Line]]:
    """The file's lines in chunks: a chunk's new names go to the vocabulary in one call."""
    lines = lines_of(path)
    while chunk := list(islice(lines, _CHUNK)):
        yield chunk


def write_screened(
    results: Iterable[Screened], path: Path, out: BinaryIO, err: TextIO, report: ScreenReport
) -> None:
    """Alert lines to ``out`` and refused lines (file:line: reason) to ``err``, in order."""
    started = time.perf_counter()
    for result in results:
        out.write(result.alerts)
        for number, reason in result.refused:
            print(f"{path}:{number}: {reason}", file=err)
        report.events += result.events
        report.alerts += result.alert_count
        report.bad_lines += len(result.refused)
    report.screen_seconds = time.perf_counter() - started


def screen_events(
    index: WatchlistIndex, path: Path, out: BinaryIO, err: TextIO, report: ScreenReport
) -> None:
    """Screen the events file in this process."""
    write_screened(screen_here(index, chunks_of(path), utc_now), path, out, err, report)


def screen_files(
    watchlist: Path | None,
    events: Path,
    out: BinaryIO,
    err: TextIO,
    options: ScreenOptions | None = None,
) -> ScreenReport:
    options = options or ScreenOptions()
    report = ScreenReport()
    with TemporaryDirectory(prefix="relay-screen-") as scratch:
        store = options.store or Path(scratch) / "store"  # workers open it again: kept to the end
        if watchlist is not None:
            index = load_watchlist(watchlist, err, report, store)
        else:
            started = time.perf_counter()
            index = open_store(store)
            report.entries = len(index)
            report.load_seconds = time.perf_counter() - started
        print(
            f"watchlist: {report.entries} active entries in {report.load_seconds:.1f} s", file=err
        )
        chunks = chunks_of(events)
        with screening_collections():
            if options.workers > 1 and can_fork():
                results = Workers(index, store, options.workers, options.clock).screen(chunks)
            else:
                results = screen_here(index, chunks, options.clock)
            write_screened(results, events, out, err, report)
    return report


@contextmanager
def screening_collections() -> Iterator[None]:
    """The services' collection policy while screening (forked workers inherit it): an event's
    objects die young, and collections every 700 allocations scanned them over and over; the
    caches of names seen (hundreds of thousands of objects) live on, and automatic full
    collections rescanned them all for nothing. The process's thresholds are restored after
    (tests screen in their own process)."""
    before = gc.get_threshold()
    gc.set_threshold(gcpolicy.SERVICE_YOUNG_THRESHOLD, before[1], gcpolicy.NEVER)
    try:
        yield
    finally:
        gc.set_threshold(*before)


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
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Processes that screen (default: the CPUs; 1 where fork is not available).",
    ),
) -> None:
    """Screen EVENTS against WATCHLIST (or a store built before) and write one alert a line."""
    err = sys.stderr
    if watchlist is None and store is None:
        raise typer.BadParameter("give --watchlist, --store or both", param_hint="--watchlist")
    options = ScreenOptions(store=store, workers=workers or cpus())
    try:
        with output(out) as handle:
            report = screen_files(watchlist, events, handle, err, options)
    except StoreUnusable as exc:  # e.g. made by other name rules: build it again
        typer.echo(f"unusable store: {exc}; build it again (relay watchlist build-index)", err=True)
        raise typer.Exit(2) from exc
    rate = report.events / report.screen_seconds if report.screen_seconds else 0.0
    print(
        f"screened {report.events} events in {report.screen_seconds:.2f} s ({rate:.0f}/s): "
        f"{report.alerts} alerts, {report.bad_lines} bad lines",
        file=err,
    )


def register(app: typer.Typer) -> None:
    app.command("screen")(screen)
