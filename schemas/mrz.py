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

from pydantic import BaseModel, Field

from schemas.common import COUNTRY_CODES

_ALLOWED = re.compile(r"^[A-Z0-9<]*$")
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
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - 55
    if char == "<":
        return 0
    return None


# Per-event hot path (ingest verifies five check digits per passport): the MRZ alphabet is
# translated to bytes holding each character's value, so the weighted sum runs in C.
_MRZ_ALPHABET = re.compile(r"[0-9A-Z<]*")
_TO_VALUE = str.maketrans(
    {c: chr(v) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<" if (v := char_value(c)) is not None}
)


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
    if not _MRZ_ALPHABET.fullmatch(data):
        return _check_digit_by_char(data)  # the same answer (or error) as ever for odd input
    values = data.translate(_TO_VALUE).encode("latin-1")
    total = 7 * sum(values[0::3]) + 3 * sum(values[1::3]) + sum(values[2::3])
    return str(total % 10)


@dataclass
class _Reader:
    """Mutable state while reading one MRZ; turned into an MrzResult at the end."""

    result: MrzResult
    today: dt.date
    checks: dict[str, bool] = field(default_factory=dict)

    def error(self, name: str, reason: str) -> None:
        self.result.errors.append(MrzIssue(field=name, reason=reason))

    def warn(self, name: str, reason: str) -> None:
        self.result.warnings.append(MrzIssue(field=name, reason=reason))

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
    return _SPACES.sub(" ", text.replace("<", " ")).strip()


def _names(reader: _Reader, zone: str) -> None:
    surname, _, given = zone.partition("<<")
    reader.result.surname = _clean(surname)
    reader.result.given_names = _clean(given) or None
    if not zone.endswith("<"):
        reader.warn("names", "name zone is full: the name may be truncated")


def _state(reader: _Reader, name: str, raw: str) -> str:
    code = raw.strip("<")
    if code not in COUNTRY_CODES and code != "D":
        reader.warn(name, f"{code!r} is not an ISO 3166-1 alpha-3 or ICAO 9303 code")
    return code


def _sex(reader: _Reader, raw: str) -> None:
    if raw in ("M", "F", "X"):
        reader.result.sex = raw
    elif raw != "<":
        reader.error("sex", f"{raw!r} is not M, F, X or <")


def _date(reader: _Reader, name: str, raw: str, *, birth: bool) -> str | None:
    """YYMMDD -> YYYY-MM-DD. Birth dates are never in the future; expiry dates at most 50 years
    ahead, so '97' is 1997 and '12' is 2012."""
    yy, mm, dd = raw[0:2], raw[2:4], raw[4:6]
    if not yy.isdigit():
        reader.error(name, f"{raw!r} has no year")
        return None
    year = 2000 + int(yy)
    if (birth and year > reader.today.year) or (not birth and year > reader.today.year + 50):
        year -= 100
    parts = [f"{year:04d}"]
    if mm != "<<":
        parts.append(mm)
        if dd != "<<":
            parts.append(dd)
    try:
        dt.date(year, int(mm) if mm != "<<" else 1, int(dd) if dd != "<<" else 1)
    except ValueError:
        reader.error(name, f"{raw!r} is not a date in the calendar")
        return None
    if birth and len(parts) == 3 and dt.date.fromisoformat("-".join(parts)) > reader.today:
        parts[0] = f"{year - 100:04d}"  # born later this century's same year: a century earlier
    return "-".join(parts)


def _dates(reader: _Reader, dob: str, expiry: str | None) -> None:
    reader.result.date_of_birth_raw = dob
    reader.result.date_of_birth = _date(reader, "date_of_birth", dob, birth=True)
    if expiry is not None:
        reader.result.expiry_date_raw = expiry
        reader.result.expiry_date = _date(reader, "expiry_date", expiry, birth=False)


def _document_number(reader: _Reader, number: str, digit: str, extension: str) -> str:
    """The document number, continued into ``extension`` (optional data) when longer than 9.

    Returns what remains of the optional data. The ICAO rule computes the check digit over
    the whole number; some issuers (Belgium) include the filler at position 10, so both count.
    """
    if digit != "<" or extension[:1] in ("", "<"):
        reader.result.document_number = number.strip("<")
        reader.verify("document_number", number, digit)
        return extension
    continued, _, rest = extension.partition("<")
    full, printed = number + continued[:-1], continued[-1]
    reader.result.document_number = full.strip("<")
    if check_digit(full) != printed and check_digit(f"{number}<{continued[:-1]}") == printed:
        reader.checks["document_number"] = True
        reader.warn("document_number", "check digit computed over the number with its filler")
    else:
        reader.verify("document_number", full, printed)
    return "<" + rest


def _optional(text: str) -> str | None:
    return text.strip("<") or None


def _read_td1(reader: _Reader, l1: str, l2: str, l3: str) -> None:
    reader.result.document_code = l1[0:2].strip("<")
    reader.result.issuing_state = _state(reader, "issuing_state", l1[2:5])
    reader.result.optional_data = _optional(_document_number(reader, l1[5:14], l1[14], l1[15:30]))
    reader.verify("date_of_birth", l2[0:6], l2[6])
    reader.verify("expiry_date", l2[8:14], l2[14])
    _sex(reader, l2[7])
    _dates(reader, l2[0:6], l2[8:14])
    reader.result.nationality = _state(reader, "nationality", l2[15:18])
    reader.result.optional_data_2 = _optional(l2[18:29])
    reader.verify("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    _names(reader, l3)


def _read_two_line(reader: _Reader, l1: str, l2: str, fmt: MrzFormat) -> None:
    """TD2, TD3, MRV-A and MRV-B share line 2 up to the expiry check digit."""
    width = len(l1)
    reader.result.document_code = l1[0:2].strip("<")
    reader.result.issuing_state = _state(reader, "issuing_state", l1[2:5])
    _names(reader, l1[5:width])
    optional = l2[28 : width - 1] if fmt in (MrzFormat.TD2, MrzFormat.TD3) else l2[28:width]
    if fmt is MrzFormat.TD2:
        optional = _document_number(reader, l2[0:9], l2[9], optional)
    else:
        reader.result.document_number = l2[0:9].strip("<")
        reader.verify("document_number", l2[0:9], l2[9])
    reader.result.nationality = _state(reader, "nationality", l2[10:13])
    reader.verify("date_of_birth", l2[13:19], l2[19])
    _sex(reader, l2[20])
    reader.verify("expiry_date", l2[21:27], l2[27])
    _dates(reader, l2[13:19], l2[21:27])
    if fmt is MrzFormat.TD3:
        reader.verify("optional_data", l2[28:42], l2[42], filler_ok=True)
        optional = l2[28:42]
    reader.result.optional_data = _optional(optional)
    if fmt in (MrzFormat.TD2, MrzFormat.TD3):
        reader.verify("composite", l2[0:10] + l2[13:20] + l2[21 : width - 1], l2[width - 1])


def _read_fra_id(reader: _Reader, l1: str, l2: str) -> None:
    reader.result.document_code = l1[0:2]
    reader.result.issuing_state = "FRA"
    reader.result.surname = _clean(l1[5:30])
    reader.result.given_names = _clean(l2[13:27]) or None
    reader.result.optional_data = _optional(l1[30:36])
    reader.result.document_number = l2[0:12].strip("<")
    reader.verify("document_number", l2[0:12], l2[12])
    reader.verify("date_of_birth", l2[27:33], l2[33])
    _dates(reader, l2[27:33], None)
    _sex(reader, l2[34])
    reader.verify("composite", l1 + l2[0:35], l2[35])


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
    reader = _Reader(MrzResult(), today or dt.date.today())
    fmt = detect_format(cleaned)
    reader.result.format = fmt
    if fmt is None:
        shape = " + ".join(str(len(line)) for line in cleaned) or "nothing"
        reader.error("format", f"{shape} characters is no ICAO 9303 layout (TD1 3x30, "
                     "TD2/MRV-B 2x36, TD3/MRV-A 2x44)")  # fmt: skip
        return reader.result
    for number, line in enumerate(cleaned, start=1):
        if not _ALLOWED.match(line):
            bad = next(c for c in line if not _ALLOWED.match(c))
            reader.error("characters", f"line {number} holds {bad!r}: only A-Z, 0-9 and <")
    if fmt is MrzFormat.TD1:
        _read_td1(reader, *cleaned)
    elif fmt is MrzFormat.FRA_ID:
        _read_fra_id(reader, *cleaned)
    else:
        _read_two_line(reader, cleaned[0], cleaned[1], fmt)
    reader.result.checks = reader.checks
    reader.result.valid = not reader.result.errors
    return reader.result
