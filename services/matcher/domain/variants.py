"""Known spelling variants: names that no edit rule links but that are recorded as one name.

Two real spellings of one name can be far apart in letters (Seon and Seng, Jacqueline and
Line, Lam and Lim for 林). The groups come from Wikidata's name items as packaged by
``rigour`` (its person-name groups, MIT; Wikidata CC0), turned into skeletons by
``python -m services.tooling.name_groups`` (see ``services/matcher/data/README.md``). A
token reaches the entries of every group one of its readings is in, and two readings in one
group compare as ``known_variant``.
"""

from __future__ import annotations

import gzip
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "name_groups.txt.gz"
_TAG = "#"  # a vocabulary word with a non-letter is reached only exactly (see the native core)
# Bits of the filter of keys (1 MiB): a word in no group, as most new names' readings are,
# is told by one bit instead of a bisection of the keys; a few percent pass it anyway.
_FILTER_MASK = (1 << 23) - 1


class NameGroups:
    """Skeleton -> the Wikidata items (their Q numbers) of the names it is a spelling of.

    The data file lists ``<skeleton> TAB <Q number>[,<Q number>...]`` sorted by skeleton, and
    is held the same way: a sorted list searched by bisection, beside an array of the items.
    A dict of 300,000 keys would cost several times the memory for a lookup that is not hot
    (it runs only for token pairs that no edit rule links).
    """

    def __init__(self, lines: Iterable[str]) -> None:
        self._keys: list[str] = []
        # a key's item, or -1 - its place in _several when it names more than one
        self._item = array("q")
        self._several: list[tuple[int, ...]] = []
        self._filter = bytearray((_FILTER_MASK + 1) // 8)
        for line in lines:
            key, _, items = line.partition("\t")
            found = tuple(int(item) for item in items.split(","))
            if self._keys and key <= self._keys[-1]:
                raise ValueError(f"name groups: {key!r} is out of order")
            self._keys.append(key)
            bit = hash(key) & _FILTER_MASK  # str hashes differ between processes: never stored
            self._filter[bit >> 3] |= 1 << (bit & 7)
            if len(found) == 1:
                self._item.append(found[0])
            else:
                self._item.append(-1 - len(self._several))
                self._several.append(found)

    def __len__(self) -> int:
        return len(self._keys)

    def of(self, key: str) -> tuple[int, ...]:
        bit = hash(key) & _FILTER_MASK
        if not self._filter[bit >> 3] & (1 << (bit & 7)):
            return ()
        place = bisect_left(self._keys, key)
        if place == len(self._keys) or self._keys[place] != key:
            return ()
        item = self._item[place]
        return (item,) if item >= 0 else self._several[-1 - item]

    def shared(self, a: tuple[str, ...], b: tuple[str, ...]) -> bool:
        """Whether any reading of ``a`` is in a group with any reading of ``b``."""
        mine = {group for key in a for group in self.of(key)}
        return bool(mine) and any(group in mine for key in b for group in self.of(key))

    def words(self, keys: tuple[str, ...]) -> list[str]:
        """The vocabulary words of the groups of ``keys`` (exact-only: never near a name)."""
        return sorted({f"{_TAG}{group}" for key in keys for group in self.of(key)})


def read(path: Path) -> NameGroups:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return NameGroups(line.rstrip("\n") for line in handle if line.strip())


@cache
def groups() -> NameGroups:
    """The packaged groups, read once per process."""
    return read(DATA)
