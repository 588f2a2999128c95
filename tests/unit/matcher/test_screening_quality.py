"""Quality floors on the labelled screening-dev set (issue 5, "Must show")."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.matcher.quality import Quality, evaluate


@pytest.fixture(scope="module")
def quality(shared_data: Path) -> Quality:
    return evaluate(shared_data / "screening-dev")


def test_overall_recall_and_precision(quality: Quality) -> None:
    assert quality.recall >= 0.98, quality.recall
    assert quality.precision >= 0.99, quality.precision


def test_the_set_has_the_categories_of_its_readme(quality: Quality) -> None:
    assert len(quality.positive) == 13
    assert len(set(quality.events) - quality.positive) == 6


def test_no_positive_category_below_95_percent(quality: Quality) -> None:
    low = {
        c: quality.category_recall(c) for c in quality.positive if quality.category_recall(c) < 0.95
    }
    assert not low


def test_no_category_with_more_than_one_percent_false_alerts(quality: Quality) -> None:
    noisy = {
        c: quality.false_alert_rate(c)
        for c in quality.events
        if c not in quality.positive and quality.false_alert_rate(c) > 0.01
    }
    assert not noisy
