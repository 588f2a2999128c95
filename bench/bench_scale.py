"""Watchlists at INTERPOL and SIS scale: the disk-backed store with 10^6 persons and 10^8 documents.

For each size (1,000,000 documents, then 100,000,000) the bench generates a synthetic SLTD CSV,
a JSON-lines file of 1,000,000 persons and 50,000 events whose names are all new, in a folder
under /tmp that it deletes afterwards (``--keep`` keeps it), and measures:

- ``build_s``: ``relay watchlist build-index`` of the two files (the real command, a child
  process, offsets taken from the broker's empty topic);
- ``restart_s``: ``python -m services.matcher`` on that store until /readyz answers 200, and
  ``peak_rss_mb``: that process's peak RSS (VmHWM) once ready and after screening events;
- ``screen_events_per_s``: ``relay screen --store`` of the events (the command's own figure,
  the median of three runs: ``screen_runs_per_s`` lists them);
- ``lookup_p99_us``: one ``WatchlistIndex.by_document`` on the store (normalise, read, decode);
- ``disk_bytes_per_document``: the pages of the documents' table over the documents.

First it loads a 10,000,000-line SLTD CSV with ``relay watchlist load`` (``load_*`` keys:
documents published per second while publishing, and over the whole command).

The last line printed is one JSON object: the keys for 10^8 documents, and the same keys for
10^6 under ``documents_1m``. ``--documents``, ``--small`` and ``--load`` change the sizes.

    python -m bench.bench_scale [--documents 100000000] [--small 1000000] [--persons 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.bench_screen import _person, _pools, _word
from bench.support import bench_broker, create_topics, free_port, percentile, write_result
from services.common.settings import CommonSettings
from services.matcher.docstore import DocStore
from services.matcher.domain import WatchlistIndex
from services.matcher.domain.records import DocumentRef

_STATES = ("UZB", "KAZ", "KGZ", "TJK", "TKM", "RUS", "IND", "BEL", "DEU", "FRA")
_SCRAMBLE = 2654435761  # odd and prime to 5: n -> n * _SCRAMBLE mod 10^9 is one-to-one
_EVENTS = 50_000
_SCREEN_RUNS = 3  # the machine is noisy: the median run is the figure
_LOOKUPS = 200_000
LOAD_TARGET = 100_000  # documents published per second
TARGETS = {"build_s": 1200, "restart_s": 10, "peak_rss_mb": 3000, "screen_events_per_s": 20_000}
RELAY = [sys.executable, "-m", "services.cli.main"]


def _number(n: int) -> tuple[str, str]:
    """The n-th document: unique, in no order (a real export is not sorted)."""
    letters = chr(65 + n % 26) + chr(65 + (n // 26) % 26)
    return letters + f"{n * _SCRAMBLE % 10**9:09d}", _STATES[n % len(_STATES)]


def generate_documents(path: Path, count: int) -> None:
    with path.open("w") as out:
        out.write("number,issuing_state,type,status\n")
        for start in range(0, count, 100_000):
            rows = (_number(n) for n in range(start, min(count, start + 100_000)))
            out.write("".join(f"{number},{state},P,stolen\n" for number, state in rows))


def generate_persons(path: Path, count: int) -> None:
    rng = random.Random(27)  # noqa: S311 - synthetic test data, not secrets
    pools = _pools(rng)
    with path.open("wb") as out:
        for n in range(count):
            out.write(orjson.dumps(_person(rng, n, pools)) + b"\n")


def generate_events(path: Path, documents: int) -> None:
    """Events whose names no event had before (new to the vocabulary's cache); one in 20
    presents a listed document."""
    rng = random.Random(2027)  # noqa: S311
    with path.open("wb") as out:
        for n in range(_EVENTS):
            number, state = (
                _number(rng.randrange(documents)) if n % 20 == 0 else (f"N{n:08d}", "KAZ")
            )
            event = {
                "event_id": f"00000000-0000-4000-8000-{n:012d}", "type": "document_check",
                "occurred_at": "2026-11-22T08:15:30Z", "reported_by": "KAZ-POLICE",
                "country": "KAZ",
                "traveller": {"surname": _word(rng, 4) + "OV", "given_names": _word(rng, 3),
                              "date_of_birth": "1980-01-01", "sex": "M", "nationality": state},
                "document": {"number": number, "issuing_state": state, "type": "P"},
            }  # fmt: skip
            out.write(orjson.dumps(event) + b"\n")


def _env(settings: CommonSettings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "RELAY_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RELAY_TOPIC_PREFIX": settings.topic_prefix,
        "RELAY_LOG_FORMAT": "json",
        **extra,
    }


def _run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """(wall seconds, what the command printed)."""
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall, done.stdout + done.stderr


def _children_peak_mb() -> float:
    """The largest peak RSS of a finished child or grandchild (the build, its workers, sort)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _restart(settings: CommonSettings, store: Path, folder: Path) -> dict[str, float]:
    port = free_port()
    env = _env(
        settings, RELAY_MATCHER_STORE_PATH=str(store), RELAY_MATCHER_HTTP_PORT=str(port),
        RELAY_MATCHER_RETRO_ENABLED="false",
    )  # fmt: skip
    started = time.perf_counter()
    log = (folder / "matcher.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.matcher"], env=env, stdout=log, stderr=log
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError((folder / "matcher.log").read_text()[-3000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        ready = time.perf_counter() - started
        status = Path(f"/proc/{process.pid}/status").read_text()
        hwm = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]
    finally:
        process.terminate()
        process.wait(30)
        log.close()
    return {"restart_s": round(ready, 2), "peak_rss_mb": round(hwm, 1)}


def _lookups(store_path: Path, documents: int) -> float:
    store = DocStore.open(store_path, readonly=True)
    index = WatchlistIndex(store)
    rng = random.Random(7)  # noqa: S311
    refs = [DocumentRef(*_number(rng.randrange(documents)), "P") for _ in range(_LOOKUPS)]
    took: list[float] = []
    clock = time.perf_counter_ns
    for ref in refs:
        started = clock()
        found = index.by_document(ref)
        took.append(clock() - started)
        assert found
    store.close()
    return round(percentile(took, 99) / 1000, 2)


def _screen_rate(settings: CommonSettings, store: Path, events: Path) -> int:
    """``relay screen``'s own figure, events per second, for one run over the store."""
    _, screened = _run(
        [*RELAY, "screen", "--store", str(store), "--events", str(events), "--out", os.devnull],
        _env(settings),
    )
    rate = re.search(r"screened (\d+) events in [\d.]+ s \((\d+)/s\)", screened)
    assert rate is not None, screened
    return int(rate.group(2))


def one_size(settings: CommonSettings, persons: int, documents: int, keep: bool) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="relay-bench-scale-", dir="/tmp"))
    try:
        sltd, people, events = (
            folder / "sltd.csv",
            folder / "persons.jsonl",
            folder / "events.jsonl",
        )
        started = time.perf_counter()
        generate_documents(sltd, documents)
        generate_persons(people, persons)
        generate_events(events, documents)
        generated = time.perf_counter() - started
        store = folder / "store"
        build_args = [
            *RELAY,
            "watchlist",
            "build-index",
            str(store),
            f"sltd-csv:{sltd}",
            f"jsonl:{people}",
        ]
        build_s, build_out = _run(build_args, _env(settings))
        build_peak = _children_peak_mb()
        opened = DocStore.open(store, readonly=True)
        pages = opened.env.begin().stat(opened.env.open_db(b"docs", create=False))
        docs_bytes = (
            pages["branch_pages"] + pages["leaf_pages"] + pages["overflow_pages"]
        ) * pages["psize"]
        stats = opened.stats()
        opened.close()
        restart = _restart(settings, store, folder)
        rates = [_screen_rate(settings, store, events) for _ in range(_SCREEN_RUNS)]
        return {
            "persons": stats["persons"],
            "documents": stats["sltd"],
            "build_s": round(build_s, 1),
            **restart,
            "disk_bytes_per_document": round(docs_bytes / stats["documents"], 1),
            "screen_events_per_s": int(statistics.median(rates)),
            "lookup_p99_us": _lookups(store, documents),
            "screen_runs_per_s": rates,
            "build_peak_rss_mb": round(build_peak, 1),
            "store_bytes": stats["file_bytes"],
            "generate_s": round(generated, 1),
            "build_output": build_out.strip().splitlines()[-1][:300],
        }
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def load_rate(settings: CommonSettings, count: int, keep: bool) -> dict[str, Any]:
    """``relay watchlist load`` of a ``count``-line SLTD CSV: validation, then publishing."""
    folder = Path(tempfile.mkdtemp(prefix="relay-bench-load-", dir="/tmp"))
    try:
        path = folder / "sltd.csv"
        generate_documents(path, count)
        wall, out = _run(
            [*RELAY, "watchlist", "load", str(path), "-f", "sltd-csv", "--json"], _env(settings)
        )
        summary = json.loads(out.strip().splitlines()[0])
        stored, publish_s = summary["published"]["stored"], summary["publish_seconds"]
        return {
            "load_documents": stored,
            "load_publish_docs_per_s": round(stored / publish_s),
            "load_total_s": round(wall, 1),
            "load_docs_per_s": round(stored / wall),
        }
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def _meets(result: dict[str, Any]) -> bool:
    return all(
        result[key] >= limit if key == "screen_events_per_s" else result[key] <= limit
        for key, limit in TARGETS.items()
    )


