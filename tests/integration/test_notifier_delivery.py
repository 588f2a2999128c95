"""The notifier against the real broker, a real signed-webhook receiver and a real SMTP server."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import httpx
import orjson
import pytest

from schemas.codec import decode, encode
from schemas.notification import AuditAction, AuditRecord
from schemas.watchlist import WatchlistEntry
from services.common.fate import header
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.peers.smtp import SmtpPeer
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.notifier_data import STANDARD_CONTACT_POINTS, make_alert, standard_directory
from tests.support.notifier_harness import (
    notifier_settings,
    produce,
    produce_alerts,
    read_until,
    write_directory,
)

# How long the receiver outage lasts (the issue asks for minutes; CI default is shorter).
OUTAGE_S = float(os.environ.get("RELAY_TEST_NOTIFIER_OUTAGE_S", "12"))


def expected(alerts: list, app: NotifierApp) -> dict[str, set[str]]:  # type: ignore[type-arg]
    """endpoint -> webhook ids the notifier routed (from its own state)."""
    found: dict[str, set[str]] = {}
    for alert in alerts:
        for n in app.engine.inbox.alerts[alert.alert_id].notifications.values():
            found.setdefault(n.recipient, set()).add(n.notification_id)
    return found


def all_arrived(receiver: WebhookReceiver, want: dict[str, set[str]]) -> bool:
    return all(ids <= set(receiver.ids(ep)) for ep, ids in want.items())


async def test_every_alert_arrives_once_per_recipient_and_restricted_never_leaks(
    topics: CommonSettings, receiver: WebhookReceiver, directory: Path
) -> None:
    settings = notifier_settings(topics, directory)
    open_alerts = [make_alert() for _ in range(20)]
    restricted = [
        make_alert(country="KGZ", issuer="UZB", dissemination={"restricted_to": ["KAZ"]})
        for _ in range(10)
    ]
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, open_alerts + restricted)
        await receiver.wait_for(lambda: len(app.engine.inbox.alerts) == 30, 30)
        want = expected(open_alerts + restricted, app)
        await receiver.wait_for(lambda: all_arrived(receiver, want), 30)
        # Read while the notifier runs: a webhook the receiver has may still wait for its 2xx
        # to be written down, and a stopped notifier re-sends it later (same webhook-id).
        audits = await read_until(
            topics, "notifications.audit",
            lambda rs: sum(b'"delivered"' in r.value for r in rs) >= 70,
        )  # fmt: skip
    assert receiver.rejected == []
    for endpoint in STANDARD_CONTACT_POINTS:
        assert all(count == 1 for count in receiver.ids(endpoint).values()), endpoint
    restricted_ids = {a.alert_id for a in restricted}
    leaked = [
        d for d in receiver.deliveries
        if d.body["data"]["alert"]["alert_id"] in restricted_ids
        and d.endpoint not in ("UZB-NCB",)
    ]  # fmt: skip
    assert leaked == []  # KGZ (event country) and XPO-CC are not on the list
    assert len(receiver.ids("UZB-NCB")) == 30
    assert len(receiver.ids("KAZ-NCB")) == 20
    actions = [decode(AuditRecord, r.value).action for r in audits]
    assert actions.count(AuditAction.ROUTED) == 70
    assert actions.count(AuditAction.DELIVERED) == 70


@pytest.mark.parametrize("client", ["aiohttp", "lean"])
async def test_outage_429_and_permanent_failure(
    topics: CommonSettings, receiver: WebhookReceiver, directory: Path, client: str
) -> None:
    settings = notifier_settings(topics, directory, notifier_webhook_client=client)
    receiver.fail("KAZ-NCB", 503, for_s=OUTAGE_S)
    receiver.fail("UZB-NCB", 429, for_s=3, retry_after="1")
    receiver.fail("XPO-CC", 400)  # a broken receiver config: permanent
    alerts = [make_alert() for _ in range(10)]
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, alerts)
        await receiver.wait_for(lambda: len(app.engine.inbox.alerts) == 10, 30)
        want = expected(alerts, app)
        want.pop("XPO-CC")
        # the healthy... no endpoint is healthy at first; UZB recovers after 3 s, KAZ later
        await receiver.wait_for(lambda: len(receiver.ids("UZB-NCB")) == 10, 30)
        assert len(receiver.ids("KAZ-NCB")) == 0  # still in its outage
        await receiver.wait_for(lambda: all_arrived(receiver, want), OUTAGE_S + 30)
    assert all(c == 1 for c in receiver.ids("KAZ-NCB").values())
    assert receiver.attempts["KAZ-NCB"] > 10  # it was retried during the outage
    # circuit breaker: far fewer requests than 10 jobs x (outage / base delay) would give
    assert receiver.attempts["KAZ-NCB"] < 10 * OUTAGE_S / 0.2
    dlq = await read_until(topics, "alerts.dlq", lambda rs: len(rs) >= 10)
    assert {header(r, "relay-recipient") for r in dlq} == {"XPO-CC"}
    assert all("HTTP 400" in (header(r, "relay-dlq-reason") or "") for r in dlq)


async def test_cancellation_reaches_everyone_paged(
    topics: CommonSettings, receiver: WebhookReceiver, directory: Path
) -> None:
    settings = notifier_settings(topics, directory)
    alert = make_alert(entry_id="RED-2099-CANCEL1")
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, [alert])
        await receiver.wait_for(lambda: len(receiver.deliveries) == 3, 30)
        entry = WatchlistEntry.model_validate(
            {"entry_id": alert.entry_id, "list": "red_notice", "status": "cancelled",
             "issuer": "UZB", "action": "arrest", "person": {"names": [{"surname": "TESTOV"}]}},
            strict=False,
        )  # fmt: skip
        await produce(topics, "watchlist.entries", alert.entry_id.encode(), encode(entry))
        await receiver.wait_for(lambda: len(receiver.deliveries) == 6, 30)
        assert app.engine.inbox.alerts[alert.alert_id].cancelled
    cancelled = {d.endpoint for d in receiver.deliveries if d.body["type"] == "alert.cancelled"}
    assert cancelled == {"KAZ-NCB", "UZB-NCB", "XPO-CC"}


async def test_same_person_same_entry_pages_once_then_updates(
    topics: CommonSettings, receiver: WebhookReceiver, directory: Path
) -> None:
    settings = notifier_settings(topics, directory)
    first = make_alert()
    again = [
        make_alert(traveller=first.traveller, event_document=first.event_document) for _ in range(3)
    ]
    async with NotifierApp(settings):
        await produce_alerts(topics, [first])
        await receiver.wait_for(lambda: len(receiver.ids("UZB-NCB")) == 1, 30)
        await produce_alerts(topics, again)
        await receiver.wait_for(lambda: len(receiver.ids("UZB-NCB")) == 4, 30)
    types = [d.body["type"] for d in receiver.deliveries if d.endpoint == "UZB-NCB"]
    assert types == ["alert.created"] + ["alert.updated"] * 3
    # the pagers (KAZ-NCB, XPO-CC) got exactly one page each
    assert len(receiver.ids("KAZ-NCB")) == 1
    assert len(receiver.ids("XPO-CC")) == 1


async def test_email_with_signed_link_acknowledges(
    topics: CommonSettings, receiver: WebhookReceiver, smtp: SmtpPeer, tmp_path: Path
) -> None:
    with_email = standard_directory(receiver.url, email=True)
    settings = notifier_settings(
        topics, write_directory(tmp_path / "cp.yaml", with_email), notifier_smtp_port=smtp.port
    )
    alert = make_alert(summary="<b>bold</b> & synthetic")
    async with NotifierApp(settings) as app:
        # The port is known only now: the links point at it (settings stay as built).
        public_url = f"http://127.0.0.1:{app.port}"
        app.engine.config = dataclasses.replace(app.engine.config, public_url=public_url)
        await produce_alerts(topics, [alert])
        await smtp.wait_for(lambda: len(smtp.messages) == 3, 30)
        [kaz] = [m for m in smtp.messages if "duty@kaz-ncb.example" in m["To"]]
        html_part = kaz.get_body(("html",)).get_content()  # type: ignore[union-attr]
        text_part = kaz.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "&lt;b&gt;bold&lt;/b&gt; &amp; synthetic" in html_part
        link = re.search(r"Acknowledge: (\S+)", text_part).group(1)  # type: ignore[union-attr]
        async with httpx.AsyncClient() as client:
            page = await client.get(link)
            assert page.status_code == 200  # a GET only shows the button
            assert not app.engine.inbox.alerts[alert.alert_id].acknowledged
            answer = await client.post(link)
            assert answer.status_code == 200
            assert answer.json()["contact_point"] == "KAZ-NCB"
            forged = await client.post(link.replace(alert.alert_id, make_alert().alert_id))
            assert forged.status_code == 401
        assert app.engine.inbox.alerts[alert.alert_id].acknowledged
    acks = await read_until(topics, "notifications.acks", lambda rs: len(rs) >= 1)
    assert orjson.loads(acks[0].value)["contact_point"] == "KAZ-NCB"
