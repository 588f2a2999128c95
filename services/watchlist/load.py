"""Validate a whole feed before anything is published: the plan says what would be sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from schemas.watchlist import EntryStatus, WatchlistEntry
from services.watchlist.formats import ftm, interpol, jsonl, sltd_csv
from services.watchlist.parsed import LoadOptions, ParsedRecord


class Format(StrEnum):
    JSONL = "jsonl"
    INTERPOL = "interpol"
    FTM = "ftm"
    SLTD_CSV = "sltd-csv"


Parser = Callable[[str, LoadOptions], Iterator[ParsedRecord]]

PARSERS: dict[Format, Parser] = {
    Format.JSONL: jsonl.parse,
    Format.INTERPOL: interpol.parse,
    Format.FTM: ftm.parse,
    Format.SLTD_CSV: sltd_csv.parse,
}


@dataclass
class LoadPlan:
    """Every record of a file sorted into valid, bad and ignored, before any publishing."""

    entries: list[WatchlistEntry] = field(default_factory=list)
    bad: list[ParsedRecord] = field(default_factory=list)
    ignored: list[ParsedRecord] = field(default_factory=list)
    warnings: Counter[str] = field(default_factory=Counter)
    duplicate_ids: int = 0  # entry ids seen more than once: on a compacted topic the last wins

    @property
    def records(self) -> int:
        return len(self.entries) + len(self.bad) + len(self.ignored)


def parse(fmt: Format, text: str, options: LoadOptions) -> Iterator[ParsedRecord]:
    return PARSERS[fmt](text, options)


def plan(records: Iterable[ParsedRecord]) -> LoadPlan:
    result = LoadPlan()
    seen: set[str] = set()
    for record in records:
        result.warnings.update(record.warnings)
        if record.entry is not None:
            if record.entry.entry_id in seen:
                result.duplicate_ids += 1
            seen.add(record.entry.entry_id)
            result.entries.append(record.entry)
        elif record.ignored is not None:
            result.ignored.append(record)
        else:
            result.bad.append(record)
    return result


def as_cancelled(entries: Iterable[WatchlistEntry]) -> list[WatchlistEntry]:
    """The same entries with status ``cancelled``: withdrawing a whole file of entries."""
    return [entry.model_copy(update={"status": EntryStatus.CANCELLED}) for entry in entries]
