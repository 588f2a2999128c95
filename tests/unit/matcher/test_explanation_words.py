"""Every ``how`` the engine writes into an explanation has plain words for duty officers."""

from __future__ import annotations

from pathlib import Path

from services.notifier.domain.words import HOW
from tests.unit.matcher.quality import read_lines, screener_of


def test_every_how_of_the_labelled_set_has_plain_words(shared_data: Path) -> None:
    folder = shared_data / "screening-dev"
    screener = screener_of(folder)
    hows: set[str] = set()
    for event in read_lines(folder / "events.jsonl"):
        for match in screener.screen(event):
            hows.update(item.how for item in match.evidence)
    assert len(hows) >= 15, hows  # the set shows most kinds of evidence
    assert hows <= set(HOW), sorted(hows - set(HOW))
