"""The native lookup applies the rule constants Python passes in (``name_rules``): each one
changed on the Python side changes what it reaches, so none has a second home in Rust."""

from __future__ import annotations

from dataclasses import replace

import pytest
from relay_vocabulary import Core

from services.matcher.domain.name_rules import NAME_RULES, NameRules
from services.matcher.domain.names import keys_similarity

# a masculine form is reached by its rule alone when no edit of this length counts
_NO_EDITS = replace(NAME_RULES, min_edit_length=50)


def _reaches(rules: NameRules, query: str, word: str) -> bool:
    core = Core(rules)
    core.add(word, 0)
    return word in core.reach([query], query)


@pytest.mark.parametrize(
    ("rules", "changed", "query", "word"),
    [
        (NAME_RULES, replace(NAME_RULES, min_fuzzy_length=5), "ivans", "ivan"),
        (replace(NAME_RULES, min_edit_length=4), NAME_RULES, "iran", "ivan"),
        (NAME_RULES, replace(NAME_RULES, min_sound_length=10), "ovrosimov", "abrosimov"),
        (
            NAME_RULES,
            replace(NAME_RULES, sound_classes=(("B", "bpf"), *NAME_RULES.sound_classes[1:])),
            "ovrosimov",
            "abrosimov",
        ),
        (NAME_RULES, replace(NAME_RULES, vowels="aeou"), "kobilov", "kabulov"),
        (_NO_EDITS, replace(_NO_EDITS, feminine=()), "brova", "brov"),
        (_NO_EDITS, replace(_NO_EDITS, min_stem_length=3), "brova", "brov"),
        (replace(_NO_EDITS, feminine=(("ova", "ovich"),)), _NO_EDITS, "brova", "brovich"),
    ],
)
def test_a_rule_changed_in_python_changes_what_the_native_lookup_reaches(
    rules: NameRules, changed: NameRules, query: str, word: str
) -> None:
    assert _reaches(rules, query, word)
    assert not _reaches(changed, query, word)


def test_under_the_rules_python_applies_the_native_lookup_agrees_on_these_pairs() -> None:
    pairs = [("ivans", "ivan"), ("ovrosimov", "abrosimov"), ("kobilov", "kabulov")]
    pairs += [("brova", "brov"), ("iran", "ivan")]
    for query, word in pairs:
        python = keys_similarity((query,), (word,), True)[0] > 0
        assert _reaches(NAME_RULES, query, word) == python, (query, word)


@pytest.mark.parametrize(
    "rules",
    [
        replace(NAME_RULES, vowels="aeiouё"),
        replace(NAME_RULES, sound_classes=(("BB", "bpfv"),)),
        replace(NAME_RULES, feminine=(("ова", "ов"),)),
    ],
)
def test_rules_the_native_lookup_cannot_apply_are_refused(rules: NameRules) -> None:
    with pytest.raises(ValueError, match=r"ASCII|one letter"):
        Core(rules)
