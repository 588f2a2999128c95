"""ICAO 9303 machine-readable zone reader: TD1, TD2, TD3, MRV-A, MRV-B (+ French ID 1988).

``read_mrz(lines)`` never raises: whatever it is given, it returns an ``MrzResult`` with the
fields it could read, ``valid`` and the ``errors`` (field + reason) that make it invalid.
Check digits follow ICAO 9303 Part 3 §4.9 (weights 7-3-1, ``<`` = 0, A-Z = 10-35).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from schemas.common import COUNTRY_CODES

_ALLOWED = re.compile(r"[A-Z0-9<]*")  # fullmatch: "$" would let a line break through
_SPACES = re.compile(r" +")
_WEIGHTS = (7, 3, 1)


class MrzFormat(StrEnum):
    TD1 = "TD1"
    TD2 = "TD2"
    TD3 = "TD3"
    MRV_A = "MRV-A"
    MRV_B = "MRV-B"
    FRA_ID = "FRA-ID"  # French national ID card 1988-2021: TD2-sized, its own layout


class MrzIssue(BaseModel):
    field: str
    reason: str


class MrzResult(BaseModel):
    format: MrzFormat | None = None
    document_code: str | None = None
    issuing_state: str | None = None
    surname: str | None = None
    given_names: str | None = None
    document_number: str | None = None
    nationality: str | None = None
    date_of_birth: str | None = None  # YYYY-MM-DD (or YYYY-MM / YYYY when the MRZ says unknown)
    date_of_birth_raw: str | None = None  # YYMMDD as printed
    sex: str | None = None  # M, F, X; None when unspecified (<)
    expiry_date: str | None = None
    expiry_date_raw: str | None = None
    optional_data: str | None = None
    optional_data_2: str | None = None  # TD1 line 2
    checks: dict[str, bool] = Field(default_factory=dict)  # check digit name -> verified
    valid: bool = False
    errors: list[MrzIssue] = Field(default_factory=list)
    warnings: list[MrzIssue] = Field(default_factory=list)


def char_value(char: str) -> int | None:
    if char.isdecimal():  # not isdigit: int() refuses a superscript digit ("²")
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - 55
    if char == "<":
        return 0
    return None


# Per-event hot path (ingest verifies five check digits per passport): the text is translated
# to bytes holding each character's value, so the weighted sum runs in C. Anything outside the
# MRZ alphabet (non-ASCII characters are encoded as '?') translates to _NOT_MRZ.
_NOT_MRZ = 255
_VALUE_OF = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")} | {"<": 0}
_TO_VALUE = bytes(_VALUE_OF.get(chr(b), _NOT_MRZ) for b in range(256))


def _check_digit_by_char(data: str) -> str | None:
    """Character by character: the definition, for anything outside the MRZ alphabet."""
    total = 0
    for i, char in enumerate(data):
        value = char_value(char)
        if value is None:
            return None
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


def check_digit(data: str) -> str | None:
    """The ICAO 9303 check digit of ``data``; None if it holds characters an MRZ cannot."""
    values = data.encode("ascii", "replace").translate(_TO_VALUE)
    if _NOT_MRZ in values:
        return _check_digit_by_char(data)  # the same answer (or error) as ever for odd input
    total = 7 * sum(values[0::3]) + 3 * sum(values[1::3]) + sum(values[2::3])
    return str(total % 10)


@dataclass(slots=True)
class _Reader:
    """Mutable state while reading one MRZ, in plain Python; ``result()`` builds the MrzResult.

    Ingest reads one MRZ per event: setting fifteen attributes of a pydantic model one by one
    cost more than the reading itself, so the fields are gathered here and validated once.
    """

    today: dt.date
    fields: dict[str, Any] = field(default_factory=dict)  # MrzResult field -> value read
    checks: dict[str, bool] = field(default_factory=dict)
    errors: list[MrzIssue] = field(default_factory=list)
    warnings: list[MrzIssue] = field(default_factory=list)

    def error(self, name: str, reason: str) -> None:
        self.errors.append(MrzIssue(field=name, reason=reason))

    def warn(self, name: str, reason: str) -> None:
        self.warnings.append(MrzIssue(field=name, reason=reason))

    def result(self) -> MrzResult:
        return MrzResult(
            **self.fields,
            checks=self.checks,
            valid=not self.errors,
            errors=self.errors,
            warnings=self.warnings,
        )

    def verify(self, name: str, data: str, digit: str, *, filler_ok: bool = False) -> bool:
        expected = check_digit(data)
        ok = expected is not None and (digit == expected or (filler_ok and digit == "<"))
        if filler_ok and digit == "<" and set(data) != {"<"}:
            ok = False  # '<' stands for a check digit only over an empty field
        self.checks[name] = ok
        if not ok:
            self.error(name, f"check digit mismatch: printed {digit!r}, computed {expected!r}")
        return ok


def _clean(text: str) -> str:
    """Fillers to single spaces, none at the ends. Most names have no run of fillers left once
    the trailing ones are gone, so the regular expression runs only when one is left."""
    spaced = text.strip("<").replace("<", " ")
    return (_SPACES.sub(" ", spaced) if "  " in spaced else spaced).strip()


def _split_names(zone: str) -> tuple[str, str | None]:
    """(surname, given names) of a name zone: primary and secondary identifier split at ``<<``."""
    surname, _, given = zone.partition("<<")
    return _clean(surname), _clean(given) or None


def _names(reader: _Reader, zone: str) -> None:
    reader.fields["surname"], reader.fields["given_names"] = _split_names(zone)
    if not zone.endswith("<"):
        reader.warn("names", "name zone is full: the name may be truncated")


def _state(reader: _Reader, name: str, raw: str) -> str:
    code = raw.strip("<")
    if code not in COUNTRY_CODES and code != "D":
        reader.warn(name, f"{code!r} is not an ISO 3166-1 alpha-3 or ICAO 9303 code")
    return code


def _sex(reader: _Reader, raw: str) -> None:
    if raw in ("M", "F", "X"):
        reader.fields["sex"] = raw
    elif raw != "<":
        reader.error("sex", f"{raw!r} is not M, F, X or <")


def _date(reader: _Reader, name: str, raw: str, *, birth: bool) -> str | None:
    """YYMMDD -> YYYY-MM-DD. Birth dates are never in the future; expiry dates at most 50 years
    ahead, so '97' is 1997 and '12' is 2012."""
    yy, mm, dd = raw[0:2], raw[2:4], raw[4:6]
    if not yy.isdecimal():
        reader.error(name, f"{raw!r} has no year")
        return None
    year = 2000 + int(yy)
    if year > reader.today.year + (0 if birth else 50):
        year -= 100
    text = _calendar_text(year, mm, dd)
    if text is not None and birth and len(text) == 10:
        born = _iso_date(text)  # None for what int() forgave above (' 1', '+1', '١')
        if born is None:
            text = None
        elif born > reader.today:  # born later this century's same year: a century earlier
            return f"{year - 100:04d}{text[4:]}"
    if text is None:
        reader.error(name, f"{raw!r} is not a date in the calendar")
    return text


def _calendar_text(year: int, mm: str, dd: str) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD as printed ('<<' for unknown); None if not in the calendar."""
    try:
        dt.date(year, int(mm) if mm != "<<" else 1, int(dd) if dd != "<<" else 1)
    except ValueError:
        return None
    if mm == "<<":
        return f"{year:04d}"
    return f"{year:04d}-{mm}" if dd == "<<" else f"{year:04d}-{mm}-{dd}"


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _dates(reader: _Reader, dob: str, expiry: str | None) -> None:
    reader.fields["date_of_birth_raw"] = dob
    reader.fields["date_of_birth"] = _date(reader, "date_of_birth", dob, birth=True)
    if expiry is not None:
        reader.fields["expiry_date_raw"] = expiry
        reader.fields["expiry_date"] = _date(reader, "expiry_date", expiry, birth=False)


