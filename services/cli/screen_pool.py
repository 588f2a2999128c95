"""``relay screen``'s screening of events in chunks, in this process or in forked workers.

A chunk of lines becomes its alert lines, its count of events and its refused lines; the
parent writes them in input order whichever way they were screened, so one process and many
give the same bytes. Workers are forked once the index is built and share it copy-on-write
(the native vocabulary and the people). An LMDB environment must not cross a fork: the
parent closes its store before forking and each worker opens it again, read-only.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from schemas.codec import decode_event
from schemas.errors import summarise_errors
from services.matcher.docstore import DocStore
from services.matcher.domain import Screener, WatchlistIndex, event_record, to_alert_json

Clock = Callable[[], dt.datetime]
Line = tuple[int, bytes]  # (line number, line)
# Chunks in flight per worker: one being screened, one waiting, so no worker idles between
_AHEAD = 2


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reason_of(exc: Exception) -> str:
    """Why a line was refused, in one line (a validation error's fields summarised)."""
    return summarise_errors(exc) if isinstance(exc, ValidationError) else str(exc)


@dataclass(frozen=True, slots=True)
class Screened:
    """What a chunk of lines gave, in input order."""

    alerts: bytes  # alert lines
    alert_count: int
    events: int
    refused: tuple[tuple[int, str], ...]  # (line number, reason)


def screen_chunk(screener: Screener, chunk: list[Line], clock: Clock) -> Screened:
    """Screen one chunk: its names go to the vocabulary in one native call."""
    records = []
    refused = []
    for number, line in chunk:
        try:
            records.append(event_record(decode_event(line)))
        except (ValidationError, ValueError) as exc:
            refused.append((number, reason_of(exc)))
    alerts: list[bytes] = []
    for matches in screener.screen_many(records):
        if matches:
            created_at = clock()
            alerts.extend(to_alert_json(match, created_at) + b"\n" for match in matches)
    return Screened(b"".join(alerts), len(alerts), len(records), tuple(refused))


def screen_here(
    index: WatchlistIndex, chunks: Iterable[list[Line]], clock: Clock
) -> Iterator[Screened]:
    screener = Screener(index)
    for chunk in chunks:
        yield screen_chunk(screener, chunk, clock)


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class Workers:
    """Forked workers screening against one index and its store directory."""

    index: WatchlistIndex
    store: Path
    workers: int
    clock: Clock

    def screen(self, chunks: Iterable[list[Line]]) -> Iterator[Screened]:
        """Each chunk's result, in input order; at most ``_AHEAD`` chunks per worker wait.
        This process's store is closed first: from then on the index is the workers'."""
        _close_store(self.index)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            self.workers, context, initializer=_start, initargs=(self,)
        ) as pool:
            waiting: deque[Future[Screened]] = deque()
            for chunk in chunks:
                waiting.append(pool.submit(_screen_chunk, chunk))
                if len(waiting) >= self.workers * _AHEAD:
                    yield waiting.popleft().result()
            while waiting:
                yield waiting.popleft().result()


# The worker's screener and clock, set once by ``_start`` in each forked worker.
_worker: tuple[Screener, Clock] | None = None


def _start(workers: Workers) -> None:
    global _worker  # noqa: PLW0603 - one per worker process, set before any task
    _open_store(workers.index, workers.store)
    _worker = (Screener(workers.index), workers.clock)


def _screen_chunk(chunk: list[Line]) -> Screened:
    assert _worker is not None  # ``_start`` ran first in this process
    screener, clock = _worker
    return screen_chunk(screener, chunk, clock)


def _close_store(index: WatchlistIndex) -> None:
    """This process's store, closed before the fork: from then on it is the workers'."""
    store = index.use_store(None)
    if isinstance(store, DocStore):
        store.close()


def _open_store(index: WatchlistIndex, path: Path) -> None:
    index.use_store(DocStore.open(path, readonly=True))
