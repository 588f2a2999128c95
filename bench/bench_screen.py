"""`relay screen` at scale: load a 100,000-person + 1,000,000-document watchlist, then screen.

Generates a synthetic watchlist and events into a temporary folder (nothing is committed),
loads it through the same path as ``relay screen`` (schema validation -> compact records ->
index), and screens the events on one core. Prints one JSON object as its last line:
load seconds, peak RSS (ru_maxrss) and events/s end to end (decode, screen, encode alerts)
and for the engine alone.

    python bench/bench_screen.py [--people 100000] [--documents 1000000] [--events 50000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from schemas.codec import decode_event
from services.cli.screen_cmd import ScreenReport, load_watchlist, screen_events
from services.matcher.domain import Screener, WatchlistIndex, event_record, to_alert_json

_ONSETS = [
    "b",
    "d",
    "g",
    "k",
    "kh",
    "m",
    "n",
    "r",
    "s",
    "sh",
    "t",
    "z",
    "zh",
    "ch",
    "l",
    "v",
    "y",
    "",
]
_VOWELS = ["a", "e", "i", "o", "u", "y"]
_SUFFIXES = ["ov", "ev", "in", "enko", "uk", "bekov", "ulin", "aev", "ovich", "zoda", ""]
_STATES = ["UZB", "KAZ", "KGZ", "TJK", "TKM", "RUS"]
_LISTS = [("red_notice", "arrest"), ("yellow_notice", "protect"), ("diffusion", "locate")]


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)).upper()


def _pools(rng: random.Random) -> tuple[list[str], list[str]]:
    surnames = {
        _word(rng, rng.randint(2, 3)) + rng.choice(_SUFFIXES).upper() for _ in range(40_000)
    }
    return sorted(surnames), sorted({_word(rng, rng.randint(2, 3)) for _ in range(4_000)})


def _dob(rng: random.Random) -> str:
    return f"{rng.randint(1950, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _person(rng: random.Random, n: int, pools: tuple[list[str], list[str]]) -> dict[str, Any]:
    kind, action = _LISTS[n % 3]
    state = rng.choice(_STATES)
    return {
        "entry_id": f"P-{n:07d}", "list": kind, "status": "active", "issuer": state,
        "action": action,
        "person": {
            "names": [{"surname": rng.choice(pools[0]), "given_names": rng.choice(pools[1])}],
            "date_of_birth": _dob(rng), "sex": "M", "nationalities": [state],
            "documents": [{"number": f"PP{n:07d}", "issuing_state": state, "type": "P"}],
        },
    }  # fmt: skip


def _document(n: int, state: str) -> dict[str, Any]:
    return {
        "entry_id": f"D-{n:07d}", "list": "sltd", "status": "active", "issuer": state,
        "action": "seize_document",
        "document": {
            "number": f"S{n:08d}", "issuing_state": state, "type": "P", "status": "stolen",
        },
    }  # fmt: skip


def _events(
    rng: random.Random,
    people: list[dict[str, Any]],
    pools: tuple[list[str], list[str]],
    sizes: tuple[int, int],
) -> Iterator[dict[str, Any]]:
    count, documents = sizes
    for n in range(count):
        roll = rng.random()
        if roll < 0.1:  # a listed person
            person = rng.choice(people)["person"]
            name = person["names"][0]
            traveller = {
                "surname": name["surname"],
                "given_names": name["given_names"],
                "date_of_birth": person["date_of_birth"],
            }
        else:
            traveller = {
                "surname": rng.choice(pools[0]),
                "given_names": rng.choice(pools[1]),
                "date_of_birth": _dob(rng),
            }
        state = rng.choice(_STATES)
        number = (
            f"S{rng.randrange(documents):08d}" if roll > 0.95 else f"N{rng.randrange(10**8):08d}"
        )
        yield {
            "event_id": f"00000000-0000-4000-8000-{n:012d}", "type": "document_check",
            "occurred_at": "2026-11-22T08:15:30Z", "reported_by": "KAZ-POLICE", "country": "KAZ",
            "traveller": {**traveller, "sex": "M", "nationality": state},
            "document": {"number": number, "issuing_state": state, "type": "P"},
        }  # fmt: skip


def generate(folder: Path, people: int, documents: int, events: int) -> None:
    rng = random.Random(20261122)  # noqa: S311 - synthetic test data, not secrets
    pools = _pools(rng)
    sample: list[dict[str, Any]] = []
    with (folder / "watchlist.jsonl").open("wb") as out:
        for n in range(people):
            entry = _person(rng, n, pools)
            if n % 50 == 0:
                sample.append(entry)
            out.write(orjson.dumps(entry) + b"\n")
        for n in range(documents):
            out.write(orjson.dumps(_document(n, _STATES[n % len(_STATES)])) + b"\n")
    with (folder / "events.jsonl").open("wb") as out:
        for event in _events(rng, sample, pools, (events, documents)):
            out.write(orjson.dumps(event) + b"\n")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds: CPU time shows what other processes on the machine took away."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def _screen_pass(index: WatchlistIndex, path: Path) -> tuple[ScreenReport, float, float]:
    report = ScreenReport()
    wall, cpu = _timed(lambda: screen_events(index, path, io.BytesIO(), sys.stderr, report))
    return report, wall, cpu


def _engine(index: WatchlistIndex, path: Path) -> dict[str, Any]:
    """The engine and alert construction alone (what the streaming matcher adds per event)."""
    with path.open("rb") as handle:
        records = [event_record(decode_event(line)) for line in handle]
    screener = Screener(index)
    created_at = dt.datetime.now(dt.UTC)
    matched = 0

    def screen_all() -> None:
        nonlocal matched
        for record in records:
            matches = screener.screen(record)
            matched += len(matches)
            for match in matches:
                to_alert_json(match, created_at)

    wall, cpu = _timed(screen_all)
    return {
        "engine_events_per_s": round(len(records) / wall),
        "engine_cpu_us_per_event": round(cpu / len(records) * 1e6, 1),
        "engine_matches": matched,
    }


def run(people: int, documents: int, events: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="relay-bench-screen-") as tmp:
        folder = Path(tmp)
        generate(folder, people, documents, events)
        rss_before = _rss_mb()
        report = ScreenReport()
        holder: list[WatchlistIndex] = []
        load_wall, load_cpu = _timed(
            lambda: holder.append(load_watchlist(folder / "watchlist.jsonl", sys.stderr, report))
        )
        index = holder[0]
        rss_loaded = _rss_mb()
        first, first_wall, first_cpu = _screen_pass(index, folder / "events.jsonl")
        _, second_wall, second_cpu = _screen_pass(index, folder / "events.jsonl")
        engine = _engine(index, folder / "events.jsonl")
        rss_screened = _rss_mb()
    return {
        "bench": "screen",
        "people": people,
        "documents": documents,
        "entries_loaded": report.entries,
        "load_seconds": round(load_wall, 2),
        "load_cpu_seconds": round(load_cpu, 2),
        "peak_rss_mb_before_load": round(rss_before, 1),
        "peak_rss_mb_after_load": round(rss_loaded, 1),
        # the slot caches of the screened names on top (bounded: see vocabulary)
        "peak_rss_mb_after_screening": round(rss_screened, 1),
        "events": first.events,
        "alerts": first.alerts,
        # end to end (decode JSON line -> screen -> alert JSON line), first sight of every name
        "screen_events_per_s": round(first.events / first_wall),
        "screen_cpu_events_per_s": round(first.events / first_cpu),
        # the same events again: every name token seen before
        "screen_repeat_events_per_s": round(first.events / second_wall),
        "screen_repeat_cpu_events_per_s": round(first.events / second_cpu),
        **engine,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    print(json.dumps(run(args.people, args.documents, args.events)))


if __name__ == "__main__":
    main()
