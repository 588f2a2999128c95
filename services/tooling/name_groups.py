"""Build ``data/name_groups.txt.gz`` from rigour's person-name groups (``make name-groups``).

rigour (MIT) packages Wikidata's given-name and family-name items as lines of
``form, form, ... => QID``. Each skeleton (``transliterate.skeletons``) of a one-word form
becomes a line with the Q numbers of its items; an item whose forms all share one skeleton
adds nothing the edit rules do not already see, and is left out. Run again when
``transliterate`` changes: the skeletons are its output.
"""

from __future__ import annotations

import gzip
import io
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from services.matcher.domain.transliterate import skeletons
from services.matcher.domain.variants import DATA

_MEMBER = "rigour/data/names/persons.txt"  # inside rigour 1.x wheels


def source_lines(path: Path) -> Iterator[str]:
    """The lines of persons.txt, from the file itself or from a rigour wheel."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel, wheel.open(_MEMBER) as raw:
            yield from io.TextIOWrapper(raw, encoding="utf-8")
        return
    with path.open(encoding="utf-8") as handle:
        yield from handle


def groups(lines: Iterable[str]) -> dict[str, set[int]]:
    """Skeleton -> the Q numbers of the items it is a spelling of."""
    table: dict[str, set[int]] = {}
    for line in lines:
        forms, arrow, qid = line.rpartition("=>")
        if not arrow or not qid.strip().startswith("Q"):
            continue
        keys = {
            key
            for form in forms.split(",")
            if form.strip() and " " not in form.strip()
            for key in skeletons(form.strip())
        }
        if len(keys) >= 2:
            for key in keys:
                table.setdefault(key, set()).add(int(qid.strip()[1:]))
    return table


def data_lines(table: dict[str, set[int]]) -> Iterator[str]:
    for key in sorted(table):
        yield key + "\t" + ",".join(str(item) for item in sorted(table[key]))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m services.tooling.name_groups <rigour wheel or persons.txt>")
        return 2
    table = groups(source_lines(Path(argv[0])))
    # mtime 0: the same source gives the same bytes
    with gzip.GzipFile(DATA, "wb", compresslevel=9, mtime=0) as out:
        out.write("".join(line + "\n" for line in data_lines(table)).encode())
    print(f"{len(table)} skeletons -> {DATA}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