def _document_number(reader: _Reader, number: str, digit: str, extension: str) -> str:
    """The document number, continued into ``extension`` (optional data) when longer than 9.

    Returns what remains of the optional data. The ICAO rule computes the check digit over
    the whole number; some issuers (Belgium) include the filler at position 10, so both count.
    """
    if digit != "<" or extension[:1] in ("", "<"):
        reader.fields["document_number"] = number.strip("<")
        reader.verify("document_number", number, digit)
        return extension
    continued, _, rest = extension.partition("<")
    full, printed = number + continued[:-1], continued[-1]
    reader.fields["document_number"] = full.strip("<")
    if check_digit(full) != printed and check_digit(f"{number}<{continued[:-1]}") == printed:
        reader.checks["document_number"] = True
        reader.warn("document_number", "check digit computed over the number with its filler")
    else:
        reader.verify("document_number", full, printed)
    return "<" + rest


def _optional(text: str) -> str | None:
    return text.strip("<") or None


def _read_td1(reader: _Reader, l1: str, l2: str, l3: str) -> None:
    reader.fields["document_code"] = l1[0:2].strip("<")
    reader.fields["issuing_state"] = _state(reader, "issuing_state", l1[2:5])
    reader.fields["optional_data"] = _optional(
        _document_number(reader, l1[5:14], l1[14], l1[15:30])
    )
    reader.verify("date_of_birth", l2[0:6], l2[6])
    reader.verify("expiry_date", l2[8:14], l2[14])
    _sex(reader, l2[7])
    _dates(reader, l2[0:6], l2[8:14])
    reader.fields["nationality"] = _state(reader, "nationality", l2[15:18])
    reader.fields["optional_data_2"] = _optional(l2[18:29])
    reader.verify("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    _names(reader, l3)


def _read_two_line(reader: _Reader, l1: str, l2: str, fmt: MrzFormat) -> None:
    """TD2, TD3, MRV-A and MRV-B share line 2 up to the expiry check digit."""
    width = len(l1)
    reader.fields["document_code"] = l1[0:2].strip("<")
    reader.fields["issuing_state"] = _state(reader, "issuing_state", l1[2:5])
    _names(reader, l1[5:width])
    composite = fmt in (MrzFormat.TD2, MrzFormat.TD3)  # visas end with no composite digit
    optional = l2[28 : width - 1] if composite else l2[28:width]
    if fmt is MrzFormat.TD2:
        optional = _document_number(reader, l2[0:9], l2[9], optional)
    else:
        reader.fields["document_number"] = l2[0:9].strip("<")
        reader.verify("document_number", l2[0:9], l2[9])
    reader.fields["nationality"] = _state(reader, "nationality", l2[10:13])
    reader.verify("date_of_birth", l2[13:19], l2[19])
    _sex(reader, l2[20])
    reader.verify("expiry_date", l2[21:27], l2[27])
    _dates(reader, l2[13:19], l2[21:27])
    if fmt is MrzFormat.TD3:
        reader.verify("optional_data", l2[28:42], l2[42], filler_ok=True)
        optional = l2[28:42]
    reader.fields["optional_data"] = _optional(optional)
    if composite:
        reader.verify("composite", l2[0:10] + l2[13:20] + l2[21 : width - 1], l2[width - 1])


def _read_fra_id(reader: _Reader, l1: str, l2: str) -> None:
    reader.fields["document_code"] = l1[0:2]
    reader.fields["issuing_state"] = "FRA"
    reader.fields["surname"], reader.fields["given_names"] = _fra_id_names(l1, l2)
    reader.fields["optional_data"] = _optional(l1[30:36])
    reader.fields["document_number"] = l2[0:12].strip("<")
    reader.verify("document_number", l2[0:12], l2[12])
    reader.verify("date_of_birth", l2[27:33], l2[33])
    _dates(reader, l2[27:33], None)
    _sex(reader, l2[34])
    reader.verify("composite", l1 + l2[0:35], l2[35])


def _fra_id_names(l1: str, l2: str) -> tuple[str, str | None]:
    return _clean(l1[5:30]), _clean(l2[13:27]) or None


def detect_format(lines: list[str]) -> MrzFormat | None:
    shape = (len(lines), *{len(line) for line in lines})
    first = lines[0][:1] if lines else ""
    if shape == (3, 30):
        return MrzFormat.TD1
    if shape == (2, 44):
        return MrzFormat.MRV_A if first == "V" else MrzFormat.TD3
    if shape == (2, 36):
        if first == "V":
            return MrzFormat.MRV_B
        return MrzFormat.FRA_ID if lines[0].startswith("IDFRA") else MrzFormat.TD2
    return None


def read_mrz(lines: list[str] | tuple[str, ...], today: dt.date | None = None) -> MrzResult:
    """Parse and verify an MRZ. ``today`` fixes the century rule (default: the current date)."""
    cleaned = [line.strip() for line in lines if line.strip()]
    reader = _Reader(today or dt.date.today())
    fmt = detect_format(cleaned)
    reader.fields["format"] = fmt
    if fmt is None:
        shape = " + ".join(str(len(line)) for line in cleaned) or "nothing"
        reader.error("format", f"{shape} characters is no ICAO 9303 layout (TD1 3x30, "
                     "TD2/MRV-B 2x36, TD3/MRV-A 2x44)")  # fmt: skip
        return reader.result()
    for number, line in enumerate(cleaned, start=1):
        if not _ALLOWED.fullmatch(line):
            bad = next(c for c in line if not _ALLOWED.fullmatch(c))
            reader.error("characters", f"line {number} holds {bad!r}: only A-Z, 0-9 and <")
    if fmt is MrzFormat.TD1:
        _read_td1(reader, *cleaned)
    elif fmt is MrzFormat.FRA_ID:
        _read_fra_id(reader, *cleaned)
    else:
        _read_two_line(reader, cleaned[0], cleaned[1], fmt)
    return reader.result()


_NAME_ZONE = re.compile(r"[A-Z<]*")


def read_mrz_name(lines: list[str] | tuple[str, ...]) -> tuple[str, str | None] | None:
    """(surname, given names) as ``read_mrz`` reads them, and nothing else of the zone: the
    matcher screens the name of every event's MRZ, so it must cost little. None when the lines
    are no layout this reader knows, or when the name zone holds anything but A-Z and ``<``
    (an OCR slip such as ``M4RCHAND`` is no name to screen).

    The name is as the document prints it: transliterated to A-Z by ICAO 9303 rules and, when
    the zone is full, possibly truncated.
    """
    cleaned = [line.strip() for line in lines if line.strip()]
    fmt = detect_format(cleaned)
    if fmt is None:
        return None
    if fmt is MrzFormat.FRA_ID:
        first, second = cleaned[0][5:30], cleaned[1][13:27]
        if not (_NAME_ZONE.fullmatch(first) and _NAME_ZONE.fullmatch(second)):
            return None
        return _fra_id_names(cleaned[0], cleaned[1])
    zone = cleaned[2] if fmt is MrzFormat.TD1 else cleaned[0][5:]
    return _split_names(zone) if _NAME_ZONE.fullmatch(zone) else None
