"""Urgent alerts overtake a routine backlog on the way into the notifier, not only in its lanes."""

from __future__ import annotations

import time
from pathlib import Path

from schemas.alert import Alert
from services.common.kafka import make_producer
from services.common.settings import CommonSettings
from services.matcher.handlers import AlertPublisher
from services.notifier.app import NotifierApp
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.notifier_data import contact_point, make_alert, standard_directory
from tests.support.notifier_harness import notifier_settings, write_directory

BACKLOG = 10_000
URGENT_WITHIN_S = 2.0
# The urgent alert's recipients: the event country, the issuer, the coordination centre.
RECIPIENTS = ("KAZ-NCB", "UZB-NCB", "XPO-CC")


def with_backlog_point(tmp_path: Path, receiver: WebhookReceiver) -> Path:
    """The standard directory, and a console-only contact point for the routine backlog: its
    alerts cost the notifier their routing, not 10,000 webhooks to this test's own receiver."""
    found = standard_directory(receiver.url)
    found["contact_points"].append(contact_point("TKM-NCB", "TKM", console=True))
    found["countries"]["TKM"] = {"primary": "TKM-NCB"}
    return write_directory(tmp_path / "cp.yaml", found)


async def publish(settings: CommonSettings, alerts: list[Alert]) -> None:
    """As the matcher writes them (its own publisher): urgent ones go to both topics."""
    async with make_producer(settings, linger_ms=20) as producer:
        await AlertPublisher(producer, settings.topic).publish(alerts)


async def test_an_urgent_alert_behind_10000_routine_ones_is_delivered_within_2_s(
    topics: CommonSettings, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    routine = [
        make_alert(band="possible", urgency="normal", country="TKM", issuer="TKM")
        for _ in range(BACKLOG)
    ]
    assert not any(alert.urgent for alert in routine)
    # The backlog, then the urgent alert, are on the topics before the notifier starts: the
    # urgent one is behind all 10,000 however fast this machine routes them.
    await publish(topics, routine)
    urgent = make_alert()
    assert urgent.urgent
    await publish(topics, [urgent])
    settings = notifier_settings(topics, with_backlog_point(tmp_path, receiver))
    async with NotifierApp(settings) as app:
        ready = time.monotonic()
        await receiver.wait_for(lambda: all(receiver.ids(ep) for ep in RECIPIENTS), 30)
        took = time.monotonic() - ready
        routed_meanwhile = len(app.engine.inbox.alerts) - 1
    assert {d.body["data"]["alert"]["alert_id"] for d in receiver.deliveries} == {urgent.alert_id}
    assert took <= URGENT_WITHIN_S, f"urgent alert took {took:.2f} s"
    # The backlog was real: the routine alerts were still being read when the urgent one arrived.
    assert routed_meanwhile < BACKLOG
