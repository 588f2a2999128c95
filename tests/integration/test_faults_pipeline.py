"""Faults on the whole relay, mid-stream: SIGKILL of each service, contact points' webhook
receivers and the SMTP server down, a slow contact point. After each: every event ingest
accepted produced exactly its expected alerts (the matcher's engine, offline), each alert
reached every entitled recipient and no one else (the notifier's routing, offline), no
duplicate beyond same-webhook-id retries, and the audit trail is complete.

Figures go to tests/artifacts/faults-report.json. ``RELAY_FAULT_OUTAGE_S`` sets how long the
receivers stay down (15 s in ``make test``, 120 s in ``make test-faults``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from email.message import Message
from pathlib import Path

import pytest

from services.common.settings import CommonSettings
from services.notifier.domain.routing import recipients
from tests.peers.gate import Gate
from tests.peers.smtp import SmtpPeer
from tests.support.broker import free_port
from tests.support.evidence import (
    Poster,
    Verdict,
    canonical_events,
    expected_alerts,
    load_directory,
    load_index,
    verify,
)
from tests.support.stack import Stack, StackSpec, edit_directory, open_stack, start_all

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]
OUTAGE_S = float(os.environ.get("RELAY_FAULT_OUTAGE_S", "15"))
FAST_RETRIES = {
    "RELAY_NOTIFIER_RETRY_BASE_S": "0.5",
    "RELAY_NOTIFIER_RETRY_MAX_S": "5",  # 120 s down stays under the 50 attempts
    "RELAY_NOTIFIER_BREAKER_OPEN_S": "2",
}
MAILED = ("ncb-kaz", "ncb-uzb")  # contact points that also get e-mail in these runs


class Rig:
    """The stack, the gate in front of its receiver and the SMTP port the notifier uses."""

    def __init__(self, stack: Stack, gate: Gate, smtp_port: int) -> None:
        self.stack, self.gate, self.smtp_port = stack, gate, smtp_port


@pytest.fixture
async def rig(topics: CommonSettings, tmp_path: Path) -> AsyncIterator[Rig]:
    gate_port, smtp_port = free_port(), free_port()
    env = {**FAST_RETRIES, "RELAY_NOTIFIER_SMTP_PORT": str(smtp_port)}
    spec = StackSpec(
        topics.kafka_bootstrap, topics.topic_prefix, env=env,
        receiver_url=f"http://127.0.0.1:{gate_port}",
    )  # fmt: skip
    with open_stack(spec, tmp_path) as stack:
        edit_directory(stack.demo, {cp: {"email": [f"{cp}@example.test"]} for cp in MAILED})
        gate = Gate(stack.url("receiver", ""), gate_port)
        await gate.open()
        try:
            start_all(stack)
            await asyncio.to_thread(stack.ready)
            yield Rig(stack, gate, smtp_port)
        finally:
            await gate.shutdown()


async def _midway(poster: Poster, share: float) -> None:
    """Returns once ``share`` of the traffic has been sent."""
    while not poster.planned or poster.sent < share * poster.planned:  # noqa: ASYNC110
        await asyncio.sleep(0.2)  # polling the poster's progress, which the run bounds


async def _kill_and_restart(stack: Stack, name: str) -> None:
    await asyncio.to_thread(stack.processes[name].kill)
    await asyncio.to_thread(stack.restart, name)


# make test-faults: in make test, test_failover kills a replica of each kind mid-stream
@pytest.mark.slow
async def test_sigkill_each_service_mid_stream(rig: Rig, topics: CommonSettings) -> None:
    poster = Poster(rig.stack, count=240, rate=40)
    smtp = await SmtpPeer(port=rig.smtp_port).start()

    async def faults() -> int:
        for share, name in ((0.2, "ingest"), (0.45, "matcher"), (0.7, "notifier")):
            await _midway(poster, share)
            await _kill_and_restart(rig.stack, name)
        return 3

    try:
        _, injected = await asyncio.gather(poster.run(), faults())
        verdict = await verify(Verdict("sigkill-ingest-matcher-notifier"), rig.stack, topics,
                               poster, within_s=120)  # fmt: skip
    finally:
        await smtp.stop()
    verdict.faults = injected
    verdict.save()
    assert not verdict.problems, verdict


async def test_receivers_and_smtp_down_then_back(rig: Rig, topics: CommonSettings) -> None:
    """Webhooks refused (nobody listens) and no SMTP server for OUTAGE_S, mid-stream."""
    poster = Poster(rig.stack, count=200, rate=30)
    smtp = SmtpPeer(port=rig.smtp_port)

    async def outage() -> int:
        await _midway(poster, 0.3)
        await rig.gate.close()
        await asyncio.sleep(OUTAGE_S)  # the outage itself is the fault: its length is the point
        await rig.gate.open()
        await smtp.start()
        return 2

    try:
        _, injected = await asyncio.gather(poster.run(), outage())
        verdict = await verify(Verdict(f"receivers-and-smtp-down-{OUTAGE_S:.0f}s"), rig.stack,
                               topics, poster, within_s=120 + OUTAGE_S)  # fmt: skip
        verdict.faults = injected
        await _check_mail(verdict, rig, topics, poster, smtp)
    finally:
        await smtp.stop()
    verdict.save()
    assert not verdict.problems, verdict


async def _check_mail(
    verdict: Verdict, rig: Rig, settings: CommonSettings, poster: Poster, smtp: SmtpPeer
) -> None:
    """Every alert for a mailed contact point arrived by e-mail too, once per alert."""
    events = await canonical_events(settings, set(poster.accepted))
    alerts = expected_alerts(load_index(rig.stack.demo / "demo-watchlist.jsonl"), events)
    directory = load_directory(rig.stack.demo)
    wanted = {
        (alert_id, cp.id)
        for alert_id, alert in alerts.items()
        for cp in recipients(alert, directory)
        if cp.id in MAILED
    }
    assert wanted, "no alert for a mailed contact point: the e-mail check would prove nothing"

    def got() -> set[tuple[str, str]]:
        found = set()
        for message in smtp.messages:
            text = _readable(message)
            to = str(message["To"])
            found |= {(a, cp) for a, cp in wanted if a in text and cp in to}
        return found

    with contextlib.suppress(TimeoutError):  # what is missing is counted below
        await smtp.wait_for(lambda: wanted <= got(), 60)
    verdict.check("e-mails lost", len(wanted - got()))
    ids = [str(m["X-Relay-Notification-Id"]) for m in smtp.messages]
    verdict.same_id_retries += len(ids) - len(set(ids))


def _readable(message: Message) -> str:
    """Headers and decoded text parts: a message in Kazakh or Russian is sent base64-encoded,
    so its alert ids are not in the raw text."""
    parts = [str(message)]
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(parts)


@pytest.mark.slow
async def test_slow_contact_point(rig: Rig, topics: CommonSettings) -> None:
    """Every webhook answered after 1.5 s: slower than traffic arrives, nothing is lost."""
    poster = Poster(rig.stack, count=200, rate=40)
    rig.gate.delay_s = 1.5
    smtp = await SmtpPeer(port=rig.smtp_port).start()
    try:
        await poster.run()
        verdict = await verify(Verdict("slow-contact-point-1.5s"), rig.stack, topics, poster,
                               within_s=180)  # fmt: skip
    finally:
        await smtp.stop()
    verdict.faults = 1
    verdict.save()
    assert not verdict.problems, verdict
