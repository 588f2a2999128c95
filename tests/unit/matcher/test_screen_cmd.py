"""``relay screen``: alerts on standard output only, bad lines reported with their number."""

from __future__ import annotations

import io
import json
from pathlib import Path

from schemas.codec import decode_alert
from services.cli.screen_cmd import screen_files
from tests.unit.matcher.helpers import event, person_entry, sltd_entry


def test_screen_writes_alerts_and_reports_bad_lines(tmp_path: Path) -> None:
    watchlist = tmp_path / "w.jsonl"
    events = tmp_path / "e.jsonl"
    entry = person_entry("RED-1", [{"surname": "Холматов", "given_names": "Алишер"}])
    watchlist.write_text(
        "\n".join([json.dumps(entry), "{not json", json.dumps(sltd_entry("DOC-1", "AA1234567"))])
        + "\n"
    )
    hit = event("KHOLMATOV", "ALISHER")
    doc = event(
        "NOBODY",
        "ELSE",
        event_id="1b0d6e0e-2b1d-4c55-9a43-5d8f1c8f7a10",
        document={"number": "aa1234567", "issuing_state": "UZB", "type": "P"},
    )
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
