"""Large feeds in parallel: a line format is cut into chunks at line ends, and worker processes
parse and validate the chunks with the format's own parser, each writing what it made to a
file of its own (``Sink``): sort lines for the store (``relay watchlist build-index``), or the
encoded records to publish (``relay watchlist load``). Only counts and the bad records come
back; no entry is held in memory.

A record's place in the feed is ``source * 10**15 + chunk * 10**9 + line in chunk``: increasing
in file order, so "the last of an id wins" holds as it does on the compacted topic. Bad records
are reported with their line in the whole file. A CSV cell that holds a line break (a quoted
newline) must not fall on a chunk boundary: SLTD exports hold none.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import struct
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from schemas.codec import encode
from schemas.errors import ErrorRecord
from schemas.watchlist import EntryStatus, WatchlistEntry
from services.common.batches import murmur2
from services.matcher.docstore import PartWriter, write_lines
from services.matcher.domain import entry_record
from services.watchlist.formats.sltd_csv import PlainRow, plain_entry, plain_rows
from services.watchlist.load import Format, parse
from services.watchlist.parsed import LoadOptions, ParsedRecord

CHUNK_BYTES = 32 << 20
LINE_FORMATS = frozenset({Format.JSONL, Format.SLTD_CSV})
_PLACE_SOURCE = 10**15
_PLACE_CHUNK = 10**9
MAX_BAD_KEPT = 1000  # bad records listed; all are counted
_HEAD = struct.Struct("<HII")  # partition, key length, value length


class Sink(StrEnum):
    STORE = "store"  # sort lines of the document store
    PUBLISH = "publish"  # (key, value) records for the topic


@dataclass(frozen=True, slots=True)
class Chunk:
    source: int
    number: int
    fmt: Format
    path: Path
    start: int
    end: int
    header: bytes  # a CSV's header row, for chunks after the first
    options: LoadOptions
    out: Path
    sink: Sink
    cancelled: bool = False  # publish the entries with status cancelled
    partitions: int = 0  # of the topic, to publish: each record's partition is worked out here


@dataclass
class ChunkResult:
    chunk: Chunk
    lines: int = 0
    valid: int = 0
    bad: list[tuple[int, str, list[ErrorRecord]]] = field(default_factory=list)
    bad_count: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    ids: bytes = b""  # 8-byte hashes of the entry ids, to count the ids that repeat
    cancelled: list[str] = field(default_factory=list)  # ids of entries that go out cancelled


@dataclass
class ParseReport:
    """What a parallel parse found, over every source."""

    parts: list[Path] = field(default_factory=list)
    records: int = 0
    valid: int = 0
    bad: list[tuple[str, list[ErrorRecord]]] = field(default_factory=list)  # (where, errors)
    bad_count: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    duplicate_ids: int = 0
    cancelled: list[str] = field(default_factory=list)


def chunks_of(
    sources: list[tuple[Format, Path]], options: LoadOptions, folder: Path, sink: Sink
) -> list[Chunk]:
    """Every source cut into chunks of about ``CHUNK_BYTES`` at line ends (a JSON document
    format is one chunk)."""
    found: list[Chunk] = []
    for source, (fmt, path) in enumerate(sources):
        size = path.stat().st_size
        bounds = _bounds(path, size) if fmt in LINE_FORMATS else [0, size]
        header = _first_line(path) if fmt is Format.SLTD_CSV else b""
        for number, (start, end) in enumerate(itertools.pairwise(bounds)):
            out = folder / f"part-{source:03d}-{number:06d}"
            found.append(Chunk(source, number, fmt, path, start, end, header, options, out, sink))
    return found


def _bounds(path: Path, size: int) -> list[int]:
    bounds = [0]
    with path.open("rb") as handle:
        while bounds[-1] + CHUNK_BYTES < size:
            handle.seek(bounds[-1] + CHUNK_BYTES)
            handle.readline()
            if handle.tell() >= size:
                break
            bounds.append(handle.tell())
    bounds.append(size)
    return bounds


def _first_line(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.readline()


def parse_chunk(chunk: Chunk) -> ChunkResult:
    """Parse one chunk in a worker; what it makes goes to ``chunk.out``."""
    with chunk.path.open("rb") as handle:
        handle.seek(chunk.start)
        raw = handle.read(chunk.end - chunk.start)
    header = chunk.header if chunk.start > 0 else b""
    text = (header + raw).decode("utf-8-sig")  # the header copied in front keeps its BOM
    result = ChunkResult(chunk, lines=raw.count(b"\n") + (not raw.endswith(b"\n") and bool(raw)))
    skip = 1 if header else 0  # the header row copied in front is not a line of this chunk
    base = chunk.source * _PLACE_SOURCE + chunk.number * _PLACE_CHUNK
    ids: list[bytes] = []
    rows = plain_rows(text, chunk.options) if chunk.fmt is Format.SLTD_CSV else None
    if chunk.sink is Sink.STORE:  # the build's sort keeps the last of an id: no count needed
        with PartWriter(chunk.out) as out:
            if rows is not None:
                result.valid = _write_rows(rows, out, base, (result, skip))
            else:
                entries = _entries(parse(chunk.fmt, text, chunk.options), result, skip)
                result.valid = write_lines(((base + n, entry_record(e)) for n, e in entries), out)
    else:
        records = parse(chunk.fmt, text, chunk.options) if rows is None else _built(rows)
        entries = _entries(records, result, skip)
        placed = ((base + n, _noted(entry, ids, chunk.cancelled, result)) for n, entry in entries)
        with chunk.out.open("wb") as binary:
            result.valid = write_records(placed, binary, chunk.cancelled, chunk.partitions)
    result.ids = b"".join(ids)
    return result


def _write_rows(
    rows: Iterable[PlainRow | ParsedRecord],
    out: PartWriter,
    base: int,
    noted: tuple[ChunkResult, int],
) -> int:
    """The rows of an SLTD CSV: plain ones straight to their line, the others as parsed."""
    written = 0
    result, skip = noted
    for row in rows:
        if isinstance(row, PlainRow):
            out.plain(*row)
            written += 1
        else:
            written += write_lines(
                ((base + n, entry_record(e)) for n, e in _entries((row,), result, skip)), out
            )
    return written


def _built(rows: Iterable[PlainRow | ParsedRecord]) -> Iterator[ParsedRecord]:
    for row in rows:
        yield row if isinstance(row, ParsedRecord) else ParsedRecord(0, "", plain_entry(row))


def _noted(
    entry: WatchlistEntry, ids: list[bytes], cancelled: bool, result: ChunkResult
) -> WatchlistEntry:
    ids.append(hashlib.blake2b(entry.entry_id.encode(), digest_size=8).digest())
    if cancelled or entry.status is EntryStatus.CANCELLED:
        result.cancelled.append(entry.entry_id)
    return entry


def _entries(
    records: Iterable[ParsedRecord], result: ChunkResult, skip: int
) -> Iterator[tuple[int, WatchlistEntry]]:
    for record in records:
        result.warnings.update(record.warnings)
        if record.entry is not None:
            yield record.line, record.entry
        elif record.ignored is not None:
            result.ignored[record.ignored] += 1
        else:
            result.bad_count += 1
            if len(result.bad) < MAX_BAD_KEPT:
                result.bad.append((record.line - skip, record.where, record.errors))


def write_records(
    entries: Iterable[tuple[int, WatchlistEntry]], out: BinaryIO, cancelled: bool, partitions: int
) -> int:
    """(partition, key, value) records: what the publisher appends to its batches. The
    partition is the producer's own choice for the key (murmur2, as the Java client), made
    here in the workers rather than in the one publishing process."""
    written = 0
    update = {"status": EntryStatus.CANCELLED}
    for _, entry in entries:
        value = encode(entry.model_copy(update=update) if cancelled else entry)
        key = entry.entry_id.encode()
        partition = (murmur2(key) & 0x7FFFFFFF) % partitions
        out.write(_HEAD.pack(partition, len(key), len(value)) + key + value)
        written += 1
    return written


def read_records(path: Path) -> Iterator[tuple[int, bytes, bytes]]:
    """The (partition, key, value) records ``write_records`` wrote, in order."""
    with path.open("rb") as handle:
        while head := handle.read(_HEAD.size):
            partition, key_length, value_length = _HEAD.unpack(head)
            yield partition, handle.read(key_length), handle.read(value_length)


def parse_all(chunks: list[Chunk], progress: Callable[[int], None]) -> ParseReport:
    """Parse every chunk in worker processes (one per CPU); ``progress`` gets each chunk's bytes
    as it finishes. Line numbers of bad records are made the file's own."""
    report = ParseReport(parts=[c.out for c in chunks])
    results: list[ChunkResult] = []
    workers = min(os.cpu_count() or 1, len(chunks)) or 1
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(parse_chunk, chunks):
            results.append(result)
            progress(result.chunk.end - result.chunk.start)
    _gather(results, report)
    return report


def _gather(results: list[ChunkResult], report: ParseReport) -> None:
    first_line = 1
    seen: set[int] = set()
    for result in results:
        chunk = result.chunk
        if chunk.number == 0:
            first_line = 1
        for line, where, errors in result.bad:
            place = f"{chunk.path.name} line {first_line + line - 1}"
            if len(report.bad) < MAX_BAD_KEPT:
                report.bad.append((place if chunk.fmt in LINE_FORMATS else where, errors))
        first_line += result.lines
        report.valid += result.valid
        report.bad_count += result.bad_count
        report.ignored.update(result.ignored)
        report.warnings.update(result.warnings)
        report.cancelled += result.cancelled
        report.records += result.valid + result.bad_count + sum(result.ignored.values())
        for (digest,) in struct.iter_unpack("<Q", result.ids):
            if digest in seen:
                report.duplicate_ids += 1
            seen.add(digest)
