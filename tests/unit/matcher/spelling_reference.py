"""A reading of the spelling rules in Python, for the tests of the native speller
(``relay_vocabulary.Speller``): the letter tables are ``transliterate.SPELLING``'s, the
word endings are written as the regular expressions they stand for."""

from __future__ import annotations

import re

from services.matcher.domain.transliterate import SPELLING

_BALTIC_ENDING = re.compile("(?<=[a-z]{4})a?s$")
_FRENCH_ENDING = re.compile("(?<=[a-z]{3})(?:ine|off|ff|f)$")
_DOUBLED = re.compile(r"(.)\1+")


def _replaced(text: str, table: tuple[tuple[str, str], ...]) -> str:
    for old, new in table:
        text = text.replace(old, new)
    return text


def _spell(reading: str) -> str:
    text = _FRENCH_ENDING.sub(lambda found: "in" if found.group() == "ine" else "v", reading)
    return _replaced(text, SPELLING.digraphs)


def _finish(spelling: str, doubled: bool) -> str:
    text = spelling if doubled else _DOUBLED.sub(r"\1", spelling)
    text = _replaced(_replaced(text, SPELLING.glides), SPELLING.final)
    return text if doubled else _DOUBLED.sub(r"\1", text)


def skeletons(latin: str) -> tuple[str, ...]:
    """The skeletons of a token's plain Latin letters (``transliterate.to_latin``)."""
    readings = [latin]
    for ambiguous, alternative in SPELLING.second_readings:
        if ambiguous in latin:
            readings += [r.replace(ambiguous, alternative) for r in readings]
    if _BALTIC_ENDING.search(latin):
        readings += [_BALTIC_ENDING.sub("", r) for r in readings]
    spellings = [_spell(reading) for reading in readings]
    keys = [_finish(s, False) for s in spellings]
    if _DOUBLED.search(latin):
        keys += [_finish(s, True) for s in spellings]
    return tuple(dict.fromkeys(keys))
