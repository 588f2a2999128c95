"""False-match feedback (issue 30, item 4), on the real broker with the real matcher and
notifier: a KAZ duty officer answers ``false_match`` in the console, a KAZ supervisor confirms
it; the same traveller crossing again raises no alert (counted and audited instead), while a
different traveller with the same name and birth date still does; once the suppression is
revoked, or has expired, the same traveller alerts again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import ConsumerRecord

from schemas.codec import decode, encode
from schemas.notification import AuditAction, AuditRecord
from schemas.suppression import (
    Suppression,
    SuppressionState,
    TravellerIdentity,
    suppression_id_for,
)
from schemas.watchlist import ListKind
from services.common.settings import CommonSettings
from services.matcher.app import MatcherApp
from services.matcher.settings import MatcherSettings
from services.notifier.app import NotifierApp
from services.notifier.console.principal import Role
from tests.support.accounts import sign_in
from tests.support.console_data import wait_in_stream
from tests.support.kafka_io import TopicReader, produce_json
from tests.support.notifier_harness import notifier_settings

pytestmark = pytest.mark.timeout(240)

ENTRY = "RED-FM-1"
WAIT_S = 30.0
Records = list[ConsumerRecord[bytes, bytes]]


def red_notice() -> dict[str, Any]:
    return {
        "entry_id": ENTRY, "list": "red_notice", "status": "active", "issuer": "UZB",
        "action": "arrest",
        "person": {"names": [{"surname": "KHOLMATOV", "given_names": "ALISHER"}],
                   "date_of_birth": "1985-03-02", "sex": "M", "nationalities": ["UZB"]},
    }  # fmt: skip


def crossing(number: str) -> dict[str, Any]:
    """Mr Kholmatov, born 1985-03-02, at a KAZ post, with passport ``number``."""
    return {
        "event_id": str(uuid.uuid4()), "type": "border_crossing",
        "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reported_by": "KAZ-BORDER", "country": "KAZ",
        "location": {"code": "KZ-ALA-AIR", "name": "Almaty International Airport", "kind": "air"},
        "direction": "entry",
        "traveller": {"surname": "KHOLMATOV", "given_names": "ALISHER",
                      "date_of_birth": "1985-03-02", "sex": "M", "nationality": "UZB"},
        "document": {"number": number, "issuing_state": "UZB", "type": "P",
                     "expiry_date": "2031-05-01"},
    }  # fmt: skip


@dataclass
class Stack:
    topics: CommonSettings
    matcher: MatcherApp
    notifier: NotifierApp
    alerts: TopicReader
    audit: TopicReader

    async def cross(self, *events: dict[str, Any]) -> None:
        topic = self.topics.topic("events.border_crossing")
        await produce_json(self.topics, topic, [(e["traveller"]["surname"], e) for e in events])

    async def alert_of(self, event: dict[str, Any]) -> dict[str, Any]:
        def found(records: Records) -> list[dict[str, Any]]:
            values = (orjson.loads(r.value) for r in records if r.value is not None)
            return [a for a in values if a["event_id"] == event["event_id"]]

        await self.alerts.until(lambda rs: bool(found(rs)), WAIT_S)
        return found(self.alerts.records)[0]

    async def suppressed(self, event: dict[str, Any]) -> AuditRecord:
        def found(records: Records) -> list[AuditRecord]:
            values = (decode(AuditRecord, r.value) for r in records if r.value is not None)
            return [
                a
                for a in values
                if a.action is AuditAction.MATCH_SUPPRESSED
                and a.details.get("event_id") == event["event_id"]
            ]

        await self.audit.until(lambda rs: bool(found(rs)), WAIT_S)
        return found(self.audit.records)[0]

    def alerted(self, event: dict[str, Any]) -> bool:
        values = (orjson.loads(r.value) for r in self.alerts.records if r.value is not None)
        return any(a["event_id"] == event["event_id"] for a in values)

    async def matcher_sees(self, suppression_id: str, state: SuppressionState) -> Suppression:
        def done(by_id: dict[str, Suppression]) -> bool:
            found = by_id.get(suppression_id)
            return found is not None and found.state is state

        await asyncio.wait_for(self.matcher.suppressions.until(done), WAIT_S)
        return self.matcher.suppressions.by_id[suppression_id]


@asynccontextmanager
async def stack(topics: CommonSettings, directory: Path, **notifier: Any) -> AsyncIterator[Stack]:
    await produce_json(topics, topics.topic("watchlist.entries"), [(ENTRY, red_notice())])
    matcher_settings = MatcherSettings(
        kafka_bootstrap=topics.kafka_bootstrap, topic_prefix=topics.topic_prefix,
        matcher_http_port=0, matcher_retro_enabled=False,
    )  # fmt: skip
    async with AsyncExitStack() as stack:
        matcher = await stack.enter_async_context(MatcherApp(matcher_settings))
        app = await stack.enter_async_context(
            NotifierApp(notifier_settings(topics, directory, **notifier))
        )
        alerts = await stack.enter_async_context(TopicReader(topics, topics.topic("alerts")))
        audit = await stack.enter_async_context(
            TopicReader(topics, topics.topic("notifications.audit"))
        )
        yield Stack(topics, matcher, app, alerts, audit)


async def signed_in(client: httpx.AsyncClient, role: Role) -> dict[str, str]:
    answer = await sign_in(client, "KAZ-NCB", role)
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf"]}


async def answer_false_match(client: httpx.AsyncClient, alert_id: str, role: Role) -> None:
    csrf = await signed_in(client, role)
    await wait_in_stream(client, alert_id)
    answer = await client.post(
        f"/console/api/alerts/{alert_id}/outcome",
        json={"outcome": "false_match", "comment": "Other man: other father's name."},
        headers=csrf,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


async def test_confirmed_false_match_silences_that_traveller_only_until_revoked(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    async with stack(topics, console_directory_path) as s:
        base = f"http://127.0.0.1:{s.notifier.port}"
        first = crossing("ZZ1111111")
        await s.cross(first)
        alert = await s.alert_of(first)
        async with httpx.AsyncClient(base_url=base) as officer:
            await answer_false_match(officer, alert["alert_id"], Role.DUTY_OFFICER)
            # An officer's word is a proposal only; a duty officer cannot confirm it.
            listed = await officer.get("/console/api/suppressions")
            assert listed.status_code == 403
        async with httpx.AsyncClient(base_url=base) as supervisor:
            csrf = await signed_in(supervisor, Role.SUPERVISOR)

            async def rows() -> list[dict[str, Any]]:
                answer = await supervisor.get("/console/api/suppressions")
                assert answer.status_code == 200, answer.text
                found: list[dict[str, Any]] = answer.json()["suppressions"]
                return found

            await asyncio.wait_for(s.notifier.suppressions.until(bool), WAIT_S)
            [pending] = await rows()
            assert (pending["state"], pending["alert_id"]) == ("pending", alert["alert_id"])
            assert pending["identity"]["document_number"] == "ZZ1111111"
            sid = pending["suppression_id"]
            url = f"/console/api/suppressions/{sid}"
            confirmed = await supervisor.post(f"{url}/confirm", json={}, headers=csrf)
            assert confirmed.status_code == 200, confirmed.text
            assert confirmed.json()["state"] == "active"
            await s.matcher_sees(sid, SuppressionState.ACTIVE)

            again, stranger = crossing("ZZ1111111"), crossing("ZZ2222222")
            await s.cross(again, stranger)
            await s.alert_of(stranger)  # same name and birth date, another person: alerts
            silenced = await s.suppressed(again)
            assert silenced.details["suppression_id"] == sid
            assert not s.alerted(again)
            count = s.matcher.metrics.registry.get_sample_value(
                "relay_suppressed_matches_total", {"list": "red_notice"}
            )
            assert count == 1

            revoked = await supervisor.post(
                f"{url}/revoke", json={"reason": "New information: he may be the man."},
                headers=csrf,
            )  # fmt: skip
            assert revoked.status_code == 200, revoked.text
            assert [r["state"] for r in await rows()] == ["revoked"]
        await s.matcher_sees(sid, SuppressionState.REVOKED)
        after = crossing("ZZ1111111")
        await s.cross(after)
        await s.alert_of(after)  # alerts again

        def trail(records: Records) -> list[tuple[str, str]]:
            values = (decode(AuditRecord, r.value) for r in records if r.value is not None)
            return [(a.action.value, a.actor) for a in values if a.details.get("suppression_id")]

        await s.audit.until(lambda rs: ("suppression_revoked", "KAZ-NCB/kaz-ncb.supervisor")
                            in trail(rs), WAIT_S)  # fmt: skip
        steps = trail(s.audit.records)
        assert ("suppression_proposed", "KAZ-NCB/kaz-ncb.duty_officer") in steps
        assert ("suppressed", "KAZ-NCB/kaz-ncb.supervisor") in steps
        assert ("match_suppressed", "matcher") in steps


async def test_a_supervisors_false_match_suppresses_at_once_and_expires(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    keep_s = 8.0  # long enough for a loaded machine to screen the second crossing in time
    async with stack(topics, console_directory_path, notifier_suppression_days=keep_s / 86400) as s:
        first = crossing("ZZ3333333")
        await s.cross(first)
        alert = await s.alert_of(first)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{s.notifier.port}") as sup:
            await answer_false_match(sup, alert["alert_id"], Role.SUPERVISOR)
        active = s.matcher.suppressions.until(
            lambda by_id: any(i.state is SuppressionState.ACTIVE for i in by_id.values())
        )
        await asyncio.wait_for(active, WAIT_S)
        [item] = s.matcher.suppressions.by_id.values()
        assert item.confirmed_by == "KAZ-NCB/kaz-ncb.supervisor"
        again = crossing("ZZ3333333")
        await s.cross(again)
        await s.suppressed(again)
        assert item.expires_at is not None
        # the behaviour under test is the clock's: wait until the suppression has expired
        await asyncio.sleep(max(0.0, (item.expires_at - datetime.now(UTC)).total_seconds()))
        later = crossing("ZZ3333333")
        await s.cross(later)
        await s.alert_of(later)


async def test_a_long_ended_suppression_is_deleted_and_that_is_audited(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    who = TravellerIdentity(
        surname="TESTOVA", given_names="SINTETA", date_of_birth="1991-04-05",
        document_number="ZZ8888888", issuing_state="UZB",
    )  # fmt: skip
    long_ago = datetime.now(UTC) - timedelta(days=40)
    ended = Suppression(
        suppression_id=suppression_id_for("KAZ", ENTRY, who), state=SuppressionState.REVOKED,
        entry_id=ENTRY, list=ListKind.RED_NOTICE, issuer="UZB", country="KAZ", identity=who,
        alert_id="a-" + "6" * 32, reported_by="KAZ-NCB/kaz-ncb.duty_officer",
        reported_at=long_ago, expires_at=long_ago, revoked_by="KAZ-NCB/kaz-ncb.supervisor",
        revoked_at=long_ago,
    )  # fmt: skip
    key = ended.suppression_id
    await produce_json(topics, topics.topic("suppressions"), [(key, encode(ended))])
    settings = notifier_settings(topics, console_directory_path)  # forgotten after 30 days
    async with NotifierApp(settings):
        async with TopicReader(topics, topics.topic("suppressions")) as kept:
            await kept.until(lambda rs: any(r.key == key.encode() and r.value is None for r in rs))
        async with TopicReader(topics, topics.topic("notifications.audit")) as audit:

            def forgotten(records: Records) -> list[AuditRecord]:
                values = (decode(AuditRecord, r.value) for r in records if r.value is not None)
                return [a for a in values if a.action is AuditAction.SUPPRESSION_FORGOTTEN]

            await audit.until(lambda rs: bool(forgotten(rs)), WAIT_S)
            [record] = forgotten(audit.records)
            assert record.details["suppression_id"] == key
            assert "ZZ8888888" not in str(record.model_dump())  # the identity is gone for good
