"""``relay screen``: alerts on standard output only, bad lines reported with their number."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemas.codec import decode_alert
from services.cli.main import app
from services.cli.screen_cmd import _CHUNK, ScreenOptions, screen_files
from services.matcher.docstore import store as docstore_store
from tests.unit.matcher.helpers import (
    event,
    kholmatov_and_stolen_passport,
    person_entry,
    sltd_entry,
)


def test_screen_writes_alerts_and_reports_bad_lines(tmp_path: Path) -> None:
    watchlist = tmp_path / "w.jsonl"
    events = tmp_path / "e.jsonl"
    entry = person_entry("RED-1", [{"surname": "Холматов", "given_names": "Алишер"}])
    watchlist.write_text(
        "\n".join([json.dumps(entry), "{not json", json.dumps(sltd_entry("DOC-1", "AA1234567"))])
        + "\n"
    )
    hit, doc = kholmatov_and_stolen_passport()
    miss = event("PETROV", "IVAN", event_id="2b0d6e0e-2b1d-4c55-9a43-5d8f1c8f7a10")
    events.write_text("\n".join(json.dumps(e) for e in (hit, doc, miss)) + '\n{"event_id": 1}\n')
    out, err = io.BytesIO(), io.StringIO()

    report = screen_files(watchlist, events, out, err)

    alerts = [decode_alert(line) for line in out.getvalue().splitlines()]
    assert [(a.entry_id, a.kind.value) for a in alerts] == [
        ("RED-1", "person"),
        ("DOC-1", "document"),
    ]
    assert (report.entries, report.events, report.bad_lines) == (2, 3, 2)
    assert f"{watchlist}:2:" in err.getvalue()
    assert f"{events}:4:" in err.getvalue()


def test_screen_keeps_order_and_line_numbers_across_chunks(tmp_path: Path) -> None:
    # events are screened in chunks (_CHUNK): alerts still come in event order, and a bad
    # line is reported by its own number in whichever chunk it falls
    watchlist, events = tmp_path / "w.jsonl", tmp_path / "e.jsonl"
    entries = [
        person_entry(f"RED-{n}", [{"surname": surname, "given_names": "ALISHER"}])
        for n, surname in enumerate(("KHOLMATOV", "YOQUBOV", "QOBULOV"))
    ]
    watchlist.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    lines, expected, bad = [], [], []
    for n in range(3 * _CHUNK + 7):
        if n % 401 == 5:
            lines.append('{"event_id": "broken"}')
            bad.append(n + 1)
            continue
        surname = ("XOLMATOV", "EKUBOV", "KABULOV", "PETROV")[n % 4]
        lines.append(json.dumps(event(surname, "ALISHER", event_id=str(uuid.UUID(int=n)))))
        if n % 4 < 3:
            expected.append((str(uuid.UUID(int=n)), f"RED-{n % 4}"))
    events.write_text("\n".join(lines) + "\n")
    out, err = io.BytesIO(), io.StringIO()

    report = screen_files(watchlist, events, out, err)

    alerts = [decode_alert(line) for line in out.getvalue().splitlines()]
    assert [(str(a.event_id), a.entry_id) for a in alerts] == expected
    assert report.bad_lines == len(bad) == 4
    assert [f"{events}:{number}:" in err.getvalue() for number in bad] == [True] * 4


def test_a_store_keyed_by_other_rules_is_refused_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watchlist, events, store = tmp_path / "w.jsonl", tmp_path / "e.jsonl", tmp_path / "store"
    watchlist.write_text(json.dumps(sltd_entry("DOC-1", "AA1234567")) + "\n")
    events.write_text(json.dumps(kholmatov_and_stolen_passport()[1]) + "\n")
    screen_files(watchlist, events, io.BytesIO(), io.StringIO(), ScreenOptions(store=store))
    # an upgrade changed the name rules (or the native module) since the store was built
    monkeypatch.setattr(docstore_store, "keys_fingerprint", lambda: b"other rules")

    found = CliRunner().invoke(app, ["screen", "--store", str(store), "--events", str(events)])

    assert found.exit_code == 2
    assert "unusable store: the store's people were keyed by other name rules" in found.output
