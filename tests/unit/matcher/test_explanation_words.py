"""Every ``how`` the engine writes into an explanation has plain words for duty officers."""

from __future__ import annotations

import json
from pathlib import Path

from services.matcher.domain import Screener, WatchlistIndex, entry_record
from services.notifier.domain.words import HOW


def test_every_how_of_the_labelled_set_has_plain_words(shared_data: Path) -> None:
    folder = shared_data / "screening-dev"
    index = WatchlistIndex()
    with (folder / "watchlist.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            index.upsert(entry_record(json.loads(line)))
    screener = Screener(index)
    hows: set[str] = set()
    with (folder / "events.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            for match in screener.screen(json.loads(line)):
                hows.update(item.how for item in match.evidence)
    assert len(hows) >= 15, hows  # the set shows most kinds of evidence
    assert hows <= set(HOW), sorted(hows - set(HOW))
