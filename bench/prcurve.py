"""Precision and recall of scored alerts over score thresholds (pure, stdlib only).

Counting follows tests/unit/matcher/quality.py: an expected (event, entry) pair is found when an
alert names it; every other alert is a false alert. Per category, recall counts events whose
expected entries were all found, and the false-alert rate counts events with any false alert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Pair = tuple[str, str]  # (event_id, entry_id)


@dataclass(frozen=True, slots=True)
class Label:
    category: str
    expect: frozenset[str]


@dataclass(frozen=True, slots=True)
class PRPoint:
    threshold: float
    found: int
    false_alerts: int
    expected: int

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        alerts = self.found + self.false_alerts
        return self.found / alerts if alerts else 1.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "threshold": round(self.threshold, 4),
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "found": self.found,
            "false_alerts": self.false_alerts,
            "expected": self.expected,
        }


@dataclass
class CategoryTable:
    events: Counter[str] = field(default_factory=Counter)
    events_found: Counter[str] = field(default_factory=Counter)
    events_with_false_alert: Counter[str] = field(default_factory=Counter)
    positive: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, dict[str, float | int | None]]:
        table: dict[str, dict[str, float | int | None]] = {}
        for category in sorted(self.events):
            n = self.events[category]
            recall = self.events_found[category] / n if category in self.positive else None
            table[category] = {
                "n": n,
                "recall": None if recall is None else round(recall, 4),
                "false_alert_rate": round(self.events_with_false_alert[category] / n, 4),
            }
        return table


def best_scores(alerts: Iterable[tuple[str, str, float]]) -> dict[Pair, float]:
    """One score per (event, entry): the highest, as an alert list names each entry once."""
    best: dict[Pair, float] = {}
    for event_id, entry_id, score in alerts:
        pair = (event_id, entry_id)
        if score > best.get(pair, float("-inf")):
            best[pair] = score
    return best


def expected_pairs(truth: Mapping[str, Label]) -> set[Pair]:
    return {(event_id, entry) for event_id, label in truth.items() for entry in label.expect}


def point(scores: Mapping[Pair, float], truth: Mapping[str, Label], threshold: float) -> PRPoint:
    """Alerts are the pairs scoring at least ``threshold``; events outside ``truth`` are ignored."""
    expected = expected_pairs(truth)
    kept = {pair for pair, score in scores.items() if score >= threshold and pair[0] in truth}
    found = len(kept & expected)
    return PRPoint(threshold, found, len(kept) - found, len(expected))


def curve(scores: Mapping[Pair, float], truth: Mapping[str, Label]) -> list[PRPoint]:
    """One point per distinct score, highest threshold first (recall grows down the list)."""
    expected = expected_pairs(truth)
    ranked = sorted(
        ((score, pair in expected) for pair, score in scores.items() if pair[0] in truth),
        key=lambda item: -item[0],
    )
    points: list[PRPoint] = []
    found = false_alerts = 0
    for position, (score, hit) in enumerate(ranked):
        found += hit
        false_alerts += not hit
        last_of_score = position + 1 == len(ranked) or ranked[position + 1][0] != score
        if last_of_score:  # ties share one threshold: all or none of them alert
            points.append(PRPoint(score, found, false_alerts, len(expected)))
    return points


def recall_at_precision(points: Iterable[PRPoint], min_precision: float) -> PRPoint | None:
    """The point with the highest recall whose precision is at least ``min_precision``."""
    eligible = [p for p in points if p.precision >= min_precision - 1e-12]
    if not eligible:
        return None
    return max(eligible, key=lambda p: (p.recall, p.threshold))


def categories(
    scores: Mapping[Pair, float], truth: Mapping[str, Label], threshold: float
) -> CategoryTable:
    alerted: dict[str, set[str]] = {}
    for (event_id, entry_id), score in scores.items():
        if score >= threshold:
            alerted.setdefault(event_id, set()).add(entry_id)
    table = CategoryTable()
    for event_id, label in truth.items():
        got = alerted.get(event_id, set())
        table.events[label.category] += 1
        if label.expect:
            table.positive.add(label.category)
            table.events_found[label.category] += label.expect <= got
        table.events_with_false_alert[label.category] += bool(got - label.expect)
    return table
