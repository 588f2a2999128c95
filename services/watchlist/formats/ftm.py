"""FollowTheMoney / OpenSanctions entities, one JSON object a line (``followthemoney`` parses).

Mapping decisions:

- Only entities whose schema is (or descends from) ``Person`` become entries; any other schema
  (Company, Address, Sanction...) in an export is reported as ignored, not as a bad record.
- Values are cleaned by the FtM model (``get_proxy(..., cleaned=False)`` runs each property's
  type cleaning): a value it cannot read (a date like ``02.03.1985``) is dropped with a warning
  naming the property; unknown properties are ignored.
- ``id`` -> ``entry_id`` unchanged, so an entry can be traced back to the OpenSanctions entity;
  an id outside the entry-id pattern makes the record bad.
- list: ``--list`` (default ``diffusion``); issuer: ``--issuer`` (required: FtM has no issuer);
  action: ``--action``, else the list's default (diffusion -> ``locate``). Status ``active``.
- names: ``lastName`` + ``firstName`` (+ ``middleName``) + ``fatherName`` (as patronymic) make a
  structured name. Each ``name`` and ``alias`` is a whole name without parts: its last word is
  taken as the surname, the rest as given names (the matcher tries both orders anyway). A whole
  name equal to the structured one is not repeated; ``previousName`` values are whole names too.
  At most 50 names.
- ``birthDate``: the first value, cut to ``YYYY-MM-DD``/``YYYY-MM``/``YYYY``; when there are
  several, a warning says one was kept (an entry holds one date of birth).
- ``nationality`` then ``citizenship``: FtM's lower-case alpha-2 -> alpha-3. FtM also knows
  historic and regional codes (``suhh``, ``zr``...) that are not ISO alpha-3: these are dropped
  with a warning rather than rejecting a wanted person.
- ``gender``: ``male`` -> M, ``female`` -> F, ``other`` -> X.
- ``passportNumber`` -> documents of type ``P``; ``idNumber`` -> documents without a type; a value
  that is no document number (a tax number such as ``TIN: ...``) is dropped with a warning. FtM does
  not say which state issued them: the first nationality is used; with no nationality the
  numbers are dropped with a warning (an entry document needs an issuing state).
- ``Passport`` and ``Identification`` entities are joined to their ``holder``: their ``number``
  (issuing state: their ``country``, else the holder's first nationality) joins that person's
  documents; the document entity itself is reported as ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson
from followthemoney import model
from followthemoney.exc import InvalidData
from followthemoney.proxy import EntityProxy
from pydantic import TypeAdapter, ValidationError

from schemas.common import DocumentNumber, to_alpha3
from schemas.watchlist import ListKind
from services.watchlist.parsed import LoadOptions, ParsedRecord, build_entry, error

MAX_NAMES = 50
_SEX = {"male": "M", "female": "F", "other": "X"}
_USED_PROPERTIES = (
    "name", "alias", "firstName", "lastName", "middleName", "fatherName", "birthDate",
    "nationality", "citizenship", "gender", "passportNumber", "idNumber", "previousName",
)  # fmt: skip


# (number, document type, issuing country as FtM writes it) of a Passport or Identification
HeldDocument = tuple[str, str | None, str | None]


def parse(text: str, options: LoadOptions) -> Iterator[ParsedRecord]:
    lines = [(n, line) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    held = _held_documents(lines)
    for number, line in lines:
        yield _parse_line(number, line, options, held)


def _held_documents(lines: list[tuple[int, str]]) -> dict[str, list[HeldDocument]]:
    """Passport and Identification entities by their holder's id: FtM keeps a person's
    documents as entities of their own, anywhere in the export."""
    held: dict[str, list[HeldDocument]] = {}
    for number, line in lines:
        if '"Passport"' not in line and '"Identification"' not in line:
            continue  # most lines: no need to build a proxy twice
        loaded = _load(number, line)
        if isinstance(loaded, ParsedRecord) or not loaded[1].schema.is_a("Identification"):
            continue
        proxy = loaded[1]
        kind = "P" if proxy.schema.is_a("Passport") else None
        countries = proxy.get("country")
        for holder in proxy.get("holder"):
            numbers = proxy.get("number", quiet=True) + proxy.get("passportNumber", quiet=True)
            for value in numbers:
                held.setdefault(holder, []).append(
                    (value, kind, countries[0] if countries else None)
                )
    return held


def _parse_line(
    number: int, line: str, options: LoadOptions, held: dict[str, list[HeldDocument]]
) -> ParsedRecord:
    where = f"line {number}"
    loaded = _load(number, line)
    if isinstance(loaded, ParsedRecord):
        return loaded
    data, proxy = loaded
    if not proxy.schema.is_a("Person"):
        return ParsedRecord(number, where, ignored=f"schema {proxy.schema.name} is not a Person")
    if proxy.id is None:
        return ParsedRecord(number, where, errors=[error("id", "missing", "an entity needs an id")])
    warnings = _dropped_values(data, proxy)
    person = _person(proxy, warnings)
    person["documents"] = _join(person["documents"], held.get(proxy.id, []), person, warnings)
    if not person["names"]:
        msg = "a Person needs a name, alias or lastName"
        return ParsedRecord(number, where, errors=[error("name", "missing", msg)])
    kind = options.list_kind or ListKind.DIFFUSION
    raw = {
        "entry_id": proxy.id,
        "list": kind,
        "status": "active",
        "issuer": options.issuer,
        "action": options.action_for(kind),
        "person": person,
    }
    return build_entry(number, where, raw, warnings)


def _load(number: int, line: str) -> tuple[dict[str, Any], EntityProxy] | ParsedRecord:
    where = f"line {number}"
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return ParsedRecord(number, where, errors=[error("(entity)", "json_invalid", str(exc))])
    if not isinstance(data, dict):
        msg = "an entity is a JSON object"
        return ParsedRecord(number, where, errors=[error("(entity)", "ftm_invalid", msg)])
    try:
        return data, model.get_proxy(data, cleaned=False)
    except InvalidData as exc:
        return ParsedRecord(number, where, errors=[error("(entity)", "ftm_invalid", str(exc))])


def _dropped_values(data: dict[str, Any], proxy: EntityProxy) -> list[str]:
    """One warning per property whose values the FtM type cleaning could not read."""
    raw_properties = data.get("properties")
    if not isinstance(raw_properties, dict):
        return []
    warnings = []
    for prop in _USED_PROPERTIES:
        given = raw_properties.get(prop)
        count = len(given) if isinstance(given, list) else int(given is not None)
        kept = len(proxy.get(prop))
        if kept < count:
            warnings.append(f"{prop}: {count - kept} value(s) not readable, ignored")
    return warnings


def _person(proxy: EntityProxy, warnings: list[str]) -> dict[str, Any]:
    nationalities = _countries(proxy.get("nationality") + proxy.get("citizenship"), warnings)
    births = proxy.get("birthDate")
    if len(set(births)) > 1:
        warnings.append(f"birthDate: {len(set(births))} values; the first is kept")
    genders = [_SEX[g] for g in proxy.get("gender") if g in _SEX]
    return {
        "names": _names(proxy),
        "date_of_birth": births[0][:10] if births else None,
        "sex": genders[0] if genders else None,
        "nationalities": nationalities,
        "documents": _documents(proxy, nationalities, warnings),
    }


def _countries(codes: list[str], warnings: list[str]) -> list[str]:
    found: list[str] = []
    for code in codes:
        try:
            alpha3 = to_alpha3(code)
        except ValueError:
            warnings.append(f"country code {code!r} has no ISO alpha-3 form; dropped")
            continue
        if alpha3 not in found:
            found.append(alpha3)
    return found


def _names(proxy: EntityProxy) -> list[dict[str, Any]]:
    names: list[dict[str, Any]] = []
    given = " ".join(proxy.get("firstName")[:1] + proxy.get("middleName")[:1]) or None
    fathers = proxy.get("fatherName")
    patronymic = fathers[0] if fathers else None
    for surname in proxy.get("lastName"):
        names.append({"surname": surname, "given_names": given, "patronymic": patronymic})
    seen = {_whole(n, with_patronymic).casefold() for n in names for with_patronymic in (0, 1)}
    for full in proxy.get("name") + proxy.get("alias") + proxy.get("previousName"):
        if full.casefold() in seen:
            continue
        seen.add(full.casefold())
        *first, last = full.split()
        names.append({"surname": last, "given_names": " ".join(first) or None})
    return names[:MAX_NAMES]


def _whole(name: dict[str, Any], with_patronymic: int) -> str:
    patronymic = name.get("patronymic") if with_patronymic else None
    parts = (name.get("given_names"), patronymic, name.get("surname"))
    return " ".join(p for p in parts if p)


# OpenSanctions labels a number with its kind ("TIN: 183111242572", "Taxpayer No. ..."): a
# tax or company number is no travel document, and is not screened as one.
_NOT_TRAVEL = re.compile(r"^\s*(tin|inn|taxpayer|tax|vat|ogrn|kpp|company|registration)\b", re.I)
_NUMBER = TypeAdapter(DocumentNumber)


def _readable(
    proxy: EntityProxy, prop: str, kind: str | None, warnings: list[str]
) -> list[tuple[str, str | None]]:
    """The property's values that are document numbers; each other one dropped with a
    warning naming the property (one bad value never costs the whole person)."""
    kept: list[tuple[str, str | None]] = []
    for value in proxy.get(prop):
        if _NOT_TRAVEL.match(value):
            warnings.append(f"{prop}: a tax or registration number, not a travel document; dropped")
            continue
        try:
            kept.append((_NUMBER.validate_python(value), kind))
        except ValidationError:
            warnings.append(f"{prop}: a value that is not a document number; dropped")
    return kept


def _join(
    own: list[dict[str, Any]],
    held: list[HeldDocument],
    person: dict[str, Any],
    warnings: list[str],
) -> list[dict[str, Any]]:
    """The person's own numbers, then those of the documents that name it as holder."""
    seen = {d["number"] for d in own}
    joined = list(own)
    for value, kind, country in held:
        state = _countries([country], warnings) if country else person["nationalities"][:1]
        if value in seen or not state:
            continue
        try:
            joined.append({"number": _NUMBER.validate_python(value), "issuing_state": state[0],
                           "type": kind})  # fmt: skip
        except ValidationError:
            warnings.append("a held document's number is not a document number; dropped")
            continue
        seen.add(value)
    return joined[:50]


def _documents(proxy: EntityProxy, states: list[str], warnings: list[str]) -> list[dict[str, Any]]:
    numbers = _readable(proxy, "passportNumber", "P", warnings)
    numbers += _readable(proxy, "idNumber", None, warnings)
    if numbers and not states:
        warnings.append(f"{len(numbers)} document number(s) without a known state; dropped")
        return []
    return [{"number": n, "issuing_state": states[0], "type": t} for n, t in numbers][:50]
