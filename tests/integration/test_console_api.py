"""The console's HTTP rules without a browser: sessions, CSRF, origin, password change, headers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import yaml

from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.support.accounts import FAST, account_name, sign_in
from tests.support.console_data import console_directory, wait_in_stream
from tests.support.notifier_data import make_alert
from tests.support.notifier_harness import notifier_settings, produce_alerts, write_directory


async def test_sessions_csrf_and_password_change(topics: CommonSettings, tmp_path: Path) -> None:
    raw = console_directory()
    path = write_directory(tmp_path / "cp.yaml", raw)
    settings = notifier_settings(topics, path)
    alert = make_alert()
    async with NotifierApp(settings) as app:
        base = f"http://127.0.0.1:{app.port}"
        async with httpx.AsyncClient(base_url=base) as client:
            page = await client.get("/console/")
            assert "script-src 'self'" in page.headers["content-security-policy"]
            assert page.headers["x-frame-options"] == "DENY"
            for url in ("/console/api/alerts", f"/console/api/alerts/{alert.alert_id}",
                        "/console/api/stream", "/console/api/session"):  # fmt: skip
                assert (await client.get(url)).status_code == 401, url
            assert (await sign_in(client, "NOBODY")).status_code == 401
            wrong = {"account": account_name("KAZ-NCB"), "password": "not-the-password"}
            assert (await client.post("/console/api/session", json=wrong)).status_code == 401
            signed = await sign_in(client, "KAZ-NCB")
            assert signed.status_code == 200
            cookie = signed.headers["set-cookie"].lower()
            assert "httponly" in cookie
            assert "samesite=strict" in cookie
            assert "path=/console" in cookie
            csrf = signed.json()["csrf"]

            await produce_alerts(topics, [alert])
            snapshot = await asyncio.wait_for(wait_in_stream(client, alert.alert_id), 10)
            assert snapshot["country"] == "KAZ"

            url = f"/console/api/alerts/{alert.alert_id}/ack"
            good = {"X-CSRF-Token": csrf}
            no_token = await client.post(url, json={"comment": "x"})
            foreign = await client.post(
                url, json={"comment": "x"}, headers={**good, "Origin": "http://evil.example"}
            )
            form = await client.post(url, data={"comment": "x"}, headers=good)
            blank = await client.post(url, json={"comment": "   "}, headers=good)
            unknown = await client.post(
                f"/console/api/alerts/{alert.alert_id}/delete", json={"comment": "x"}, headers=good
            )
            assert (no_token.status_code, foreign.status_code) == (403, 403)
            assert (form.status_code, blank.status_code, unknown.status_code) == (415, 422, 404)
            assert (await client.get(f"/console/api/alerts/{alert.alert_id}")).json()["acks"] == []

            resolved = await client.post(
                f"/console/api/alerts/{alert.alert_id}/resolved",
                json={"comment": "person detained"}, headers=good,
            )  # fmt: skip
            assert resolved.status_code == 200
            assert resolved.json()["state"] == "resolved"

            # A new password ends the sessions opened with the old one.
            accounts_path = settings.notifier_accounts_path
            assert accounts_path is not None
            accounts = yaml.safe_load(accounts_path.read_text("utf-8"))
            mine = next(a for a in accounts["accounts"] if a["account"] == signed.json()["account"])
            mine["password_hash"] = FAST.hash("a-new-password")
            app.accounts.changed.clear()
            accounts_path.write_text(yaml.safe_dump(accounts), "utf-8")
            await asyncio.wait_for(app.accounts.changed.wait(), 10)
            assert (await client.get("/console/api/alerts")).status_code == 401
            again = {"account": mine["account"], "password": "a-new-password"}
            assert (await client.post("/console/api/session", json=again)).status_code == 200