def run(persons: int, documents: int, sizes: tuple[int, int], keep: bool) -> dict[str, Any]:
    """``sizes``: (documents of the small store, lines of the load)."""
    small, load = sizes
    with bench_broker() as bootstrap:
        prefix = f"bench-scale-{os.getpid()}"
        settings = CommonSettings(kafka_bootstrap=bootstrap, topic_prefix=f"{prefix}-load.")
        asyncio.run(create_topics(settings))
        loaded = load_rate(settings, load, keep) if load else {}
        print(json.dumps(loaded), file=sys.stderr, flush=True)
        settings = CommonSettings(kafka_bootstrap=bootstrap, topic_prefix=f"{prefix}-store.")
        asyncio.run(create_topics(settings))
        result_small = one_size(settings, persons, small, keep)
        print(json.dumps({"documents_1m": result_small}), file=sys.stderr, flush=True)
        result = one_size(settings, persons, documents, keep) if documents else {}
    met = all(_meets(r) for r in (result_small, result) if r)
    met = met and loaded.get("load_publish_docs_per_s", LOAD_TARGET) >= LOAD_TARGET
    return {
        "bench": "scale",
        **result,
        "documents_1m": result_small,
        **loaded,
        "targets": {**TARGETS, "load_publish_docs_per_s": LOAD_TARGET},
        "meets_targets": met,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--documents", type=int, default=100_000_000)
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--load", type=int, default=10_000_000, help="CSV lines to load")
    parser.add_argument("--keep", action="store_true", help="Keep the generated data")
    parser.add_argument("--result", default="scale", help="bench/results/RESULT.json")
    args = parser.parse_args()
    result = run(args.persons, args.documents, (args.small, args.load), args.keep)
    write_result(args.result, result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
