"""INTERPOL public notices API JSON (``/notices/v1/red`` and ``/notices/v1/yellow``).

Accepted input: a detail record, a list page (``_embedded.notices``), a JSON array of either,
a JSON object whose values are any of these (a saved bundle), or JSON lines of any of these.

Mapping decisions (each source field -> entry field):

- kind: the ``_links.self.href`` of the notice (or of its list page) says ``/red`` or
  ``/yellow``; without links, ``arrest_warrants`` means red and yellow-only fields
  (``date_of_event``, ``mother_name``, ``countries_likely_to_be_visited``...) mean yellow;
  ``--list red_notice|yellow_notice`` is the last resort. ``/un`` notices are rejected.
  red -> list ``red_notice``, action ``arrest``; yellow -> ``yellow_notice``, ``protect``
  (``--action`` overrides).
- ``entity_id`` ``2021/90001`` -> ``entry_id`` ``RED-2021-90001`` / ``YELLOW-2021-90001``: the
  slash becomes a dash, as in the API's own URLs, so the id is stable across reloads.
- ``name`` -> surname, ``forename`` -> given names, as given (never re-cased). A yellow
  notice's ``birth_name`` adds a second name (birth surname + forename). ``father_*`` and
  ``mother_*`` are relatives' names, not the person's: ignored.
- ``date_of_birth`` ``YYYY/MM/DD``, ``YYYY/MM`` or ``YYYY`` -> partial date ``YYYY-MM-DD``...
- ``nationalities`` alpha-2 -> alpha-3 (``schemas.common.to_alpha3``); ``null`` -> none.
  An unknown code makes the record bad (the field is named), never silently dropped.
- ``sex_id`` ``M``/``F`` kept; ``U`` (unknown) -> no sex, not ``X`` (X is "unspecified" on a
  document, a different statement).
- issuer: red -> the first arrest warrant's ``issuing_country_id`` (a warning when warrants
  come from several countries: an entry has one issuer); yellow -> ``issuing_country``, else
  ``country``. When the record names none (list-page summaries carry no warrants): ``--issuer``,
  else ``XPO``, the ICAO code of INTERPOL, with a warning.
- public notices carry no dissemination restriction and no documents.
- a list-page summary and a detail record of the same notice in one file: the detail wins
  (it has sex and issuer); the summary is reported as ignored.
- ignored: ``languages_spoken_ids``, height, weight, hair and eye colours, distinguishing marks,
  places, charges, images.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.watchlist import ListKind
from services.watchlist.parsed import (
    LoadOptions,
    ParsedRecord,
    build_entry,
    country_or_raw,
    error,
)

INTERPOL_CODE = "XPO"
_KIND_IN_URL = re.compile(r"/notices/v1/(red|yellow|un)\b")
_KINDS = {"red": ListKind.RED_NOTICE, "yellow": ListKind.YELLOW_NOTICE}
_YELLOW_ONLY = ("date_of_event", "mother_name", "father_name", "countries_likely_to_be_visited")
_PREFIX = {ListKind.RED_NOTICE: "RED", ListKind.YELLOW_NOTICE: "YELLOW"}


@dataclass(frozen=True, slots=True)
class _Found:
    """A notice object and where it sits: record index, location text, list-page kind hint."""

    notice: Any
    where: str
    page_kind: str | None  # "red"/"yellow"/"un" from the list page's link, if any
    summary: bool  # a list-page item (fewer fields than a detail record)


def parse(text: str, options: LoadOptions) -> Iterator[ParsedRecord]:
    found, file_error = _find_notices(text)
    if file_error is not None:
        yield file_error
        return
    records = [(_map(i, item, options), item.summary) for i, item in enumerate(found, start=1)]
    yield from _prefer_details(records)


def _find_notices(text: str) -> tuple[list[_Found], ParsedRecord | None]:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as whole_error:
        lines = [(n, line) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
        if not lines or not _is_json(lines[0][1]):
            bad = error("(file)", "json_invalid", f"not JSON nor JSON lines: {whole_error}")
            return [], ParsedRecord(1, "file", errors=[bad])
        found: list[_Found] = []
        for number, line in lines:
            try:
                found.extend(_walk(orjson.loads(line), f"line {number}", None))
            except orjson.JSONDecodeError as exc:
                found.append(_Found(exc, f"line {number}", None, summary=False))
        return found, None
    return list(_walk(document, "", None)), None


def _is_json(line: str) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _walk(node: Any, path: str, page_kind: str | None) -> Iterator[_Found]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, f"{path}[{i}]", page_kind)
    elif isinstance(node, dict) and "entity_id" in node:
        yield _Found(node, path or "document", page_kind, summary=page_kind is not None)
    elif isinstance(node, dict) and isinstance(node.get("_embedded"), dict):
        kind = _kind_in_links(node) or page_kind or "page"
        notices = node["_embedded"].get("notices") or []
        yield from _walk(notices, _join(path, "_embedded.notices"), kind)
    elif isinstance(node, dict):  # a bundle: {"red_details": [...], "red_list_page": {...}}
        for key, value in node.items():
            if not str(key).startswith("_"):
                yield from _walk(value, _join(path, str(key)), page_kind)
    else:
        yield _Found(node, path or "document", page_kind, summary=False)


def _join(path: str, key: str) -> str:
    return f"{path} {key}" if path.startswith("line ") else f"{path}.{key}" if path else key


def _kind_in_links(node: dict[str, Any]) -> str | None:
    links = node.get("_links")
    self_link = links.get("self") if isinstance(links, dict) else None
    href = self_link.get("href") if isinstance(self_link, dict) else None
    match = _KIND_IN_URL.search(href) if isinstance(href, str) else None
    return match.group(1) if match else None


def _map(index: int, item: _Found, options: LoadOptions) -> ParsedRecord:
    notice = item.notice
    if isinstance(notice, orjson.JSONDecodeError):
        return ParsedRecord(
            index, item.where, errors=[error("(line)", "json_invalid", str(notice))]
        )
    if not isinstance(notice, dict):
        return ParsedRecord(
            index, item.where, errors=[error("(record)", "not_a_notice", "not a notice object")]
        )
    kind = _notice_kind(notice, item.page_kind, options)
    if not isinstance(kind, ListKind):
        return ParsedRecord(index, item.where, errors=[error("_links.self", "notice_kind", kind)])
    entity_id = notice.get("entity_id")
    if not isinstance(entity_id, str) or not entity_id.strip():
        msg = "the notice has no entity_id (text such as 2021/90001)"
        return ParsedRecord(index, item.where, errors=[error("entity_id", "missing", msg)])
    warnings: list[str] = []
    issuer = _issuer(notice, kind, options, warnings)
    raw = {
        "entry_id": f"{_PREFIX[kind]}-{entity_id.strip().replace('/', '-')}",
        "list": kind,
        "status": "active",
        "issuer": issuer,
        "action": options.action_for(kind),
        "person": _person(notice),
    }
    return build_entry(index, item.where, raw, warnings)


def _notice_kind(
    notice: dict[str, Any], page_kind: str | None, options: LoadOptions
) -> ListKind | str:
    """The list kind, or a message saying why it cannot be told."""
    word = _kind_in_links(notice) or page_kind
    if word in _KINDS:
        return _KINDS[word]
    if word == "un":
        return "UN notices are not loaded (only red and yellow)"
    if notice.get("arrest_warrants"):
        return ListKind.RED_NOTICE
    if any(key in notice for key in _YELLOW_ONLY):
        return ListKind.YELLOW_NOTICE
    if options.list_kind in _PREFIX:
        return options.list_kind
    return "cannot tell a red from a yellow notice: no link, no warrant; pass --list"


def _issuer(
    notice: dict[str, Any], kind: ListKind, options: LoadOptions, warnings: list[str]
) -> str:
    codes: list[str] = []
    if kind is ListKind.RED_NOTICE:
        for warrant in notice.get("arrest_warrants") or []:
            code = warrant.get("issuing_country_id") if isinstance(warrant, dict) else None
            if isinstance(code, str) and code:
                codes.append(country_or_raw(code))
    else:
        codes = [
            country_or_raw(code)
            for code in (notice.get("issuing_country"), notice.get("country"))
            if isinstance(code, str) and code
        ][:1]
    if len(set(codes)) > 1:
        warnings.append("arrest warrants from several countries; the issuer is the first's")
    if codes:
        return codes[0]
    if options.issuer:
        return options.issuer
    warnings.append(f"the notice names no issuing country; issuer {INTERPOL_CODE} (INTERPOL)")
    return INTERPOL_CODE


# What INTERPOL's pages print where a notice has no forename: absent, not a name.
_NO_NAME = frozenset({"", "-", "--", "—", "n/a", "unknown"})


def _name_or_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in _NO_NAME:
        return None
    return value


def _person(notice: dict[str, Any]) -> dict[str, Any]:
    forename = _name_or_none(notice.get("forename"))
    names = [{"surname": notice.get("name"), "given_names": forename}]
    birth_name = notice.get("birth_name")
    if birth_name and birth_name != notice.get("name"):
        names.append({"surname": birth_name, "given_names": forename})
    sex = notice.get("sex_id")
    return {
        "names": names,
        "date_of_birth": _partial_date(notice.get("date_of_birth")),
        "sex": None if sex in (None, "", "U") else sex,
        "nationalities": [
            country_or_raw(code) if isinstance(code, str) else code
            for code in notice.get("nationalities") or []
        ],
    }


def _partial_date(value: Any) -> Any:
    """``1984/3/2`` -> ``1984-03-02``; anything unexpected is passed on for the model to name."""
    if not isinstance(value, str) or not value.strip():
        return value or None
    parts = value.strip().split("/")
    if not all(part.isdigit() for part in parts):
        return value
    return "-".join([parts[0], *(part.zfill(2) for part in parts[1:])])


def _prefer_details(records: list[tuple[ParsedRecord, bool]]) -> Iterator[ParsedRecord]:
    """A summary and a detail of one notice: keep the detail, report the summary as ignored."""
    detail_at = {
        rec.entry.entry_id: rec.where for rec, summary in records if rec.entry and not summary
    }
    for rec, summary in records:
        if summary and rec.entry is not None and rec.entry.entry_id in detail_at:
            why = f"list summary superseded by the detail record at {detail_at[rec.entry.entry_id]}"
            yield ParsedRecord(rec.line, rec.where, ignored=why)
        else:
            yield rec
