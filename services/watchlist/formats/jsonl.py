"""Our own format: one ``WatchlistEntry`` JSON object a line (shared/DESIGN.md, "Watchlist entry").

Blank lines are skipped. Each line is validated exactly as the matcher will decode it
(pydantic's JSON parser), so what loads here is what the matcher reads. Load options do not
apply: the file says everything itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import ValidationError

from schemas.errors import describe_errors
from schemas.watchlist import WatchlistEntry
from services.watchlist.parsed import LoadOptions, ParsedRecord


def parse(text: str, options: LoadOptions) -> Iterator[ParsedRecord]:
    del options  # the format carries list, issuer and action itself
    # split on "\n" only: str.splitlines would also cut at U+2028, which JSON strings may hold
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            entry = WatchlistEntry.model_validate_json(line)
        except ValidationError as exc:
            yield ParsedRecord(number, where, errors=describe_errors(exc))
            continue
        yield ParsedRecord(number, where, entry=entry)
