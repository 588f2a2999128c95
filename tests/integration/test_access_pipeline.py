"""Access on the whole relay: an agency cannot report for another country, a contact point
cannot read or acknowledge another country's alerts, the demo receiver rejected no signature,
and no API key, webhook secret or watchlist person reached any log."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from services.common.settings import CommonSettings
from services.notifier.domain.routing import recipients
from tests.support.evidence import (
    Poster,
    Verdict,
    canonical_events,
    expected_alerts,
    load_directory,
    load_index,
    verify,
)
from tests.support.stack import (
    Stack,
    StackSpec,
    edit_directory,
    leaks_in_logs,
    open_stack,
    pii_of_watchlist,
    secrets_of_demo,
    start_all,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(400)]
COUNTRIES = ("UZB", "KAZ", "KGZ", "TJK", "TKM", "RUS")


@pytest.fixture
def stack(topics: CommonSettings, tmp_path: Path) -> Iterator[tuple[Stack, dict[str, str]]]:
    keys = {c: secrets.token_urlsafe(24) for c in COUNTRIES}
    with open_stack(StackSpec(topics.kafka_bootstrap, topics.topic_prefix), tmp_path) as built:
        edit_directory(built.demo, {
            f"ncb-{c.lower()}": {"api_key_sha256": hashlib.sha256(k.encode()).hexdigest()}
            for c, k in keys.items()
        })  # fmt: skip
        start_all(built)
        built.ready()
        yield built, keys


def _agency_cannot_report_for_another_country(stack: Stack, event: dict[str, object]) -> None:
    keys = orjson.loads((stack.demo / "api-keys.json").read_bytes())
    agency = str(event["reported_by"])
    other = next(a for a in keys if not a.startswith(agency[:3]))
    with httpx.Client(base_url=stack.url("ingest", ""), timeout=10) as client:
        foreign = copy.deepcopy(event)
        foreign["event_id"] = str(event["event_id"])[:-4] + "f0f0"
        foreign["country"] = "RUS" if event["country"] != "RUS" else "KAZ"
        own_key = {"authorization": f"Bearer {keys[agency]}"}
        assert client.post("/v1/events", json=foreign, headers=own_key).status_code == 403
        spoofed = {**foreign, "country": event["country"], "reported_by": other}
        assert client.post("/v1/events", json=spoofed, headers=own_key).status_code == 403
        stolen = {"authorization": f"Bearer {keys[other]}"}
        assert client.post("/v1/events", json=event, headers=stolen).status_code == 403


async def test_access_is_per_country_and_nothing_secret_is_logged(
    stack: tuple[Stack, dict[str, str]], topics: CommonSettings
) -> None:
    built, keys = stack
    poster = Poster(built, count=120, rate=60)
    await poster.run()
    _agency_cannot_report_for_another_country(built, next(iter(poster.accepted.values())))
    verdict = await verify(Verdict("access-pipeline"), built, topics, poster, within_s=90)
    assert not verdict.problems, verdict
    assert verdict.rejected_signatures == 0

    events = await canonical_events(topics, set(poster.accepted))
    alerts = expected_alerts(load_index(built.demo / "demo-watchlist.jsonl"), events)
    directory = load_directory(built.demo)
    entitled = {a: {cp.country for cp in recipients(alert, directory)} for a, alert in
                alerts.items()}  # fmt: skip
    checked = await asyncio.to_thread(_per_country_answers, built, keys, entitled)
    assert checked >= 10, f"only {checked} refusals checked"

    built.stop_all()
    keys_and_secrets = secrets_of_demo(built.demo) | set(keys.values())
    leaked = leaks_in_logs(built, keys_and_secrets | pii_of_watchlist(built.demo))
    assert not leaked, f"secrets or personal data in logs: {[n for n, _ in leaked][:10]}"


def _per_country_answers(stack: Stack, keys: dict[str, str], entitled: dict[str, set[str]]) -> int:
    """Inboxes hold only entitled alerts; acks by an outsider are 403, by a recipient 200."""
    refused = 0
    with httpx.Client(base_url=stack.url("notifier", ""), timeout=10) as client:
        for country, key in keys.items():
            auth = {"authorization": f"Bearer {key}"}
            inbox = client.get("/v1/inbox", headers=auth).json()["alerts"]
            strangers = [a["alert_id"] for a in inbox if country not in entitled[a["alert_id"]]]
            assert not strangers, f"{country} sees alerts it was never sent: {strangers[:3]}"
        for alert_id, countries in list(entitled.items())[:20]:
            for country in set(keys) - countries:
                auth = {"authorization": f"Bearer {keys[country]}"}
                answer = client.post(f"/v1/alerts/{alert_id}/ack", headers=auth)
                assert answer.status_code == 403, (country, answer.status_code)
                refused += 1
            allowed = [c for c in countries if c in keys]
            if allowed:
                auth = {"authorization": f"Bearer {keys[allowed[0]]}"}
                assert client.post(f"/v1/alerts/{alert_id}/ack", headers=auth).status_code == 200
        assert client.post("/v1/alerts/a-nope/ack").status_code == 401
    return refused
