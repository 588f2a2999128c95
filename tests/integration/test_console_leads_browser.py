"""The Leads view in a real browser (Debian's Chromium, headless) against a real broker: an
analyst filters, opens a lead, reads its evidence in time order, sees its link chart drawn by
cytoscape.js and exports it; a duty officer of the same bureau never sees the view."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from schemas.notification import AuditAction
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from services.notifier.console.principal import Role
from tests.support.accounts import account_name, password_of
from tests.support.console_data import ARTIFACTS, SCREEN, chromium
from tests.support.lead_data import (
    associate_of_listed,
    flow_surge,
    lead_reads,
    produce_leads,
    serial_escort,
)
from tests.support.notifier_harness import notifier_settings, read_until

HOSTILE = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as found:
        yield found


async def console_page(browser: Browser, port: int) -> tuple[Page, list[str]]:
    """The console's page, and the errors its console reports (CSP refusals included)."""
    context = await browser.new_context(viewport=SCREEN, accept_downloads=True)
    page = await context.new_page()
    errors: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} {message.location.get('url')}")

    page.on("console", seen)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"http://127.0.0.1:{port}/console/")
    return page, errors


async def sign_in_as(page: Page, cp_id: str, role: Role) -> None:
    account = account_name(cp_id, role)
    await page.fill("#account", account)
    await page.fill("#password", password_of(account))
    await page.press("#password", "Enter")
    await expect(page.locator("#who")).to_contain_text(account)


async def test_an_analyst_reads_a_lead_and_its_link_chart(
    topics: CommonSettings, browser: Browser, console_directory_path: Path
) -> None:
    escort = serial_escort("KAZ", summary=f"One adult crossed with 3 minors {HOSTILE}")
    listed = associate_of_listed("KAZ", restricted_to=["KAZ", "UZB"])
    surge = flow_surge("KAZ")
    await produce_leads(topics, [escort, listed, surge])
    settings = notifier_settings(topics, console_directory_path)
    async with NotifierApp(settings) as app:
        page, errors = await console_page(browser, app.port)
        await sign_in_as(page, "KAZ-NCB", Role.ANALYST)
        await expect(page.locator("#leads")).to_be_visible()
        await expect(page.locator("#list")).to_be_hidden()  # no inbox for an analyst
        rows = page.locator(".lead-row")
        await expect(rows).to_have_count(3)
        await expect(page.locator(f'[data-lead="{listed.lead_id}"] .restricted')).to_be_visible()

        # Filters go to the server: one pattern, then all again.
        await page.select_option("#lf-pattern", "associate_of_listed")
        await expect(rows).to_have_count(1)
        await page.select_option("#lf-pattern", "")
        await expect(rows).to_have_count(3)
        await page.locator("#lead-list").focus()
        await page.keyboard.press("j")  # keyboard only: the most recent lead opens
        await expect(page.locator("#lead-body h2")).to_have_text("Flow surge")
        await expect(page.locator("#lead-subjects .card")).to_contain_text("41")  # counts only
        await expect(page.locator("#lead-chart")).to_be_hidden()  # no person, no chart

        await page.locator(f'[data-lead="{escort.lead_id}"]').click()
        body = page.locator("#lead-body")
        await expect(body.locator("h2")).to_have_text("Serial escort")
        await expect(body.locator(".summary")).to_have_text(escort.summary)  # markup as text
        await expect(page.locator("#lead-subjects table")).to_contain_text("SYNTHOVA DILNOZA")
        evidence = page.locator("#lead-evidence li")
        await expect(evidence).to_have_count(6)
        await expect(evidence.first).to_contain_text("crossed with minor #1 of 3")
        await expect(evidence.nth(1)).to_contain_text("ALPHEEV TIMUR")
        await expect(evidence.last).to_contain_text("GAMMOV ILYAS")

        # The chart: cytoscape.js draws it on canvas; its elements are the lead's.
        await expect(page.locator("#lead-chart canvas").first).to_be_visible()
        drawn = await page.evaluate(
            "() => ({nodes: leads.chart.nodes().map((n) => n.data('kind')).sort(),"
            " edges: leads.chart.edges().map((e) => e.data('label'))})"
        )
        assert drawn["nodes"].count("person") == 4
        assert drawn["nodes"].count("party") == 3
        assert drawn["nodes"].count("transport") == 3
        assert drawn["nodes"].count("document") == 1
        assert any("family name differs" in label for label in drawn["edges"])
        await expect(page.locator("#lead-chart-text")).to_contain_text("BETOVA ZARINA · minor")
        await page.locator("#lead-chart").scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "console-leads.png"))

        async with page.expect_download() as started:
            await page.click("#lead-export-csv")
        download = await started.value
        saved = await download.path()
        lines = (await asyncio.to_thread(Path(saved).read_text, "utf-8")).splitlines()
        assert lines[0].startswith("lead_id,pattern,score")
        assert len(lines) == 1 + len(escort.evidence)

        # The analysis service grows the lead (same id): one row still, one more event.
        more = escort.evidence[0].model_copy(
            update={"event_id": str(uuid.uuid4()), "why": "crossed again with minor #3"}
        )
        grown = escort.model_copy(update={"evidence": [*escort.evidence, more]})
        app.leads.changed.clear()
        await produce_leads(topics, [grown])
        await asyncio.wait_for(app.leads.changed.wait(), 20)
        await page.click("#lf-refresh")
        await expect(evidence).to_have_count(7)
        await expect(rows).to_have_count(3)

        assert await page.evaluate("window.__pwned") is None
        # No CSP refusal, no script error: only the page's own expected misses (the signed-out
        # session probe before sign-in, and the favicon there is none of).
        expected = ("/favicon.ico", "/console/api/session")
        assert [e for e in errors if not e.endswith(expected)] == []

        # A duty officer of the same bureau, on the same page after sign-out: the inbox, no
        # Leads view and nothing left of it, and the API refuses.
        await page.click("#signout")
        await sign_in_as(page, "KAZ-NCB", Role.DUTY_OFFICER)
        await expect(page.locator("#live")).to_have_text("live")
        await expect(page.locator("#leads")).to_be_hidden()
        await expect(page.locator(".lead-row")).to_have_count(0)
        refused = await page.context.request.get(
            f"http://127.0.0.1:{app.port}/console/api/leads/{escort.lead_id}"
        )
        assert refused.status == 403

    analyst = f"KAZ-NCB/{account_name('KAZ-NCB', Role.ANALYST)}"
    # One key (the analyst), one partition: the last opening comes after the export.
    records = await read_until(
        topics, "notifications.audit",
        lambda rs: len(lead_reads(rs, AuditAction.LEAD_OPENED, analyst)) >= 3,
    )  # fmt: skip
    exported = lead_reads(records, AuditAction.LEADS_EXPORTED, analyst)
    assert [(a.details["format"], a.details["leads"]) for a in exported] == [
        ("csv", [escort.lead_id])
    ]
    opened = lead_reads(records, AuditAction.LEAD_OPENED, analyst)
    # keyboard, click, and again after the refresh: each showing audited
    assert [a.details["leads"] for a in opened] == [
        [surge.lead_id], [escort.lead_id], [escort.lead_id],
    ]  # fmt: skip
