"""Reusable field types of the message contract: countries, dates, text, names, document numbers.

Every type validates with an error that names its rule (the pydantic error ``type``), so that
``schemas.errors.describe_errors`` can tell a border agency exactly what was wrong and where.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Annotated, Any

import pycountry
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

NAME_MAX_LENGTH = 200
DOCUMENT_NUMBER_MAX_LENGTH = 40


class Model(BaseModel):
    """Base of every message model.

    strict: no silent coercion (a number is not a name, "1" is not a score). Enums and timestamps
    opt back into lax mode per field so Python callers may pass plain strings.
    extra="ignore": a consumer tolerates fields added by a newer producer (see schemas/README.md);
    ingest's HTTP boundary rejects unknown fields separately (``codec.find_unknown_fields``).
    """

    model_config = ConfigDict(strict=True, extra="ignore", use_enum_values=False)


def uuid5_hex(namespace: bytes, name: str) -> str:
    """``uuid.uuid5(uuid.UUID(bytes=namespace), name).hex`` without building UUID objects: the
    alert and notification ids, several per alert on the matcher's and notifier's hot paths."""
    digest = bytearray(hashlib.sha1(namespace + name.encode(), usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest.hex()


# --- countries --------------------------------------------------------------------------------

ISO_ALPHA3: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.countries)

# ICAO 9303 Part 3 codes with no ISO 3166-1 equivalent that still name a real issuer or status
# a person can hold (British nationality classes, UN, stateless/refugee, EU, Interpol, Kosovo).
ICAO_EXTRA_CODES: frozenset[str] = frozenset(
    {
        "GBD", "GBN", "GBO", "GBP", "GBS",  # British dependent/national overseas/protected/subject
        "UNO", "UNA", "UNK",  # United Nations, its agencies, UN mission in Kosovo
        "XXA", "XXB", "XXC", "XXX",  # stateless, refugee (1951), other refugee, unspecified
        "EUE", "XOM", "XPO", "RKS",  # EU, Order of Malta, INTERPOL, Kosovo
        "XBA", "XIM", "XCC", "XCE", "XCO", "XEC", "XES", "XMP",  # regional bodies (laissez-passer)
    }
)  # fmt: skip
COUNTRY_CODES: frozenset[str] = ISO_ALPHA3 | ICAO_EXTRA_CODES

# Codes only found inside MRZs or legacy feeds; importers convert them, fields never hold them.
_SPECIAL_TO_ALPHA3 = {"D": "DEU", "UK": "GBR"}


def _check_country(value: str) -> str:
    if value not in COUNTRY_CODES:
        raise PydanticCustomError(
            "country_code",
            "'{code}' is not an ISO 3166-1 alpha-3 (or ICAO 9303) country code; "
            "use upper-case alpha-3 such as UZB",
            {"code": value[:10]},
        )
    return value


CountryCode = Annotated[
    StrictStr,
    AfterValidator(_check_country),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "description": "ISO 3166-1 alpha-3 country code, or an ICAO 9303 code without an "
            "ISO equivalent (XXA stateless, UNO, EUE, XPO, GBD...).",
        }
    ),
]


def to_alpha3(code: str) -> str:
    """Importers' conversion: alpha-2 (``UZ``), alpha-3 or MRZ-only (``D``) to alpha-3.

    Raises ValueError naming the code when it is not a country.
    """
    cleaned = code.strip().upper().strip("<")
    if cleaned in COUNTRY_CODES:
        return cleaned
    if cleaned in _SPECIAL_TO_ALPHA3:
        return _SPECIAL_TO_ALPHA3[cleaned]
    if len(cleaned) == 2:
        country = pycountry.countries.get(alpha_2=cleaned)
        if country is not None:
            return str(country.alpha_3)
    raise ValueError(f"unknown country code {code!r}: not ISO 3166-1 alpha-2/alpha-3 or ICAO")


# --- dates ------------------------------------------------------------------------------------

# ASCII digits, matched whole: as the published pattern (JSON Schema's \d is [0-9]); Python's
# \d would take other scripts' digits, and its $ a trailing newline, both kept in the value.
_PARTIAL_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def partial_date_parts(value: str) -> tuple[int, int | None, int | None]:
    """``"1985-03"`` -> ``(1985, 3, None)``. Raises ValueError for anything else."""
    match = _PARTIAL_DATE.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    return int(year), int(month) if month else None, int(day) if day else None


def _check_partial_date(value: str) -> str:
    if len(value) == 10 and value.isascii() and value[4] == "-" and value[7] == "-":
        try:  # the usual full date, checked in C
            dt.date.fromisoformat(value)
        except ValueError:
            pass  # the long way below names what is wrong
        else:
            return value
    try:
        year, month, day = partial_date_parts(value)
    except ValueError:
        raise PydanticCustomError(
            "partial_date_format",
            "'{value}' is not YYYY, YYYY-MM or YYYY-MM-DD",
            {"value": value[:20]},
        ) from None
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        raise PydanticCustomError(
            "impossible_date", "'{value}' is not a date in the calendar", {"value": value}
        ) from None
    return value


PartialDate = Annotated[
    StrictStr,
    AfterValidator(_check_partial_date),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
            "description": "A date that may be partial: YYYY, YYYY-MM or YYYY-MM-DD.",
        }
    ),
]


def _check_date(value: str) -> str:
    _check_partial_date(value)
    if len(value) != 10:
        raise PydanticCustomError("full_date", "'{value}' must be YYYY-MM-DD", {"value": value})
    return value


FullDate = Annotated[
    StrictStr,
    AfterValidator(_check_date),
    WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD"}),
]


def _no_numbers(value: Any) -> Any:
    # lax datetime parsing would read 1700000000 as a Unix time; a sender never means that.
    if isinstance(value, int | float):
        raise PydanticCustomError(
            "timestamp_type", "a timestamp is an RFC 3339 string such as 2026-11-22T08:15:30Z"
        )
    return value


Timestamp = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_no_numbers)]


# --- text -------------------------------------------------------------------------------------

# C0 and C1 controls and DEL: a NUL truncates text in C-based tools, a newline or escape forges
# lines and terminal output. Rejected in every text a sender writes, not stripped, so that the
# sender learns of it and the stored text is exactly what was sent.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _check_text(value: str) -> str:
    if value.isprintable():  # the usual text: no control character can be in it
        return value
    found = _CONTROL.search(value)
    if found is not None:
        raise PydanticCustomError(
            "control_char",
            "contains a control character ({code}) at position {pos}; text may not",
            {"code": f"U+{ord(found.group()):04X}", "pos": found.start()},
        )
    return value


# Put after a text field's length constraints: ``Annotated[StrictStr, Field(...), NoControlChars]``.
NoControlChars = AfterValidator(_check_text)


# --- names ------------------------------------------------------------------------------------

# Characters that can hide or reorder text on a duty officer's screen; rejected, not stripped,
# so that the sender learns of it and the stored name is exactly what was sent.
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_NAME_RULES = (
    (_CONTROL, "name_control_char", "control character"),
    (_ZERO_WIDTH, "name_zero_width_char", "zero-width/invisible character"),
    (_BIDI, "name_bidi_char", "bidirectional control character"),
)
# All three at once: one search clears the usual name (three names per event, every event).
_ANY_NAME_RULE = re.compile("|".join(pattern.pattern for pattern, _, _ in _NAME_RULES))


def _check_name(value: str) -> str:
    if _ANY_NAME_RULE.search(value) is None and value.strip():
        return value
    for pattern, rule, what in _NAME_RULES:
        found = pattern.search(value)
        if found is not None:
            raise PydanticCustomError(
                rule,
                "contains a {what} ({code}) at position {pos}; names may not",
                {"what": what, "code": f"U+{ord(found.group()):04X}", "pos": found.start()},
            )
    if not value.strip():
        raise PydanticCustomError("name_blank", "a name may not be blank")
    return value


NameText = Annotated[
    StrictStr,
    Field(min_length=1, max_length=NAME_MAX_LENGTH),
    AfterValidator(_check_name),
]


# --- documents --------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-./]")


def normalise_document_number(value: str) -> str:
    """The comparable form: upper case, without spaces, dashes, dots or slashes."""
    return _SEPARATORS.sub("", value).upper()


def _check_document_number(value: str) -> str:
    if value.isascii() and value.isalnum():  # the usual number: nothing to take out
        return value
    _check_text(value)  # a tab or newline would pass as a separator below
    normalised = normalise_document_number(value)
    if not normalised.isalnum():
        raise PydanticCustomError(
            "document_number_chars",
            "a document number holds letters and digits, optionally separated by space - . /",
        )
    return value


DocumentNumber = Annotated[
    StrictStr,
    Field(min_length=1, max_length=DOCUMENT_NUMBER_MAX_LENGTH),
    AfterValidator(_check_document_number),
]

DocumentType = Annotated[
    StrictStr,
    Field(
        pattern=r"^[A-Z][A-Z0-9]?$",
        description="ICAO 9303 document code without filler: P, PD, I, ID, AC, V...",
    ),
]

Sex = Annotated[StrictStr, Field(pattern=r"^[MFX]$", description="M, F or X (unspecified)")]
ShortText = Annotated[StrictStr, Field(min_length=1, max_length=200), NoControlChars]
Score = Annotated[float, Field(ge=0.0, le=1.0)]
