"""The explanation vocabulary (``schemas.alert.How``) has a duty officer's words for every code."""

from __future__ import annotations

import pytest

from schemas.alert import How
from services.notifier.domain.words import HOW, how_text


def test_every_how_value_has_words_in_english_the_notifiers_one_language() -> None:
    assert sorted(set(How) - set(HOW)) == []
    assert all(HOW[code].strip() for code in How)


@pytest.mark.parametrize("code", list(How))
def test_the_words_are_used_for_each_code_as_it_arrives_on_the_wire(code: How) -> None:
    assert how_text(code.value) == HOW[code]


def test_a_code_from_a_newer_matcher_is_shown_as_written() -> None:
    assert how_text("typed_backwards") == "typed backwards"
