"""False matches in the console, in a real browser (Debian's Chromium, headless): a KAZ
supervisor sees a duty officer's proposal, confirms it and revokes it with a reason, each step
audited under the supervisor's name; a duty officer is not offered the view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from schemas.codec import decode, encode, schema_header
from schemas.notification import AuditAction, AuditRecord
from schemas.suppression import (
    Suppression,
    SuppressionState,
    TravellerIdentity,
    suppression_id_for,
)
from schemas.watchlist import ListKind
from services.common.kafka import make_producer
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from services.notifier.console.principal import Role
from tests.support.accounts import account_name, password_of
from tests.support.console_data import ARTIFACTS, SCREEN, chromium
from tests.support.kafka_io import TopicReader
from tests.support.notifier_harness import notifier_settings

pytestmark = pytest.mark.timeout(240)

SUPERVISOR = f"KAZ-NCB/{account_name('KAZ-NCB', Role.SUPERVISOR)}"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as found:
        yield found


def proposal() -> Suppression:
    """As the notifier writes a duty officer's false_match (synthetic traveller)."""
    who = TravellerIdentity(
        surname="TESTOVA", given_names="SINTETA", date_of_birth="1991-04-05",
        document_number="ZZ7777777", issuing_state="UZB",
    )  # fmt: skip
    return Suppression(
        suppression_id=suppression_id_for("KAZ", "RED-BR-1", who), state=SuppressionState.PENDING,
        entry_id="RED-BR-1", list=ListKind.RED_NOTICE, issuer="UZB", country="KAZ", identity=who,
        alert_id="a-" + "5" * 32, comment="Different patronymic and birthplace.",
        reported_by="KAZ-NCB/kaz-ncb.duty_officer", reported_at=datetime.now(UTC),
    )  # fmt: skip


async def signed_in(browser: Browser, port: int, role: Role) -> Page:
    page = await (await browser.new_context(viewport=SCREEN)).new_page()
    await page.goto(f"http://127.0.0.1:{port}/console/")
    account = account_name("KAZ-NCB", role)
    await page.fill("#account", account)
    await page.fill("#password", password_of(account))
    await page.press("#password", "Enter")
    await expect(page.locator("#who")).to_contain_text(account)
    return page


async def test_a_supervisor_confirms_and_revokes_a_false_match(
    topics: CommonSettings, console_directory_path: Path, browser: Browser
) -> None:
    item = proposal()
    async with make_producer(topics) as producer:
        await producer.send_and_wait(
            topics.topic("suppressions"), encode(item), key=item.suppression_id.encode(),
            headers=[schema_header(Suppression)],
        )  # fmt: skip
    async with NotifierApp(notifier_settings(topics, console_directory_path)) as app:
        officer = await signed_in(browser, app.port, Role.DUTY_OFFICER)
        await expect(officer.locator("#false-matches")).to_be_hidden()

        page = await signed_in(browser, app.port, Role.SUPERVISOR)
        await page.click("#false-matches")
        row = page.locator(f'[data-suppression="{item.suppression_id}"]')
        await expect(row).to_contain_text("TESTOVA, SINTETA")
        await expect(row).to_contain_text("UZB ZZ7777777")
        await expect(row.locator(".state")).to_have_text("waiting for a supervisor")
        await row.locator("button.confirm").click()
        await expect(row.locator(".state")).to_have_text("suppressed")
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "console-false-matches.png"))

        await row.locator("button.revoke").click()  # no reason yet: refused on the page
        await expect(page.locator("#suppression-note")).to_contain_text("reason")
        await row.locator("input.reason").fill("New evidence: the man may be the listed one.")
        await row.locator("button.revoke").click()
        await expect(row.locator(".state")).to_have_text("revoked")
        await expect(row.locator("button")).to_have_count(0)
        await page.click("#false-matches")  # back to the inbox
        await expect(page.locator("#suppressions")).to_be_hidden()

    async with TopicReader(topics, topics.topic("notifications.audit")) as audit:

        def steps(records: object) -> list[str]:
            found = (decode(AuditRecord, r.value) for r in audit.records if r.value is not None)
            return [
                a.action.value
                for a in found
                if a.actor == SUPERVISOR and a.details.get("suppression_id") == item.suppression_id
            ]

        await audit.until(lambda rs: len(steps(rs)) == 2, 30)
        assert steps(audit.records) == [AuditAction.SUPPRESSED, AuditAction.SUPPRESSION_REVOKED]
