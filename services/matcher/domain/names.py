"""Comparing a traveller's name with one name form of a watchlist entry.

Tokens are compared on their skeletons (see transliterate.py), so scripts and transliteration
standards do not matter; token sets are matched order-insensitively, so surname and given
names may be swapped; a patronymic or Turkic particle present on one side only is ignored,
while two different patronymics count against the match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz.distance import OSA

from schemas.alert import How
from services.matcher.domain.explain import Evidence
from services.matcher.domain.name_rules import MIN_EDIT_LENGTH, MIN_FUZZY_LENGTH, MIN_SOUND_LENGTH
from services.matcher.domain.transliterate import (
    consonants,
    is_cyrillic,
    masculine,
    sound_key,
    spelt,
)
from services.matcher.domain.variants import groups as name_groups

SURNAME, GIVEN, PATRONYMIC = "surname", "given_names", "patronymic"

# Skeletons of "son of" / "daughter of" particles: oʻgʻli, ugli, uly, uulu, kyzy, qizi, gizi.
_PARTICLES = frozenset({"ogli", "ugli", "oglu", "uli", "ulu", "kizi", "gizi", "kiz", "ibn", "bin"})
_PATRONYMIC_END = re.compile(r"(?:iC|vna|Cna)$")
_SPLIT = re.compile(r"[\s,\-]+")
_MIN_PATRONYMIC_LENGTH = 4  # shorter words ending in -ich or -vna are names themselves
_SPELLING_VARIANT = 0.85  # two edits of vowels alone
_KNOWN_VARIANT = _SPELLING_VARIANT  # recorded as one name: as sure as a spelling variant
_MISSING_PENALTY = 0.08
_OTHER_PATRONYMIC_PENALTY = 0.15


class Token(NamedTuple):
    """One token of a name; a tuple, as every new name makes a few (a frozen dataclass cost
    more to build than the token's spelling)."""

    raw: str
    role: str
    keys: tuple[str, ...]
    latin: str  # plain Latin letters as typed: catches a typo that the skeleton hides


@dataclass(frozen=True, slots=True)
class NameMatch:
    score: float
    swapped: bool
    gender_form: bool
    evidence: tuple[Evidence, ...]
    fuzzy: int = 0  # core tokens that differ beyond spelling (one edit, sound alike)
    weakest: float = 1.0


def looks_patronymic(key: str) -> bool:
    return key in _PARTICLES or (
        len(key) >= _MIN_PATRONYMIC_LENGTH and _PATRONYMIC_END.search(key) is not None
    )


@lru_cache(maxsize=400_000)
def tokenise(text: str | None, role: str) -> tuple[Token, ...]:
    if not text:
        return ()
    out = []
    for part in _SPLIT.split(unicodedata.normalize("NFC", text)):
        latin, keys = spelt(part)
        if keys:
            out.append(Token(part, role, keys, latin))
    return tuple(out)


def token_similarity(a: Token, b: Token, surname: bool) -> tuple[float, How]:
    """(score, how) of two tokens; score 0 means "not the same name"."""
    found = keys_similarity(a.keys, b.keys, surname)
    if found[0] == 0 and typed_one_edit(a.latin, b.latin):
        return 0.9, How.ONE_EDIT
    if found[0] == 0 and name_groups().shared(a.keys, b.keys):
        return _KNOWN_VARIANT, How.KNOWN_VARIANT
    return found


def typed_one_edit(a: str, b: str) -> bool:
    """One slip of the keyboard in the plain Latin letters of a longer name."""
    if not _edit_lengths(a, b):
        return False
    return bool(OSA.distance(a, b, score_cutoff=1) == 1)


@lru_cache(maxsize=400_000)
def keys_similarity(a: tuple[str, ...], b: tuple[str, ...], surname: bool) -> tuple[float, How]:
    """Best pair of skeleton readings: (score, how)."""
    best: tuple[float, How] = (0.0, How.DIFFERENT)
    for ka in a:
        for kb in b:
            found = _key_similarity(ka, kb, surname)
            if found[0] > best[0]:
                best = found
    return best


def _key_similarity(ka: str, kb: str, surname: bool) -> tuple[float, How]:
    if ka == kb:
        return 1.0, How.SAME
    if surname and (masculine(ka) == kb or masculine(kb) == ka):
        return 0.9, How.GENDER_FORM
    if not _edit_lengths(ka, kb):
        return 0.0, How.DIFFERENT
    distance = OSA.distance(ka, kb, score_cutoff=2)
    if distance == 1:
        return 0.9, How.ONE_EDIT
    return two_edits(ka, kb) if distance == 2 else (0.0, How.DIFFERENT)


def _edit_lengths(a: str, b: str) -> bool:
    """Whether the words are long enough to be one name an edit or two apart."""
    return max(len(a), len(b)) >= MIN_EDIT_LENGTH and min(len(a), len(b)) >= MIN_FUZZY_LENGTH


def two_edits(ka: str, kb: str) -> tuple[float, How]:
    """Two edits are the same name only if vowels alone, or like-sounding letters, differ."""
    if consonants(ka) == consonants(kb):
        return _SPELLING_VARIANT, How.SPELLING_VARIANT
    if min(len(ka), len(kb)) >= MIN_SOUND_LENGTH and sound_key(ka) == sound_key(kb):
        return 0.8, How.SOUNDS_ALIKE
    return 0.0, How.DIFFERENT


def describe_same(event_raw: str, entry_raw: str) -> How:
    """Why two tokens with one skeleton are the same name, in a duty officer's words."""
    if event_raw.casefold() == entry_raw.casefold():
        return How.EXACT
    if is_cyrillic(event_raw) != is_cyrillic(entry_raw):
        return How.TRANSLITERATION
    return How.SPELLING_VARIANT


def split_roles(tokens: tuple[Token, ...]) -> tuple[list[Token], list[Token]]:
    """(core, patronymic-like): the patronymic, and given names after the first that are a
    patronymic (-ovich, -ovna) or a particle (uly, kyzy) or the father's name before one."""
    core: list[Token] = []
    extra: list[Token] = []
    given_seen = False
    for position, token in enumerate(tokens):
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        later_given = token.role == GIVEN and given_seen
        if token.role == PATRONYMIC or (later_given and _is_patronymic_part(token, following)):
            extra.append(token)
        else:
            core.append(token)
        given_seen = given_seen or token.role == GIVEN
    return core, extra


def _is_patronymic_part(token: Token, following: Token | None) -> bool:
    if looks_patronymic(token.keys[0]):
        return True
    return following is not None and following.keys[0] in _PARTICLES


def _assign(
    entry_core: list[Token], event_tokens: list[Token]
) -> list[tuple[Token, Token, float, How]]:
    """Greedy best-first assignment of entry tokens to event tokens (a handful each)."""
    scored = []
    for entry_token in entry_core:
        for event_token in event_tokens:
            score, how = token_similarity(event_token, entry_token, entry_token.role == SURNAME)
            if score > 0:
                scored.append((score, entry_token, event_token, how))
    scored.sort(key=lambda item: item[0], reverse=True)
    used_entry: set[int] = set()
    used_event: set[int] = set()
    pairs = []
    for score, entry_token, event_token, how in scored:
        if id(entry_token) in used_entry or id(event_token) in used_event:
            continue
        used_entry.add(id(entry_token))
        used_event.add(id(event_token))
        pairs.append((entry_token, event_token, score, how))
    return pairs


def compare_names(
    event_tokens: tuple[Token, ...], entry_tokens: tuple[Token, ...]
) -> NameMatch | None:
    """A name match, or None when a surname or a first given name finds no partner."""
    entry_core, entry_extra = split_roles(entry_tokens)
    event_core, _ = split_roles(event_tokens)
    pairs = _assign(entry_core, list(event_tokens))
    matched_entry = {id(p[0]) for p in pairs}
    matched_event = {id(p[1]) for p in pairs}
    # An entry published without a forename (INTERPOL's ``forename: null``) asks nothing of
    # the traveller's given names: the surname (and the birth date, elsewhere) must carry it.
    entry_has_given = any(t.role == GIVEN for t in entry_core)
    if not (
        _required_matched(entry_core, matched_entry)
        and _required_matched(event_core, matched_event, given_required=entry_has_given)
    ):
        return None
    leftover = [t for t in event_tokens if id(t) not in matched_event]
    penalty = _MISSING_PENALTY * sum(1 for t in entry_core if id(t) not in matched_entry)
    evidence = [_pair_evidence(p) for p in pairs]
    extra_penalty, extra_evidence = _compare_leftovers(leftover, entry_extra)
    evidence += extra_evidence
    score = sum(p[2] for p in pairs) / len(pairs) - penalty - extra_penalty
    swapped = any(p[0].role != p[1].role for p in pairs)
    if swapped:
        evidence = [_mark_swapped(e) for e in evidence]
    gender = any(p[3] == How.GENDER_FORM for p in pairs)
    fuzzy = sum(1 for p in pairs if p[2] < 1.0 and p[3] != How.GENDER_FORM)
    weakest = min(p[2] for p in pairs)
    return NameMatch(max(score, 0.0), swapped, gender, tuple(evidence), fuzzy, weakest)


def _required_matched(
    entry_core: list[Token], matched: set[int], *, given_required: bool = True
) -> bool:
    surnames = [t for t in entry_core if t.role == SURNAME]
    given = [t for t in entry_core if t.role == GIVEN]
    if surnames and not any(id(t) in matched for t in surnames):
        return False
    if given_required and given and id(given[0]) not in matched:
        return False
    return bool(matched)


def _compare_leftovers(
    leftover: list[Token], entry_extra: list[Token]
) -> tuple[float, list[Evidence]]:
    """Event tokens left over: the entry's patronymic, one-sided patronymics, or extra names."""
    penalty = 0.0
    evidence: list[Evidence] = []
    for token in leftover:
        partner = _best_partner(token, entry_extra)
        if partner is not None:
            evidence.append(_pair_evidence((partner[0], token, partner[1], partner[2])))
        elif looks_patronymic(token.keys[0]):
            if entry_extra:
                penalty += _OTHER_PATRONYMIC_PENALTY
                evidence.append(
                    Evidence(PATRONYMIC, token.raw, _raw(entry_extra), How.DIFFERENT, 0)
                )
            else:
                evidence.append(Evidence(PATRONYMIC, token.raw, None, How.ONLY_IN_EVENT, 0.5))
        else:
            penalty += _MISSING_PENALTY
            evidence.append(Evidence("other_names", token.raw, None, How.ONLY_IN_EVENT, 0.0))
    return penalty, evidence


def _best_partner(token: Token, candidates: list[Token]) -> tuple[Token, float, How] | None:
    best: tuple[Token, float, How] | None = None
    for candidate in candidates:
        score, how = token_similarity(token, candidate, False)
        if score > 0 and (best is None or score > best[1]):
            best = (candidate, score, how)
    return best


def _pair_evidence(pair: tuple[Token, Token, float, How]) -> Evidence:
    entry_token, event_token, score, how = pair
    if how == How.SAME:
        how = describe_same(event_token.raw, entry_token.raw)
    return Evidence(entry_token.role, event_token.raw, entry_token.raw, how, score)


def _mark_swapped(item: Evidence) -> Evidence:
    if item.field in (SURNAME, GIVEN):
        return Evidence(item.field, item.event, item.entry, How.SWAPPED_ORDER, item.score)
    return item


def _raw(tokens: list[Token]) -> str:
    return " ".join(t.raw for t in tokens)
