"""Cross-check an event against its MRZ: flag disagreements, fill gaps, never overwrite.

The MRZ is what the document itself says, checked by its check digits; the other fields are
what an officer or a system typed. When they disagree neither is silently preferred: the
event keeps what was sent and carries a flag naming the field, for the matcher and a human.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from schemas.common import COUNTRY_CODES, normalise_document_number, partial_date_parts
from schemas.event import Event, FieldFlag
from schemas.mrz import MrzResult

DISAGREES = "disagrees with the MRZ"
FILLED = "filled from the MRZ"
_DOC_TYPE = re.compile(r"^[A-Z][A-Z0-9]?$")
_NOT_LETTER = re.compile(r"[^A-Z]")
# ICAO 9303 Part 3 transliterations that differ from simply dropping the accent.
_ICAO_LATIN = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "Å": "AA", "Æ": "AE", "Ø": "OE",
                             "ß": "SS", "Þ": "TH", "Œ": "OE", "Ĳ": "IJ"})  # fmt: skip


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def mrz_forms(name: str) -> set[str] | None:
    """The spellings an MRZ may use for ``name`` (letters only), or None if not Latin script."""
    upper = name.upper()
    if upper.isascii():
        # Most names: no transliteration or accent applies, both spellings are the letters.
        return {_NOT_LETTER.sub("", upper)}
    forms = set()
    for variant in (upper.translate(_ICAO_LATIN), upper):
        plain = _strip_accents(variant).replace("'", "")
        if any(c.isalpha() and not ("A" <= c <= "Z") for c in plain):
            return None  # Cyrillic, Arabic...: transliteration is the matcher's business
        forms.add(_NOT_LETTER.sub("", plain))
    return forms


def names_agree(sent: str, mrz: str, *, truncated: bool) -> bool | None:
    """None when they cannot be compared (other script)."""
    if sent == mrz and sent.isascii() and sent.isupper():
        return True  # the usual event: sent as printed, which upper() and the filter keep as is
    forms = mrz_forms(sent)
    if forms is None:
        return None
    target = _NOT_LETTER.sub("", mrz)
    return any(f == target or (truncated and f.startswith(target)) for f in forms)


def dates_agree(sent: str, mrz: str) -> bool:
    """Compared at the precision both have; an MRZ year has two digits, so centuries match."""
    if sent == mrz:
        return True  # the usual event, and what parsing would say (or an unparsable date: True)
    try:
        a, b = partial_date_parts(sent), partial_date_parts(mrz)
    except ValueError:
        return True
    if a[0] % 100 != b[0] % 100:
        return False
    return all(x is None or y is None or x == y for x, y in zip(a[1:], b[1:], strict=True))


@dataclass
class _Check:
    """Flags and fills gathered while comparing one event with its MRZ."""

    flags: list[FieldFlag] = field(default_factory=list)
    traveller: dict[str, Any] = field(default_factory=dict)
    document: dict[str, Any] = field(default_factory=dict)

    def flag(self, path: str, reason: str) -> None:
        self.flags.append(FieldFlag(field=path, reason=reason))

    def compare(self, path: str, sent: object, mrz: object, agree: bool | None) -> bool:
        """Flag a disagreement; return True when the field is missing and could be filled."""
        if mrz is None:
            return False
        if sent is None:
            return True
        if agree is False:
            self.flag(path, DISAGREES)
        return False


def _country(code: str | None) -> str | None:
    if code == "D":
        return "DEU"
    return code if code in COUNTRY_CODES else None


def _check_traveller(check: _Check, event: Event, mrz: MrzResult) -> None:
    person = event.traveller
    truncated = any(w.field == "names" for w in mrz.warnings)
    if mrz.surname:
        agree = names_agree(person.surname, mrz.surname, truncated=truncated)
        check.compare("traveller.surname", person.surname, mrz.surname, agree)
    if mrz.given_names and person.given_names is not None:
        agree = names_agree(person.given_names, mrz.given_names, truncated=truncated)
        check.compare("traveller.given_names", person.given_names, mrz.given_names, agree)
    elif mrz.given_names:
        check.traveller["given_names"] = mrz.given_names
    dob = person.date_of_birth
    agree_dob = (
        None if dob is None or mrz.date_of_birth is None else dates_agree(dob, mrz.date_of_birth)
    )
    if check.compare("traveller.date_of_birth", dob, mrz.date_of_birth, agree_dob):
        check.traveller["date_of_birth"] = mrz.date_of_birth
    if check.compare("traveller.sex", person.sex, mrz.sex, person.sex == mrz.sex):
        check.traveller["sex"] = mrz.sex
    nationality = _country(mrz.nationality)
    agree_nat = person.nationality == nationality
    if check.compare("traveller.nationality", person.nationality, nationality, agree_nat):
        check.traveller["nationality"] = nationality


def _check_document(check: _Check, event: Event, mrz: MrzResult) -> None:
    doc = event.document
    assert doc is not None
    if mrz.document_number is not None:
        same = normalise_document_number(doc.number) == mrz.document_number
        check.compare("document.number", doc.number, mrz.document_number, same)
    state = _country(mrz.issuing_state)
    check.compare("document.issuing_state", doc.issuing_state, state, doc.issuing_state == state)
    code = mrz.document_code if mrz.document_code and _DOC_TYPE.match(mrz.document_code) else None
    # An MRZ says "P" where the sender may have written the more precise "PD", "PS"...
    agree_type = doc.type is None or code is None or doc.type.startswith(code[0])
    if check.compare("document.type", doc.type, code, agree_type):
        check.document["type"] = code
    expiry = mrz.expiry_date if mrz.expiry_date and len(mrz.expiry_date) == 10 else None
    if check.compare("document.expiry_date", doc.expiry_date, expiry, doc.expiry_date == expiry):
        check.document["expiry_date"] = expiry


def _mrz_problem(mrz: MrzResult) -> str:
    text = "; ".join(f"{e.field}: {e.reason}" for e in mrz.errors[:3]) or "unreadable"
    return f"MRZ invalid ({text})"[:300]


def cross_check(event: Event, mrz: MrzResult) -> Event:
    """The event with ``mrz_valid``, flags for disagreements and gaps filled from a valid MRZ.

    An invalid MRZ (a check digit fails) is flagged and used for nothing else: its fields
    cannot be trusted, to compare or to fill.
    """
    return event.model_copy(update=cross_check_update(event, mrz))


def cross_check_update(event: Event, mrz: MrzResult) -> dict[str, Any]:
    """What ``cross_check`` changes, as a ``model_copy`` update (ingest adds to it: one copy)."""
    if not mrz.valid:
        flags = [*event.flags, FieldFlag(field="document.mrz", reason=_mrz_problem(mrz))]
        return {"mrz_valid": False, "flags": flags}
    check = _Check()
    _check_traveller(check, event, mrz)
    _check_document(check, event, mrz)
    for name in check.traveller:
        check.flag(f"traveller.{name}", FILLED)
    for name in check.document:
        check.flag(f"document.{name}", FILLED)
    update: dict[str, Any] = {"mrz_valid": True, "flags": [*event.flags, *check.flags]}
    if check.traveller:
        update["traveller"] = event.traveller.model_copy(update=check.traveller)
    if check.document:
        assert event.document is not None
        update["document"] = event.document.model_copy(update=check.document)
    return update
