"""Two notifier replicas, one inbox: each replica's console, in a real browser, shows the same
rows, those of the alert partitions the other replica owns included, and an acknowledgement
taken on one console shows on the other (issue 26).

The two replicas are two ``NotifierApp`` in this process, in one consumer group, told apart by
their Kafka client ids; the broker's description of the group says which owns which alert
partitions, and the alerts are keyed so that each replica owns some of them. A third page
reaches both through the round-robin front that ``relay run --replicas`` puts before them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka.partitioner import DefaultPartitioner
from playwright.async_api import Browser, Page, expect

from schemas.alert import Alert, alert_key
from schemas.codec import decode
from schemas.notification import Acknowledgement
from schemas.topics import load_catalogue
from services.cli.replicas import RoundRobin
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.integration.test_console_browser import signed_in
from tests.support.console_data import chromium, person_alert
from tests.support.notifier_harness import notifier_settings, produce_alerts, read_until
from tests.support.replicas import wait_shared

pytestmark = pytest.mark.timeout(180)

PER_REPLICA = 3  # alerts in partitions each replica owns
# Invented travellers (synthetic data).
SURNAMES = ["ALIMOVA", "BAKIROV", "DZHURAEV", "ERGASHEVA", "FAYZIEV", "GAFUROVA", "KHAMIDOV"]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as found:
        yield found


def partition_of(entry_id: str) -> int:
    """The partition of ``alerts`` an alert of this entry is written to (the producer's)."""
    every = list(range(load_catalogue().get("alerts").partitions))
    found: int = DefaultPartitioner()(alert_key(entry_id), every, every)
    return found


def alerts_owned_by(partitions: set[int], count: int) -> list[Alert]:
    """``count`` KAZ alerts whose entries fall in ``partitions``."""
    made: list[Alert] = []
    while len(made) < count:
        entry_id = f"RED-2025-{uuid.uuid4().int % 10**6:06d}"
        if partition_of(entry_id) in partitions:
            surname = SURNAMES[len(made) % len(SURNAMES)]
            names = [{"surname": surname.title(), "given_names": "Synth"}]
            made.append(person_alert(surname, "SYNTH", names, entry_id=entry_id))
    return made


async def rows(page: Page) -> set[str]:
    found: list[str] = await page.locator("[data-alert]").evaluate_all(
        "rows => rows.map(r => r.dataset.alert)"
    )
    return set(found)


async def test_both_consoles_show_one_inbox_and_one_acknowledgement(
    topics: CommonSettings, browser: Browser, console_directory_path: Path
) -> None:
    # No escalation (600 s) changes a row while the test looks at it.
    replicas = {
        name: notifier_settings(
            topics, console_directory_path, kafka_client_id=name, notifier_escalation_delay_s=600
        )
        for name in ("notifier-a", "notifier-b")
    }
    group = topics.group(replicas["notifier-a"].notifier_group_id)
    alerts_topic = topics.topic("alerts")
    async with NotifierApp(replicas["notifier-a"]) as a, NotifierApp(replicas["notifier-b"]) as b:
        held = await wait_shared(topics, group, {f"{name}-consumer" for name in replicas})
        owned = {
            name: {tp.partition for tp in held[f"{name}-consumer"] if tp.topic == alerts_topic}
            for name in replicas
        }
        assert owned["notifier-a"]
        assert owned["notifier-b"]
        assert not owned["notifier-a"] & owned["notifier-b"]
        of_a = alerts_owned_by(owned["notifier-a"], PER_REPLICA)
        of_b = alerts_owned_by(owned["notifier-b"], PER_REPLICA)
        await produce_alerts(topics, [*of_a, *of_b])
        produced = await read_until(topics, "alerts", lambda rs: len(rs) >= 2 * PER_REPLICA)
        placed = {decode(Alert, r.value).alert_id: r.partition for r in produced if r.value}
        assert {placed[x.alert_id] for x in of_b} <= owned["notifier-b"]  # the premise holds

        page_a = await signed_in(browser, a.port, "KAZ-NCB")
        page_b = await signed_in(browser, b.port, "KAZ-NCB")
        wanted = {x.alert_id for x in [*of_a, *of_b]}
        for page in (page_a, page_b):
            for alert_id in wanted:
                await page.locator(f'[data-alert="{alert_id}"]').wait_for(timeout=15_000)
        assert await rows(page_a) == await rows(page_b) == wanted

        # A's officer answers an alert that B owns: B's console shows it acknowledged.
        taken = of_b[0]
        row_a = page_a.locator(f'[data-alert="{taken.alert_id}"]')
        await row_a.click()
        await page_a.fill("#comment", "Officers sent to gate 2")
        await page_a.click("#btn-ack")
        await expect(page_a.locator("#detail-body .state")).to_have_text("acknowledged")
        await expect(row_a.locator(".state")).to_have_text("acknowledged")
        row_b = page_b.locator(f'[data-alert="{taken.alert_id}"]')
        await expect(row_b.locator(".state")).to_have_text("acknowledged", timeout=15_000)
        await expect(row_b.locator(".timer")).to_have_count(0)  # its escalation clock stopped
        await row_b.click()
        await expect(page_b.locator("#detail-body .state")).to_have_text("acknowledged")
        for other in (x for x in [*of_a, *of_b] if x is not taken):
            state = page_b.locator(f'[data-alert="{other.alert_id}"] .state')
            await expect(state).not_to_have_text("acknowledged")
        assert await rows(page_a) == await rows(page_b) == wanted

        # One address before both (relay run's front): the page's connections go to either
        # replica, and a session signed in through one is honoured by the other.
        front = RoundRobin([("127.0.0.1", a.port), ("127.0.0.1", b.port)])
        server = await front.serve(("127.0.0.1", 0))
        try:
            page = await signed_in(browser, server.sockets[0].getsockname()[1], "KAZ-NCB")
            state = page.locator(f'[data-alert="{taken.alert_id}"] .state')
            await expect(state).to_have_text("acknowledged")
            assert await rows(page) == wanted
            await page.reload()  # new connections, each to the next replica
            await expect(state).to_have_text("acknowledged")
            assert len(front.served) == 2, front.served
        finally:
            await front.aclose()

    acks = await read_until(topics, "notifications.acks", lambda rs: len(rs) >= 1)
    answered = [decode(Acknowledgement, r.value) for r in acks if r.value]
    assert [(x.alert_id, x.kind) for x in answered] == [(taken.alert_id, "acknowledged")]
    # Keyed like the alert: the owner of the alert's partition is the one that applies it.
    assert {r.key for r in acks} == {alert_key(taken.entry_id)}
