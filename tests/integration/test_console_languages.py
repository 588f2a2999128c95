"""The console in the officer's language and the border post's time, end to end: events sent
to ingest's HTTP API with ``+05:00``, a real matcher (process) screens them against a yellow
notice of a minor and a red notice, a real notifier serves the console, and a real browser
(Debian's Chromium) reads it.

Shows: the KAZ duty officer's account says Russian, so the console opens in Russian; the inbox
and the detail show the local time at the post with its offset and UTC beside it, the listed
person's side as the matcher sent it, and the minor's protection steps first; switching to
Uzbek keeps the selected alert. Screenshots in tests/artifacts/console-{ru,uz}-*.png.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from playwright.async_api import Browser, Page, ViewportSize, expect

from schemas.alert import Alert, alert_id_for
from schemas.codec import decode
from services.common.settings import CommonSettings
from services.ingest.server import serving
from services.notifier.app import NotifierApp
from services.notifier.domain.words import PROTECTION_TITLE
from services.notifier.i18n import translator
from tests.integration.test_ingest_http import KAZ_KEY, ingest_settings, write_agencies
from tests.support.accounts import account_name, accounts_for, password_of
from tests.support.broker import free_port
from tests.support.console_data import ARTIFACTS, chromium, console_directory
from tests.support.kafka_io import TopicReader, produce_json
from tests.support.notifier_harness import notifier_settings, write_directory
from tests.support.process import ServiceProcess

pytestmark = pytest.mark.timeout(300)
PLUS5 = dt.timezone(dt.timedelta(hours=5))
TALL: ViewportSize = {"width": 1366, "height": 1200}  # both sides above the answer box

YELLOW: dict[str, Any] = {
    "entry_id": "YEL-L-1", "list": "yellow_notice", "status": "active", "issuer": "UZB",
    "action": "protect",
    "person": {"names": [{"surname": "Синтова", "given_names": "Алия"},
                         {"surname": "SINTOVA", "given_names": "ALIYA"}],
               "date_of_birth": "2011-04-02", "sex": "F", "nationalities": ["UZB"]},
}  # fmt: skip
RED: dict[str, Any] = {
    "entry_id": "RED-L-1", "list": "red_notice", "status": "active", "issuer": "TJK",
    "action": "arrest",
    "person": {"names": [{"surname": "Синтетов", "given_names": "Бахтиёр"}],
               "date_of_birth": "1979-10-21", "sex": "M", "nationalities": ["TJK"]},
}  # fmt: skip


def crossing(surname: str, given: str, dob: str, sex: str, at: dt.datetime) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()), "type": "border_crossing",
        "occurred_at": at.isoformat(),  # "...T13:15:00+05:00": the post's own clock
        "reported_by": "KAZ-BORDER", "country": "KAZ",
        "location": {"code": "KZ-ALA-AIR", "name": "Almaty International Airport", "kind": "air"},
        "direction": "entry",
        "traveller": {"surname": surname, "given_names": given, "date_of_birth": dob, "sex": sex,
                      "nationality": "UZB"},
        "document": {"number": f"ZZ{uuid.uuid4().int % 10**7:07d}", "issuing_state": "UZB",
                     "type": "P", "expiry_date": "2031-05-01"},
    }  # fmt: skip


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as found:
        yield found


def russian_console(tmp_path: Path) -> tuple[Path, Path]:
    """The console directory, and its accounts all in Russian (as a bureau would set them)."""
    directory = console_directory()
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(yaml.safe_dump(accounts_for(directory, language="ru")), "utf-8")
    return write_directory(tmp_path / "cp.yaml", directory), accounts


async def sign_in(browser: Browser, port: int, contact_point: str) -> Page:
    # The officer's screen keeps another zone than the post's: nothing shown may depend on it.
    context = await browser.new_context(
        viewport=TALL, locale="en-GB", timezone_id="America/Los_Angeles"
    )
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{port}/console/")
    account = account_name(contact_point)
    await page.fill("#account", account)
    await page.fill("#password", password_of(account))
    await page.press("#password", "Enter")
    await expect(page.locator("#live.on")).to_be_visible(timeout=10_000)
    return page


async def test_russian_and_uzbek_consoles_show_post_time_both_sides_and_protection_first(
    topics: CommonSettings,
    matcher: tuple[ServiceProcess, int],
    browser: Browser,
    tmp_path: Path,
) -> None:
    process, port = matcher
    await produce_json(
        topics, topics.topic("watchlist.entries"), [(e["entry_id"], e) for e in (YELLOW, RED)]
    )
    process.start()
    await asyncio.to_thread(process.wait_http, f"http://127.0.0.1:{port}/readyz", 90)

    # Sent as the post's clock reads, +05:00; a few minutes ago.
    at = dt.datetime.now(PLUS5).replace(second=0, microsecond=0) - dt.timedelta(minutes=2)
    minor = crossing("SINTOVA", "ALIYA", "2011-04-02", "F", at)
    adult = crossing("SINTETOV", "BAKHTIYOR", "1979-10-21", "M", at + dt.timedelta(seconds=30))
    yellow_id = alert_id_for(minor["event_id"], "YEL-L-1")
    red_id = alert_id_for(adult["event_id"], "RED-L-1")
    local, utc = at.strftime("%H:%M"), at.astimezone(dt.UTC).strftime("%H:%M")

    path, accounts = russian_console(tmp_path)
    settings = notifier_settings(topics, path, notifier_accounts_path=accounts)
    async with NotifierApp(settings) as app:
        page = await sign_in(browser, app.port, "KAZ-NCB")
        await expect(page.locator("html")).to_have_attribute("lang", "ru")  # the account's
        await expect(page.locator("#signout")).to_have_text("Выйти")
        # Sent to ingest's HTTP API as the border agency would, with the post's +05:00.
        agencies = tmp_path / "agencies.yaml"
        write_agencies(agencies, kaz_keys=[KAZ_KEY])
        config = ingest_settings(topics, agencies, ingest_raw_enabled=False)
        async with serving(config, free_port()) as url, httpx.AsyncClient(base_url=url) as client:
            for event in (minor, adult):
                sent = await client.post(
                    "/v1/events", json=event, headers={"Authorization": f"Bearer {KAZ_KEY}"}
                )
                assert sent.status_code == 202, sent.text

        # --- the inbox, in Russian ---
        row = page.locator(f'[data-alert="{yellow_id}"]')
        await row.wait_for(timeout=60_000)
        await page.locator(f'[data-alert="{red_id}"]').wait_for(timeout=30_000)
        await expect(row).to_contain_text("Жёлтое уведомление")
        await expect(row).to_contain_text("несовершеннолетний")
        # The list is short: the time, and UTC's date too when it is another day than the post's.
        at_utc = at.astimezone(dt.UTC)
        utc_short = utc if at_utc.date() == at.date() else f"{at_utc:%Y-%m-%d %H:%M:%S}"
        await expect(row.locator(".when")).to_have_text(f"{local} (UTC+05:00) · {utc_short} UTC")
        # The countdown runs on the server's clock and an absolute deadline (5 minutes).
        await expect(row.locator(".timer")).to_have_text(
            re.compile(r"^эскалация через [0-4]:[0-5]\d$")
        )
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "console-ru-inbox.png"))

        # --- the detail: protection first, then both sides ---
        await row.click()
        body = page.locator("#detail-body")
        await expect(body.locator(":scope > :first-child")).to_have_class("protection")
        await expect(body.locator(".protection h3")).to_have_text(
            "Пропавший ребёнок: прежде всего защитите ребёнка"
        )
        await expect(body.locator(".protection li")).to_have_count(5)
        day = at.strftime("%Y-%m-%d")
        when = f"{day} {local}:00 (UTC+05:00) · {at.astimezone(dt.UTC):%Y-%m-%d} {utc}:00 UTC"
        await expect(body.locator(".when-line")).to_have_text(when)
        event_side, entry_side = body.locator(".event-side"), body.locator(".entry-side")
        await expect(event_side).to_contain_text("Данные события")
        await expect(event_side).to_contain_text(when)
        await expect(entry_side).to_contain_text("Данные списка")
        await expect(entry_side).to_contain_text("Синтова Алия")  # names in every script held
        await expect(entry_side).to_contain_text("SINTOVA ALIYA")
        await expect(entry_side).to_contain_text("2011-04-02")
        await expect(entry_side).to_contain_text("Возраст на день события")
        age = at.year - 2011 - ((at.month, at.day) < (4, 2))
        await expect(entry_side.locator("dt:text-is('Возраст на день события') + dd")).to_have_text(
            str(age)
        )
        await expect(entry_side).to_contain_text("взять под защиту")
        await page.screenshot(path=str(ARTIFACTS / "console-ru-detail.png"))

        # --- switching to Uzbek keeps the selected alert ---
        await page.select_option("#lang", "uz")
        await expect(page.locator("html")).to_have_attribute("lang", "uz")
        await expect(row).to_have_attribute("aria-current", "true")
        await expect(body.locator("h2")).to_have_text("SINTOVA ALIYA")
        await expect(body.locator(".protection h3")).to_have_text(
            "Bedarak yoʻqolgan bola: avvalo bolani himoya qiling"
        )
        await expect(body.locator(".entry-side")).to_contain_text("Roʻyxat maʼlumotlari")
        await expect(body.locator(".entry-side")).to_contain_text("Синтова Алия")
        await expect(body.locator(".entry-side")).to_contain_text("Hodisa kunidagi yoshi")
        await expect(body.locator(".when-line")).to_have_text(when)
        await expect(row).to_contain_text("Sariq xabarnoma")
        await expect(page.locator("#signout")).to_have_text("Chiqish")
        await page.screenshot(path=str(ARTIFACTS / "console-uz-detail.png"))
        # Every other language the same way, from its catalogue.
        for lang in ("kk", "ky", "tg", "tk", "en"):
            await page.select_option("#lang", lang)
            await expect(page.locator("html")).to_have_attribute("lang", lang)
            words = translator(lang).gettext
            await expect(body.locator(".protection h3")).to_have_text(words(PROTECTION_TITLE))
            await expect(row).to_contain_text(words("Yellow Notice"))
            await expect(row).to_have_attribute("aria-current", "true")
            await page.screenshot(path=str(ARTIFACTS / f"console-{lang}-detail.png"))
        await page.select_option("#lang", "uz")
        await page.locator(f'[data-alert="{red_id}"]').click()
        await expect(body.locator(".protection")).to_have_count(0)  # an adult's red notice
        await expect(body.locator(".entry-side")).to_contain_text("Синтетов Бахтиёр")
        await page.screenshot(path=str(ARTIFACTS / "console-uz-inbox.png"))

        # A reload keeps the officer's choice over the account's language.
        await page.reload()
        await expect(page.locator("html")).to_have_attribute("lang", "uz")

    # What the console showed is what the real matcher produced: the listed side included.
    async with TopicReader(topics, topics.topic("alerts")) as alerts:
        records = await alerts.until(lambda rs: len(rs) >= 2, 10)
    produced = {a.alert_id: a for a in (decode(Alert, r.value) for r in records)}
    yellow = produced[yellow_id]
    assert yellow.subject_minor is True
    assert yellow.entry_person is not None
    assert [n.surname for n in yellow.entry_person.names] == ["Синтова", "SINTOVA"]
    assert yellow.occurred_at.utcoffset() == dt.timedelta(hours=5)
    assert orjson.loads(records[0].value)["occurred_at"].endswith("+05:00")
