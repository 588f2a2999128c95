"""Scores the engine on a labelled screening set (screening-dev layout; see its README).

Counting: an event's expected entry is found when a match names it (either band: both are
alerts a human sees); every other match is a false alert and counts against precision.
Run ``python -m tests.unit.matcher.quality`` for a per-category table.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.matcher.domain import Screener, WatchlistIndex, entry_record


@dataclass
class Quality:
    expected: int = 0
    found: int = 0
    false_alerts: int = 0
    events: Counter[str] = field(default_factory=Counter)
    events_found: Counter[str] = field(default_factory=Counter)
    events_with_false_alert: Counter[str] = field(default_factory=Counter)
    positive: set[str] = field(default_factory=set)

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        alerts = self.found + self.false_alerts
        return self.found / alerts if alerts else 1.0

    def category_recall(self, category: str) -> float:
        return self.events_found[category] / self.events[category]

    def false_alert_rate(self, category: str) -> float:
        return self.events_with_false_alert[category] / self.events[category]

    def count(self, category: str, expected: set[str], got: set[str]) -> None:
        """One screened event: the entries it must alert and the entries it did alert."""
        self.events[category] += 1
        self.expected += len(expected)
        self.found += len(expected & got)
        self.false_alerts += len(got - expected)
        if expected:
            self.positive.add(category)
            self.events_found[category] += expected <= got
        self.events_with_false_alert[category] += bool(got - expected)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines file of the set."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def screener_of(folder: Path) -> Screener:
    """A screener over the set's whole watchlist."""
    index = WatchlistIndex()
    for entry in read_lines(folder / "watchlist.jsonl"):
        index.upsert(entry_record(entry))
    return Screener(index)


def evaluate(folder: Path) -> Quality:
    truth = {str(t["event_id"]): t for t in read_lines(folder / "truth.jsonl")}
    screener = screener_of(folder)
    quality = Quality()
    for event in read_lines(folder / "events.jsonl"):
        label = truth[str(event["event_id"])]
        category = str(label["category"])
        expected = {str(e) for e in label["expect"]}
        quality.count(category, expected, {m.entry_id for m in screener.screen(event)})
    return quality


def main() -> None:  # pragma: no cover - a developer's table
    quality = evaluate(Path(__file__).parents[3].parent / "shared" / "data" / "screening-dev")
    print(f"recall {quality.recall:.4f} precision {quality.precision:.4f}")
    for category in sorted(quality.events):
        recall = quality.category_recall(category) if category in quality.positive else None
        print(
            f"{category:28s} n={quality.events[category]:5d} "
            f"recall={'-' if recall is None else f'{recall:.3f}'} "
            f"false={quality.false_alert_rate(category):.3f}"
        )


if __name__ == "__main__":
    main()
