"""Around the gettext catalogues in ``locale/`` (see locale/README.md).

- ``extract_html``: a Babel extraction method (``babel.cfg``, ``[extractors]``) for the console's
  page. An element with ``data-t`` gives its text as a msgid; an attribute ``data-t-<name>``
  gives its value as the msgid of attribute ``<name>``. The console's ``t()`` fills them in.
- ``python -m services.tooling.catalogues english``: the English catalogue's msgstr is its
  msgid (run by ``make locale-update`` after Babel's update, so English is never "untranslated").
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

from babel.messages.pofile import read_po, write_po

from services.notifier.i18n import LOCALE_DIR

Extracted = tuple[int, str | None, str, list[str]]


class _Marked(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Extracted] = []
        self.open: list[tuple[int, list[str]]] = []  # (line, text) of marked elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        for name, value in attrs:
            if name.startswith("data-t-") and value:
                self.found.append((line, None, value, [f"attribute {name[7:]}"]))
        if any(name == "data-t" for name, _ in attrs):
            self.open.append((line, []))
        elif self.open:
            raise ValueError(f"line {line}: an element marked data-t holds only text")

    def handle_endtag(self, tag: str) -> None:
        if self.open:
            line, parts = self.open.pop()
            self.found.append((line, None, " ".join("".join(parts).split()), []))

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1][1].append(data)


def extract_html(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    parser = _Marked()
    parser.feed(fileobj.read().decode(options.get("encoding", "utf-8")))
    parser.close()
    yield from parser.found


def english(locale_dir: Path = LOCALE_DIR) -> None:
    path = locale_dir / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, include_previous=False)  # one line each


def main(argv: list[str]) -> int:
    if argv != ["english"]:
        print("usage: python -m services.tooling.catalogues english", file=sys.stderr)
        return 2
    english()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
