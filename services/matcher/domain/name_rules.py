"""The constants of the name rules: the single home of each, for Python and the native lookup.

``transliterate`` (``consonants``, ``sound_key``, ``masculine``) and ``names`` (the pair
rules) read them from here; ``vocabulary`` passes ``NAME_RULES`` to the native lookup
(``relay_vocabulary.Core``), which applies the same rules and keeps no copy of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

# Words an edit apart are one name only when the shorter has MIN_FUZZY_LENGTH letters and
# the longer MIN_EDIT_LENGTH: one edit in a 4-letter name makes another name (Ivan, Iran).
MIN_FUZZY_LENGTH = 4
MIN_EDIT_LENGTH = 5
MIN_SOUND_LENGTH = 6  # short words share too many sound keys to tell names apart
MIN_STEM_LENGTH = 2  # letters before a feminine suffix (Ivan-ova): fewer make no surname
VOWELS = "aeiou"  # of skeletons (y is read as i)
# Feminine surname suffix -> masculine, first match wins (skeletons: ya is read ia). A pair
# differs in at most two vowels: the lookup finds a feminine form in its consonant bucket.
FEMININE = (("skaia", "ski"), ("tskaia", "tski"), ("ova", "ov"), ("eva", "ev"), ("ina", "in"))
# Sound class symbol -> the skeleton letters it stands for (H is kh, C is ch or ts).
SOUND_CLASSES = (("B", "bpfv"), ("G", "gkH"), ("D", "dt"), ("Z", "zsC"))


@dataclass(frozen=True, slots=True)
class NameRules:
    """The rule constants as one value, for the native lookup (``relay_vocabulary.Core``)."""

    min_fuzzy_length: int
    min_edit_length: int
    min_sound_length: int
    min_stem_length: int
    vowels: str
    feminine: tuple[tuple[str, str], ...]
    sound_classes: tuple[tuple[str, str], ...]


NAME_RULES = NameRules(
    min_fuzzy_length=MIN_FUZZY_LENGTH,
    min_edit_length=MIN_EDIT_LENGTH,
    min_sound_length=MIN_SOUND_LENGTH,
    min_stem_length=MIN_STEM_LENGTH,
    vowels=VOWELS,
    feminine=FEMININE,
    sound_classes=SOUND_CLASSES,
)
