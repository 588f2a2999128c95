"""The demo sign-in, as ``relay run`` prints it, opens the console as KAZ's duty officer, who
sees live alerts that the simulator's traffic raised through the whole relay (ingest,
matcher, notifier as processes on a real broker; Debian's Chromium)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from services.common.settings import CommonSettings
from tests.support.console_data import ARTIFACTS, SCREEN, chromium
from tests.support.process import ServiceProcess
from tests.support.stack import StackSpec, leaks_in_logs, open_stack, start_all

pytestmark = [pytest.mark.timeout(400)]


def printed_sign_in(text: str) -> tuple[str, str, str]:
    """(console URL, account, password) from the printed sign-in."""
    fields = {}
    for name in ("console sign-in", "account", "password"):
        found = re.search(rf"^\s*{name}\s+(\S+)", text, re.MULTILINE)
        assert found, f"no {name} in:\n{text}"
        fields[name] = found.group(1)
    return fields["console sign-in"], fields["account"], fields["password"]


async def test_the_printed_demo_sign_in_shows_kaz_live_alerts(
    topics: CommonSettings, tmp_path: Path
) -> None:
    spec = StackSpec(topics.kafka_bootstrap, topics.topic_prefix)
    with open_stack(spec, tmp_path) as stack:
        start_all(stack)
        await asyncio.to_thread(stack.ready)
        args = ("simulate", "--rate", "20", "--duration", "600", "--listed-share", "0.3",
                "--url", stack.url("ingest", ""), "--keys", str(stack.demo / "api-keys.json"),
                "--watchlist", str(stack.demo / "demo-watchlist.jsonl"))  # fmt: skip
        simulator = ServiceProcess("services.cli.main", stack.env, tmp_path / "sim.log", args)
        stack.processes["simulator"] = simulator.start()
        # What `relay run` prints after its services are up (the same function prints it).
        shown = stack.relay(
            "demo", "sign-in", "--dir", str(stack.demo), "--url", stack.url("notifier", "/console/")
        ).stdout
        url, account, password = printed_sign_in(shown)
        assert account == "kaz.duty1"
        async with chromium() as browser:
            page = await (await browser.new_context(viewport=SCREEN)).new_page()
            await page.goto(url)
            await page.fill("#account", account)
            await page.fill("#password", password)
            await page.press("#password", "Enter")
            await expect(page.locator("#who")).to_contain_text("kaz.duty1")
            await expect(page.locator("#who")).to_contain_text("KAZ")
            first = page.locator("#list [data-alert]").first
            await first.wait_for(timeout=120_000)  # the simulator's listed travellers
            await page.screenshot(path=str(ARTIFACTS / "console-demo-sign-in-kaz.png"))
            assert await page.locator("#list [data-alert]").count() >= 1
        passwords = (stack.demo / "console-passwords.json").read_text("utf-8")
        assert leaks_in_logs(stack, set(re.findall(r'": "([^"]+)"', passwords))) == []
