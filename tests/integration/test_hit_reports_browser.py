"""The hit report in real browsers (Debian's Chromium, headless): a KAZ duty officer answers a
red-notice hit with ``arrested`` in the console; the UZB issuer's webhook receiver gets the
signed report (verified with the reference Standard Webhooks library) and the UZB officer's
console shows it on the alert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.integration.test_console_browser import signed_in
from tests.integration.test_hit_reports import REPORT, received, red_notice_at_kaz
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.console_data import ARTIFACTS, chromium
from tests.support.notifier_harness import notifier_settings, produce_alerts


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as found:
        yield found


async def test_kaz_answers_arrested_and_the_uzb_console_shows_the_report(
    topics: CommonSettings, browser: Browser, directory: Path, receiver: WebhookReceiver
) -> None:
    alert = red_notice_at_kaz()
    async with NotifierApp(notifier_settings(topics, directory)) as app:
        kaz = await signed_in(browser, app.port, "KAZ-NCB")
        await produce_alerts(topics, [alert])
        row = kaz.locator(f'[data-alert="{alert.alert_id}"]')
        await row.click(timeout=10_000)
        await expect(kaz.locator("#outcome-box")).to_be_visible()
        # A person hit offers the person codes only.
        codes = await kaz.locator("#outcome option").evaluate_all("os => os.map(o => o.value)")
        assert "arrested" in codes
        assert "document_seized" not in codes
        await kaz.select_option("#outcome", "arrested")
        await kaz.fill("#comment", "Detained at passport control, desk 3")
        await kaz.click("#btn-outcome")
        await expect(kaz.locator("#answer-note")).to_have_text("Recorded.")
        await expect(row.locator(".badge.outcome")).to_have_text("Arrested")

        await receiver.wait_for(lambda: "UZB-NCB" in received(receiver, REPORT, alert.alert_id), 15)
        assert receiver.rejected == []
        [data] = received(receiver, REPORT, alert.alert_id)["UZB-NCB"]
        assert data["hit_report"]["outcome"] == "arrested"

        uzb = await signed_in(browser, app.port, "UZB-NCB")
        await uzb.locator(f'[data-alert="{alert.alert_id}"]').click(timeout=10_000)
        shown = uzb.locator(".reports li")
        await expect(shown).to_contain_text("KAZ: Arrested")
        await expect(shown).to_contain_text("Detained at passport control, desk 3")
        await expect(uzb.locator("#outcome-box")).to_be_hidden()  # the issuer does not answer
        ARTIFACTS.mkdir(exist_ok=True)
        await shown.first.scroll_into_view_if_needed()
        await uzb.screenshot(path=str(ARTIFACTS / "console-hit-report.png"))
        # The outcome in the officer's language (Uzbek, Latin script).
        await uzb.select_option("#lang", "uz")
        await expect(shown).to_contain_text("KAZ: Ushlandi")
        await expect(uzb.locator(f'[data-alert="{alert.alert_id}"] .badge.outcome')).to_have_text(
            "Ushlandi"
        )
        await shown.first.scroll_into_view_if_needed()
        await uzb.screenshot(path=str(ARTIFACTS / "console-hit-report-uz.png"))
