"""The explanation vocabulary (``schemas.alert.How``) has a duty officer's words for every code
(English msgids; tests/unit/notifier/test_catalogues.py checks every language has them)."""

from __future__ import annotations

import pytest

from schemas.alert import How
from services.notifier.domain.words import HOW, field_text, how_text, label
from services.notifier.i18n import translator


def test_every_how_value_has_words_as_an_english_msgid() -> None:
    assert sorted(set(How) - set(HOW)) == []
    assert all(HOW[code].strip() for code in How)


@pytest.mark.parametrize("code", list(How))
def test_the_words_are_used_for_each_code_as_it_arrives_on_the_wire(code: How) -> None:
    assert how_text(code.value) == HOW[code]


def test_a_code_from_a_newer_matcher_is_shown_as_written() -> None:
    assert how_text("typed_backwards") == "typed backwards"


def test_the_words_come_in_the_readers_language() -> None:
    russian = translator("ru").gettext
    assert how_text("transliteration", russian) == "то же имя, записанное другим алфавитом"
    assert field_text("surname", russian) == "Фамилия"
    assert label("yellow_notice", russian) == "Жёлтое уведомление"
    assert how_text("typed_backwards", russian) == "typed backwards"  # a newer matcher's code
