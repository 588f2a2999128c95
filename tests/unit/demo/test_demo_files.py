"""The demo watchlist, directory, agencies and keys, in the formats the services read."""

from __future__ import annotations

import base64
import json
import stat
from collections import Counter
from pathlib import Path

import yaml

from schemas.watchlist import WatchlistEntry
from services.demo.directory import DemoPaths, init_demo, load_api_keys, receiver_secrets
from services.demo.receiver import alert_line, verify
from services.demo.watchlist_gen import WatchlistSpec, generate
from services.ingest.agencies_file import load_agencies
from services.ingest.domain.agencies import authorise
from services.notifier.channels.registry import SPECS
from services.notifier.domain.directory import Directory
from services.notifier.domain.signing import signature_headers


def test_watchlist_is_deterministic_valid_and_varied() -> None:
    spec = WatchlistSpec(persons=400, sltd=600, seed=3)
    entries = generate(spec)
    assert entries == generate(spec)
    assert entries != generate(WatchlistSpec(persons=400, sltd=600, seed=4))
    parsed = [WatchlistEntry.model_validate(e) for e in entries]
    assert len({e.entry_id for e in parsed}) == 1000
    lists = Counter(e.list.value for e in parsed)
    assert lists["sltd"] == 600
    assert lists["red_notice"] > 100
    assert lists["yellow_notice"] > 20
    assert lists["diffusion"] > 50
    restricted = [e for e in parsed if e.dissemination is not None]
    assert 20 < len(restricted) < 120
    assert all(e.issuer in e.dissemination.restricted_to for e in restricted if e.dissemination)


def test_init_writes_files_the_services_accept(tmp_path: Path) -> None:
    summary = init_demo(tmp_path, "http://127.0.0.1:8099", WatchlistSpec(persons=20, sltd=30))
    paths = DemoPaths(tmp_path)
    assert summary.watchlist_entries == 50
    lines = paths.watchlist.read_text("utf-8").splitlines()
    assert all(WatchlistEntry.model_validate_json(line) for line in lines)
    directory = Directory.parse(yaml.safe_load(paths.contact_points.read_text("utf-8")), SPECS)
    assert {"UZB", "KAZ", "KGZ", "TJK", "TKM", "RUS"} <= set(directory.countries)
    assert directory.coordination is not None
    keys = load_api_keys(paths.api_keys)
    assert stat.S_IMODE(paths.api_keys.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.contact_points.stat().st_mode) == 0o600
    agencies = load_agencies(paths.agencies)
    for agency_id, key in keys.items():
        agency = agencies.authenticate(key)
        assert agency is not None
        assert agency.id == agency_id
        assert authorise(agency, agency_id[:3], agency_id) is None
    assert agencies.authenticate("not-a-key") is None
    # intake secrets: one per agency, the same in both files, which are private
    intake = load_api_keys(paths.intake_secrets)
    assert set(intake) == set(keys)
    for agency_id, secret in intake.items():
        found = agencies.by_id(agency_id)
        assert found is not None
        assert found.intake_secrets == (secret,)
    for path in (paths.agencies, paths.intake_secrets):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secrets = receiver_secrets(paths.contact_points)
    assert set(secrets) == {"UZB", "KAZ", "KGZ", "TJK", "TKM", "RUS", "CC"}
    assert json.loads(paths.api_keys.read_text("utf-8")) == keys


SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()


def test_verify_accepts_the_notifiers_signature_and_nothing_else() -> None:
    body = b'{"type":"alert.created"}'
    headers = signature_headers("msg_1", 1_800_000_000, body, (SECRET,))
    assert verify(headers, body, (SECRET,), now=1_800_000_010) == ""
    assert verify(headers, body + b" ", (SECRET,), now=1_800_000_010) != ""
    other = "whsec_" + base64.b64encode(b"another secret here, too").decode()
    assert verify(headers, body, (other,), now=1_800_000_010) != ""
    assert verify(headers, body, (other, SECRET), now=1_800_000_010) == ""
    assert verify(headers, body, (SECRET,), now=1_800_000_000 + 3600) != ""
    assert verify({**headers, "webhook-id": "msg_2"}, body, (SECRET,), now=1_800_000_000) != ""
    assert verify({}, body, (SECRET,), now=1_800_000_000) != ""


def test_alert_line_redacts_values_unless_asked() -> None:
    payload = {"type": "alert.created", "data": {"alert": {
        "list": "red_notice", "entry_id": "RED-1", "band": "strong", "score": 0.97,
        "explanation": [{"field": "surname", "event": "KHOLMATOV", "entry": "Холматов",
                         "how": "transliteration", "score": 1.0}]}}}  # fmt: skip
    assert "KHOLMATOV" not in alert_line("KAZ", payload, show_pii=False)
    assert "surname:transliteration" in alert_line("KAZ", payload, show_pii=False)
    assert "KHOLMATOV" in alert_line("KAZ", payload, show_pii=True)
