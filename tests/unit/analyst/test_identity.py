"""Who is who: the matcher's name and date rules, across scripts; keys are pseudonyms."""

from __future__ import annotations

import datetime as dt

import pytest

from services.analyst.domain.identity import (
    Identity,
    Registry,
    different_people,
    same_family,
    same_person,
)
from services.analyst.domain.pseudonym import Pseudonymiser
from tests.unit.analyst.builders import KEY

LATIN = Identity("KHOLMATOV", "ALISHER", None, "1985-03-02", "M")
CYRILLIC = Identity("Холматов", "Алишер", "Абдуллаевич", "1985-02-03", "M")  # day/month swapped
AT = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def test_one_person_in_cyrillic_and_latin_with_a_swapped_date() -> None:
    assert same_person(LATIN, CYRILLIC)
    assert not different_people(LATIN, CYRILLIC)
    assert same_person(LATIN, Identity("XOLMATOV", "ALISHER", None, "1985", "M"))  # partial


@pytest.mark.parametrize(
    "other",
    [
        Identity("KHOLMATOVA", "ALISHER", None, "1985-03-02", "F"),  # the feminine form
        Identity("KHOLMATOV", "ALISHER", None, "1991-03-02", "M"),  # years apart
        Identity("KARIMOV", "ALISHER", None, "1985-03-02", "M"),
    ],
)
def test_other_people(other: Identity) -> None:
    assert not same_person(LATIN, other)
    assert different_people(LATIN, other)


def test_unknown_birth_date_is_doubt_not_identity() -> None:
    unknown = Identity("KHOLMATOV", "ALISHER")
    assert not same_person(LATIN, unknown)
    assert not different_people(LATIN, unknown)


def test_family_names_across_forms_and_scripts() -> None:
    assert same_family("KARIMOV", "Каримова")
    assert same_family("Karimova", "KARIMOV")
    assert not same_family("KARIMOV", "YUSUPOV")


def test_registry_finds_the_person_again_under_other_spellings() -> None:
    registry = Registry(Pseudonymiser(KEY))
    first = registry.resolve(LATIN, "doc-a", AT)
    again = registry.resolve(CYRILLIC, None, AT + dt.timedelta(days=3))
    by_document = registry.resolve(Identity("KHOLMATOV", "ALISHER"), "doc-a", AT)
    other = registry.resolve(Identity("KHOLMATOVA", "DILNOZA", None, "1987", "F"), None, AT)
    assert first.pid == again.pid == by_document.pid
    assert other.pid != first.pid
    assert len(registry.persons) == 2


def test_state_keys_are_keyed_pseudonyms() -> None:
    registry = Registry(Pseudonymiser(KEY))
    person = registry.resolve(LATIN, None, AT)
    other_key = Registry(Pseudonymiser(b"another-key-of-sixteen-bytes-or-more"))
    assert other_key.resolve(LATIN, None, AT).pid != person.pid
    text = repr(registry._blocks) + person.pid
    assert "KHOLMATOV" not in text.upper()
    assert "holmatov" not in text.lower()
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymiser(b"short")


def test_a_person_not_seen_since_is_forgotten_with_their_keys() -> None:
    registry = Registry(Pseudonymiser(KEY))
    old = registry.resolve(LATIN, "doc-a", AT)
    recent = registry.resolve(
        Identity("KARIMOV", "BOBUR", None, "1990-01-05"), "doc-b", AT + dt.timedelta(days=50)
    )
    cutoff = AT + dt.timedelta(days=10)
    assert not registry.forget(recent.pid, cutoff)
    assert registry.forget(old.pid, cutoff)
    assert list(registry.persons) == [recent.pid]
    assert list(registry._by_document) == ["doc-b"]
    assert all(
        block == [recent.pid] for days in registry._blocks.values() for block in days.values()
    )


def test_a_placeholder_date_does_not_chain_two_namesakes() -> None:
    registry = Registry(Pseudonymiser(KEY))
    may = registry.resolve(Identity("SHARIPOVA", "PARVINA", None, "1981-05-19", "F"), None, AT)
    placeholder = registry.resolve(
        Identity("SHARIPOVA", "PARVINA", None, "1981-01-01", "F"), None, AT
    )
    other = registry.resolve(Identity("SHARIPOVA", "PARVINA", None, "1981-05-17", "F"), None, AT)
    assert placeholder.pid == may.pid  # 1 January may stand for any day of 1981
    assert other.pid != may.pid  # two days apart in May: another woman
