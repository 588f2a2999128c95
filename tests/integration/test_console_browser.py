"""The duty console in a real browser (Debian's Chromium, headless) against a real broker.

Alerts are produced into Kafka and read by a running notifier; the page is driven like a duty
officer would: sign in with the officer's account, watch the live list, open, answer.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord
from playwright.async_api import Browser, Page, expect

from schemas.alert import Alert
from schemas.codec import decode
from schemas.notification import Acknowledgement, AuditRecord
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.support.accounts import account_name, password_of
from tests.support.console_data import ARTIFACTS, SCREEN, chromium, person_alert
from tests.support.notifier_data import make_alert
from tests.support.notifier_harness import (
    notifier_settings,
    produce_alerts,
    read_until,
)

Records = list[ConsumerRecord[bytes, bytes]]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as found:
        yield found


async def signed_in(browser: Browser, port: int, contact_point: str) -> Page:
    page = await (await browser.new_context(viewport=SCREEN)).new_page()
    await page.goto(f"http://127.0.0.1:{port}/console/")
    account = account_name(contact_point)
    await page.fill("#account", account)
    await page.fill("#password", password_of(account))
    await page.press("#password", "Enter")
    await expect(page.locator("#who")).to_contain_text(contact_point)
    await expect(page.locator("#live")).to_have_text("live", timeout=15_000)  # a busy machine
    return page


def audits(records: Records, alert_id: str) -> list[AuditRecord]:
    found = [decode(AuditRecord, r.value) for r in records if r.value is not None]
    return [a for a in found if a.alert_id == alert_id]


def escalated_levels(records: Records, alert_id: str) -> list[int]:
    return [int(a.details["level"]) for a in audits(records, alert_id) if a.action == "escalated"]


def urgent(surname: str) -> Alert:
    return person_alert(surname, "SYNTH", [{"surname": surname.title(), "given_names": "Synth"}])


async def test_live_inbox_ack_stops_escalation(
    topics: CommonSettings, browser: Browser, console_directory_path: Path
) -> None:
    settings = notifier_settings(topics, console_directory_path, notifier_escalation_delay_s=4.0)
    taken, ignored = urgent("AKHMEDOV"), urgent("BEKOV")
    async with NotifierApp(settings) as app:
        page = await signed_in(browser, app.port, "KAZ-NCB")
        started = time.monotonic()
        await produce_alerts(topics, [taken, ignored])
        row = page.locator(f'[data-alert="{taken.alert_id}"]')
        await row.wait_for(timeout=2000)
        appeared_s = time.monotonic() - started
        assert appeared_s < 2.0
        await expect(row.locator(".timer")).to_contain_text("escalates in")

        await row.click()
        await expect(page.locator("#detail-body h2")).to_have_text("AKHMEDOV SYNTH")
        await page.fill("#comment", "Officers sent to gate 4")
        await page.click("#btn-ack")
        await expect(page.locator("#detail-body .state")).to_have_text("acknowledged")
        await expect(row.locator(".state")).to_have_text("acknowledged")
        await expect(row.locator(".timer")).to_have_count(0)  # its clock stopped

        # The untouched alert climbs to the coordination centre (level 2 after two delays)...
        records = await read_until(
            topics, "notifications.audit",
            lambda rs: 2 in escalated_levels(rs, ignored.alert_id), within_s=30,
        )  # fmt: skip
        await expect(page.locator(f'[data-alert="{ignored.alert_id}"] .state')).to_have_text(
            "escalated"
        )
    # ...while the acknowledged one never escalated, and its answer is on record.
    assert escalated_levels(records, taken.alert_id) == []
    acked = [a for a in audits(records, taken.alert_id) if a.action == "acknowledged"]
    assert acked
    assert {a.actor for a in acked} == {"KAZ-NCB/kaz-ncb.duty_officer"}  # the officer
    acks = await read_until(topics, "notifications.acks", lambda rs: len(rs) >= 1)
    ack = decode(Acknowledgement, acks[0].value)
    assert (ack.alert_id, ack.kind, ack.comment) == (
        taken.alert_id, "acknowledged", "Officers sent to gate 4",
    )  # fmt: skip
    print(f"console: alert visible {appeared_s * 1000:.0f} ms after produce")


async def test_other_country_neither_sees_nor_reaches_it(
    topics: CommonSettings, browser: Browser, console_directory_path: Path
) -> None:
    settings = notifier_settings(topics, console_directory_path)
    kaz_only = urgent("DAVLETOV")
    tjk_own = make_alert(country="TJK", entry_id="RED-2025-TJK1")
    async with NotifierApp(settings) as app:
        kaz = await signed_in(browser, app.port, "KAZ-NCB")
        tjk = await signed_in(browser, app.port, "TJK-NCB")
        await produce_alerts(topics, [kaz_only, tjk_own])
        await kaz.locator(f'[data-alert="{kaz_only.alert_id}"]').wait_for(timeout=5000)
        # TJK's own alert arrives after KAZ's in the same batch: once it shows, KAZ's would have.
        await tjk.locator(f'[data-alert="{tjk_own.alert_id}"]').wait_for(timeout=5000)
        assert await tjk.locator(f'[data-alert="{kaz_only.alert_id}"]').count() == 0
        assert await kaz.locator(f'[data-alert="{tjk_own.alert_id}"]').count() == 0

        # Not only hidden: a direct request with TJK's session is refused.
        api = tjk.context.request
        base = f"http://127.0.0.1:{app.port}/console/api"
        detail = await api.get(f"{base}/alerts/{kaz_only.alert_id}")
        listing = await api.get(f"{base}/alerts")
        csrf = (await (await api.get(f"{base}/session")).json())["csrf"]
        answer = await api.post(
            f"{base}/alerts/{kaz_only.alert_id}/ack",
            headers={"X-CSRF-Token": csrf}, data={"comment": "not ours"},
        )  # fmt: skip
        assert detail.status == 404
        assert answer.status == 404
        assert kaz_only.alert_id not in {a["alert_id"] for a in (await listing.json())["alerts"]}

        # The same country's backup reads it but may not answer what was not sent to it.
        backup = await signed_in(browser, app.port, "KAZ-BACKUP")
        await backup.locator(f'[data-alert="{kaz_only.alert_id}"]').click()
        await expect(backup.locator("#btn-ack")).to_be_disabled()


async def test_markup_in_names_is_text_and_screens_are_saved(
    topics: CommonSettings, browser: Browser, console_directory_path: Path
) -> None:
    settings = notifier_settings(topics, console_directory_path, notifier_escalation_delay_s=600)
    hostile = "<script>window.__pwned=1</script>"
    trap = person_alert(
        hostile, '<img src=x onerror="window.__pwned=2">',
        [{"surname": "Тестов", "given_names": "Синтетик"}, {"surname": "ТЕСТОВ"}],
    )  # fmt: skip
    others = [
        person_alert("ÖZTÜRK", "AYLIN", [{"surname": "Öztürk", "given_names": "Aylin"}],
                     list="yellow_notice", action="protect", urgency="normal",
                     subject_minor=True),
        person_alert("KARIMOV", "RUSTAM", [{"surname": "Каримов", "given_names": "Рустам"}],
                     band="possible", score=0.74, urgency="low"),
        make_alert(entry_id="SLTD-UZB-77", list="sltd", kind="document", action="seize_document",
                   urgency="normal", entry_person=None,
                   entry_document={"number": "FA1234567", "issuing_state": "UZB",
                                   "status": "stolen"},
                   explanation=[{"field": "document_number", "event": "FA1234567",
                                 "entry": "FA1234567", "how": "exact", "score": 1.0}]),
    ]  # fmt: skip
    async with NotifierApp(settings) as app:
        page = await signed_in(browser, app.port, "KAZ-NCB")
        await produce_alerts(topics, [*others, trap])
        row = page.locator(f'[data-alert="{trap.alert_id}"]')
        await row.wait_for(timeout=5000)
        await expect(page.locator(".row")).to_have_count(4)
        await expect(row.locator(".name")).to_have_text(
            f'{hostile} <img src=x onerror="window.__pwned=2">'
        )
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "console-inbox.png"))

        # Filters narrow the list; "all" brings everything back.
        await page.select_option("#f-band", "possible")
        await expect(page.locator(".row")).to_have_count(1)
        await page.select_option("#f-band", "")
        await page.select_option("#f-list", "sltd")
        await expect(page.locator(".row")).to_have_count(1)
        await page.select_option("#f-list", "")
        await expect(page.locator(".row")).to_have_count(4)

        await page.locator("#list").focus()
        await page.keyboard.press("j")  # keyboard only: the first (most urgent) row opens
        await expect(row).to_have_attribute("aria-current", "true")
        body = page.locator("#detail-body")
        await expect(body.locator("h2")).to_contain_text(hostile)
        await expect(body.locator(".why")).to_contain_text("Тестов")
        await expect(body.locator(".why")).to_contain_text("another alphabet")
        await expect(body.locator(".sides")).to_contain_text("Тестов Синтетик")
        await page.screenshot(path=str(ARTIFACTS / "console-detail.png"))
        assert await page.evaluate("window.__pwned") is None
        assert await page.locator("script:not([src])").count() == 0
