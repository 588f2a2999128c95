"""Precision/recall over score thresholds (bench/prcurve.py), used to compare with the peer."""

from __future__ import annotations

import pytest

from bench.bench_peer import stratified
from bench.prcurve import Label, best_scores, categories, curve, point, recall_at_precision

TRUTH = {
    "e1": Label("same_spelling", frozenset({"A"})),
    "e2": Label("typo", frozenset({"B"})),
    "e3": Label("random", frozenset()),
    "e4": Label("typo", frozenset({"C"})),
}
# e1 -> A (0.95, right), e3 -> X (0.80, false), e2 -> B (0.70, right), e4 -> C not alerted at all.
SCORES = best_scores([("e1", "A", 0.9), ("e1", "A", 0.95), ("e3", "X", 0.8), ("e2", "B", 0.7)])


def test_best_scores_keeps_the_highest_score_per_pair() -> None:
    assert SCORES[("e1", "A")] == 0.95
    assert len(SCORES) == 3


def test_point_counts_found_and_false_alerts_at_a_threshold() -> None:
    high = point(SCORES, TRUTH, 0.9)
    assert (high.found, high.false_alerts, high.expected) == (1, 0, 3)
    assert high.precision == 1.0
    assert high.recall == pytest.approx(1 / 3)
    low = point(SCORES, TRUTH, 0.0)
    assert (low.found, low.false_alerts) == (2, 1)
    assert low.precision == pytest.approx(2 / 3)


def test_curve_has_one_point_per_distinct_score_highest_first() -> None:
    points = curve(SCORES, TRUTH)
    assert [p.threshold for p in points] == [0.95, 0.8, 0.7]
    assert [(p.found, p.false_alerts) for p in points] == [(1, 0), (1, 1), (2, 1)]
    assert points == [point(SCORES, TRUTH, p.threshold) for p in points]


def test_tied_scores_share_one_threshold() -> None:
    tied = best_scores([("e1", "A", 0.8), ("e3", "X", 0.8)])
    assert [(p.found, p.false_alerts) for p in curve(tied, TRUTH)] == [(1, 1)]


def test_recall_at_precision_picks_the_best_recall_that_keeps_precision() -> None:
    points = curve(SCORES, TRUTH)
    at_one = recall_at_precision(points, 1.0)
    assert at_one is not None
    assert at_one.threshold == 0.95
    loose = recall_at_precision(points, 0.6)
    assert loose is not None
    assert loose.found == 2
    assert recall_at_precision(curve(best_scores([("e3", "X", 0.9)]), TRUTH), 1.0) is None


def test_events_outside_the_truth_are_ignored() -> None:
    outside = dict(SCORES) | {("zz", "Y"): 0.99}
    assert point(outside, TRUTH, 0.0) == point(SCORES, TRUTH, 0.0)
    assert curve(outside, TRUTH) == curve(SCORES, TRUTH)


def test_categories_count_events_found_and_events_with_false_alerts() -> None:
    table = categories(SCORES, TRUTH, 0.75).as_dict()
    assert table["same_spelling"] == {"n": 1, "recall": 1.0, "false_alert_rate": 0.0}
    assert table["typo"] == {"n": 2, "recall": 0.0, "false_alert_rate": 0.0}
    assert table["random"] == {"n": 1, "recall": None, "false_alert_rate": 1.0}


def test_stratified_sample_is_seeded_and_keeps_every_category() -> None:
    truth = [{"event_id": f"{c}{i}", "category": c} for c in "ab" for i in range(50)]
    truth += [{"event_id": "rare", "category": "c"}]
    sample = stratified(truth, 10, seed=1)
    assert sample == stratified(truth, 10, seed=1)
    assert "rare" in sample
    assert sum(s.startswith("a") for s in sample) == 5
    assert len(stratified(truth, 0, seed=1)) == len(truth)
