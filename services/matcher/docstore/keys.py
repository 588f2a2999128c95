"""Which name rules made the blocking keys a store keeps with its people.

A store files each person with the keys ``person_keys`` gave it when it was written, so that a
restart need not work them out again. Keys made by other rules (an upgrade changed a name rule
or the known-variant data) would miss names the current rules reach: a store whose fingerprint
differs has its people keyed again at start (``DocStore.rekey``), its documents untouched.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from types import ModuleType

from services.matcher.domain import index, name_rules, names, transliterate, variants
from services.matcher.domain.vocabulary import NATIVE_FILE

# Everything ``person_keys`` reads: the code of the modules, the native one (it spells names)
# and the variant groups' data.
_SOURCES: tuple[ModuleType, ...] = (index, name_rules, names, transliterate, variants)


@cache
def keys_fingerprint() -> bytes:
    digest = hashlib.sha256()
    for module in _SOURCES:
        assert module.__file__ is not None
        digest.update(Path(module.__file__).read_bytes())
    digest.update(NATIVE_FILE.read_bytes())
    digest.update(variants.DATA.read_bytes())
    return digest.hexdigest()[:32].encode()
