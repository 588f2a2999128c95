"""Console sign-in through a real OpenID Connect provider (Keycloak from Maven Central, started
by the test with its realm imported): authorization code with PKCE, in Debian's Chromium. The
provider says who the officer is; the accounts file says what the officer may do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.async_api import Browser, Page, expect

from schemas.codec import decode
from schemas.notification import AuditAction, AuditRecord
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from services.notifier.settings import NotifierSettings
from tests.peers.keycloak import Keycloak, running_keycloak
from tests.support.accounts import accounts_for
from tests.support.broker import free_port
from tests.support.console_data import ARTIFACTS, SCREEN, chromium, console_directory
from tests.support.kafka_io import TopicReader
from tests.support.notifier_data import make_alert
from tests.support.notifier_harness import notifier_settings, produce_alerts, write_directory

pytestmark = [pytest.mark.timeout(600)]
OFFICER = "kaz.oidc1"


@pytest.fixture(scope="module")
def keycloak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keycloak]:
    with running_keycloak(tmp_path_factory.mktemp("keycloak")) as found:
        yield found


def _settings(topics: CommonSettings, tmp_path: Path, keycloak: Keycloak) -> NotifierSettings:
    directory = console_directory()
    accounts = accounts_for(directory)
    subject, _ = keycloak.user("synth.kaz.duty")
    accounts["accounts"].append({
        "account": OFFICER, "name": "Synth Dutyofficer", "country": "KAZ",
        "role": "duty_officer", "contact_point": "KAZ-NCB", "language": "ru",
        "oidc_subject": subject,
    })  # fmt: skip
    accounts_path = tmp_path / "accounts.yaml"
    accounts_path.write_text(yaml.safe_dump(accounts), "utf-8")
    port = free_port()
    client_id, secret = keycloak.client()
    return notifier_settings(
        topics, write_directory(tmp_path / "cp.yaml", directory),
        notifier_accounts_path=accounts_path, notifier_http_port=port,
        notifier_public_url=f"http://127.0.0.1:{port}", notifier_oidc_issuer=keycloak.issuer,
        notifier_oidc_client_id=client_id, notifier_oidc_client_secret=secret,
        notifier_oidc_label="Sign in with the bureau's Keycloak",
    )  # fmt: skip


async def _through_keycloak(browser: Browser, base: str, keycloak: Keycloak, user: str) -> Page:
    page = await (await browser.new_context(viewport=SCREEN)).new_page()
    await page.goto(f"{base}/console/")
    button = page.locator("#oidc")
    await expect(button).to_have_text("Sign in with the bureau's Keycloak")
    await button.click()
    await page.wait_for_url(f"{keycloak.issuer}/**")  # the provider's own sign-in page
    _, password = keycloak.user(user)
    await page.fill("#username", user)
    await page.fill("#password", password)
    await page.click("#kc-login")
    return page


async def test_an_officer_signs_in_through_keycloak(
    topics: CommonSettings, tmp_path: Path, keycloak: Keycloak
) -> None:
    settings = _settings(topics, tmp_path, keycloak)
    alert = make_alert()  # in KAZ
    async with NotifierApp(settings) as app, chromium() as browser:
        base = f"http://127.0.0.1:{app.port}"
        await produce_alerts(topics, [alert])
        page = await _through_keycloak(browser, base, keycloak, "synth.kaz.duty")
        await expect(page.locator("#who")).to_contain_text(OFFICER)
        row = page.locator(f'[data-alert="{alert.alert_id}"]')
        await row.wait_for(timeout=15_000)
        await page.screenshot(path=str(ARTIFACTS / "console-oidc-keycloak.png"))

        # Known to the provider, unknown to the console: no session.
        stranger = await _through_keycloak(browser, base, keycloak, "synth.no.account")
        await expect(stranger.locator("body")).to_contain_text("no console account")

        async with httpx.AsyncClient(base_url=base) as client:
            # A callback without the flow this browser started is refused.
            forged = await client.get("/console/oidc/callback", params={"code": "x", "state": "y"})
            assert forged.status_code == 401
            assert (await client.get("/console/api/alerts")).status_code == 401
        async with TopicReader(topics, topics.topic("notifications.audit")) as reader:
            records = await reader.until(
                lambda rs: sum(b"sign_in_refused" in (r.value or b"") for r in rs) >= 2, 15
            )
    audit = [decode(AuditRecord, r.value) for r in records if r.value]
    [signed] = [a for a in audit if a.action is AuditAction.SIGNED_IN]
    assert (signed.actor, signed.details["method"]) == (f"KAZ-NCB/{OFFICER}", "oidc")
    refused = [a for a in audit if a.action is AuditAction.SIGN_IN_REFUSED]
    assert {a.details["method"] for a in refused} == {"oidc"}
