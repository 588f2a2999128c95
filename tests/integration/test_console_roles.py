"""Each console role sees only what it may: every console route, tried with every role, on a
running notifier (real HTTP, real broker), and each role's console in Debian's Chromium; and
every answer carries the officer's name into the audit trail."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
from playwright.async_api import expect
from starlette.routing import Route

from schemas.codec import decode
from schemas.notification import Acknowledgement, AuditAction, AuditRecord
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from services.notifier.console.principal import Role
from tests.support.accounts import account_name, password_of, sign_in
from tests.support.console_data import (
    ARTIFACTS,
    SCREEN,
    chromium,
    console_directory,
    wait_in_stream,
)
from tests.support.kafka_io import TopicReader
from tests.support.notifier_data import make_alert
from tests.support.notifier_harness import notifier_settings, produce_alerts, write_directory

ALL = frozenset(Role)
INBOX = frozenset({Role.DUTY_OFFICER, Role.SUPERVISOR})
PUBLIC = "public"  # no sign-in needed (the page, its files, the sign-in itself)
# Every console route -> the roles that may use it. A route missing here fails the test: a new
# route needs its decision written down.
POLICY: dict[tuple[str, str], frozenset[Role] | str] = {
    ("GET", "/console"): PUBLIC,
    ("GET", "/console/"): PUBLIC,
    ("GET", "/console/static/{name}"): PUBLIC,
    ("GET", "/console/static/vendor/{name}"): PUBLIC,
    ("GET", "/console/i18n/{lang}"): PUBLIC,
    ("GET", "/console/api/session/options"): PUBLIC,
    ("POST", "/console/api/session"): PUBLIC,
    ("GET", "/console/oidc/start"): PUBLIC,
    ("GET", "/console/oidc/callback"): PUBLIC,
    ("GET", "/console/api/session"): ALL,
    ("POST", "/console/api/session/end"): ALL,
    ("GET", "/console/api/alerts"): INBOX,
    ("GET", "/console/api/alerts/{alert_id}"): INBOX,
    ("POST", "/console/api/alerts/{alert_id}/{action}"): INBOX,
    ("POST", "/console/api/alerts/{alert_id}/outcome"): INBOX,
    ("GET", "/console/api/reports"): INBOX,
    ("GET", "/console/api/stream"): INBOX,
    ("GET", "/console/api/supervision"): frozenset({Role.SUPERVISOR}),
    ("GET", "/console/api/audit"): frozenset({Role.AUDITOR}),
    ("GET", "/console/api/leads"): frozenset({Role.ANALYST}),
    ("GET", "/console/api/leads/export"): frozenset({Role.ANALYST}),
    ("GET", "/console/api/leads/{lead_id}"): frozenset({Role.ANALYST}),
    ("GET", "/console/api/leads/{lead_id}/export"): frozenset({Role.ANALYST}),
    ("GET", "/console/api/suppressions"): frozenset({Role.SUPERVISOR, Role.AUDITOR}),
    ("POST", "/console/api/suppressions/{suppression_id}/confirm"): frozenset({Role.SUPERVISOR}),
    ("POST", "/console/api/suppressions/{suppression_id}/revoke"): frozenset({Role.SUPERVISOR}),
}


def console_routes(app: NotifierApp) -> set[tuple[str, str]]:
    return {(m, p) for m, p in _walk(app.routes, "") if p.startswith("/console")}


def _walk(routes: Iterable[object], prefix: str) -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, Route):
            yield from ((m, prefix + route.path) for m in route.methods or () if m != "HEAD")
        elif hasattr(route, "original_router"):  # FastAPI keeps an included router whole
            context = route.include_context  # type: ignore[attr-defined]
            yield from _walk(route.original_router.routes, prefix + context.prefix)


def concrete(path: str, alert_id: str) -> str:
    values = {"alert_id": alert_id, "action": "ack", "name": "app.js", "lang": "en",
              "lead_id": "L-none", "suppression_id": "S-none"}  # fmt: skip
    for key, value in values.items():
        path = path.replace("{" + key + "}", value)
    return path


async def _try(client: httpx.AsyncClient, method: str, path: str, csrf: str) -> int:
    if path.endswith("/stream"):
        async with client.stream("GET", path) as stream:
            return stream.status_code  # the stream's first bytes are enough
    if method == "GET":
        return (await client.get(path)).status_code
    body = {"comment": "role test", "outcome": "located"}
    return (await client.post(path, json=body, headers={"X-CSRF-Token": csrf})).status_code


async def test_every_console_route_with_every_role(topics: CommonSettings, tmp_path: Path) -> None:
    settings = notifier_settings(topics, write_directory(tmp_path / "cp.yaml", console_directory()))
    alert = make_alert()  # in KAZ, issued by UZB
    async with NotifierApp(settings) as app:
        served = console_routes(app)
        assert {("GET", "/console/api/alerts"), ("POST", "/console/api/session")} <= served
        assert served - POLICY.keys() == set(), "a console route without a role decision"
        await produce_alerts(topics, [alert])
        base = f"http://127.0.0.1:{app.port}"
        async with httpx.AsyncClient(base_url=base) as anyone:
            for method, path in sorted(served):
                status = await _try(anyone, method, concrete(path, alert.alert_id), "")
                expected_public = POLICY[(method, path)] == PUBLIC
                assert (status != 401) == expected_public, (method, path, status)
        refused: dict[Role, set[str]] = {}
        for role in Role:
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                signed = await sign_in(client, "KAZ-NCB", role)
                assert signed.status_code == 200, signed.text
                assert signed.json()["role"] == role.value
                csrf = signed.json()["csrf"]
                if role in INBOX:
                    await asyncio.wait_for(wait_in_stream(client, alert.alert_id), 15)
                # sign-out last: it ends the session
                for method, path in sorted(served, key=lambda r: r[1].endswith("/end")):
                    status = await _try(client, method, concrete(path, alert.alert_id), csrf)
                    allowed = POLICY[(method, path)]
                    if allowed == PUBLIC:
                        continue
                    assert status not in (401,), (role, method, path)
                    if role in allowed:
                        assert status != 403, (role, method, path, status)
                    else:
                        assert status == 403, (role, method, path, status)
                        refused.setdefault(role, set()).add(path)
        assert "/console/api/alerts" in refused[Role.ANALYST]
        assert "/console/api/alerts" in refused[Role.AUDITOR]
        assert "/console/api/leads" in refused[Role.DUTY_OFFICER]


async def test_an_answer_names_the_officer_in_the_audit_trail_and_to_the_supervisor(
    topics: CommonSettings, tmp_path: Path
) -> None:
    settings = notifier_settings(topics, write_directory(tmp_path / "cp.yaml", console_directory()))
    alert = make_alert()
    officer = "KAZ-NCB/kaz-ncb.duty_officer"
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, [alert])
        base = f"http://127.0.0.1:{app.port}"
        async with (
            httpx.AsyncClient(base_url=base) as duty,
            httpx.AsyncClient(base_url=base) as supervisor,
        ):
            csrf = (await sign_in(duty, "KAZ-NCB")).json()["csrf"]
            await asyncio.wait_for(wait_in_stream(duty, alert.alert_id), 15)
            answer = await duty.post(
                f"/console/api/alerts/{alert.alert_id}/ack",
                json={"comment": "taken by the duty officer"},
                headers={"X-CSRF-Token": csrf},
            )
            assert answer.status_code == 200, answer.text
            assert (await duty.get("/console/api/supervision")).status_code == 403
            await sign_in(supervisor, "KAZ-NCB", Role.SUPERVISOR)
            seen = (await supervisor.get("/console/api/supervision")).json()
        [answered] = seen["answers"]
        assert (answered["alert_id"], answered["by"]) == (alert.alert_id, officer)
        assert answered["comment"] == "taken by the duty officer"
        async with TopicReader(topics, topics.topic("notifications.audit")) as reader:
            records = await reader.until(
                lambda rs: any(
                    r.value and b'"acknowledged"' in r.value and officer.encode() in r.value
                    for r in rs
                ),
                15,
            )
        async with TopicReader(topics, topics.topic("notifications.acks")) as acks:
            stored = await acks.until(lambda rs: len(rs) >= 1, 15)
    audit = [decode(AuditRecord, r.value) for r in records if r.value]
    acked = [a for a in audit if a.action is AuditAction.ACKNOWLEDGED]
    assert {a.actor for a in acked} == {officer}
    assert [a.alert_id for a in acked] == [alert.alert_id]
    [ack] = [decode(Acknowledgement, r.value) for r in stored if r.value]
    assert (ack.contact_point, ack.answered_by) == ("KAZ-NCB", officer)


async def test_the_auditor_reads_the_audit_trail_of_the_country_only(
    topics: CommonSettings, tmp_path: Path
) -> None:
    settings = notifier_settings(topics, write_directory(tmp_path / "cp.yaml", console_directory()))
    async with NotifierApp(settings) as app:
        base = f"http://127.0.0.1:{app.port}"
        async with (
            httpx.AsyncClient(base_url=base) as kaz,
            httpx.AsyncClient(base_url=base) as tjk,
            httpx.AsyncClient(base_url=base) as auditor,
        ):
            assert (await sign_in(kaz, "KAZ-BACKUP")).status_code == 200
            assert (await sign_in(tjk, "TJK-NCB")).status_code == 200
            assert (await sign_in(auditor, "KAZ-NCB", Role.AUDITOR)).status_code == 200
            # sign-ins are stored before they answer: the trail has them now
            trail = (await auditor.get("/console/api/audit")).json()
            mine = (await auditor.get("/console/api/audit", params={"actor": "KAZ-NCB/x"})).json()
            change = await auditor.post("/console/api/audit", json={})
    actors = {(r["action"], r["actor"]) for r in trail["records"]}
    assert ("signed_in", "KAZ-BACKUP/kaz-backup.duty_officer") in actors
    assert ("signed_in", "KAZ-NCB/kaz-ncb.auditor") in actors
    assert not any(actor.startswith("TJK") for _, actor in actors)
    assert mine["records"] == []
    assert change.status_code == 405  # read-only


async def test_each_role_sees_its_own_console_in_the_browser(
    topics: CommonSettings, tmp_path: Path
) -> None:
    settings = notifier_settings(topics, write_directory(tmp_path / "cp.yaml", console_directory()))
    alert = make_alert()
    async with NotifierApp(settings) as app, chromium() as browser:
        await produce_alerts(topics, [alert])
        base = f"http://127.0.0.1:{app.port}"
        async with httpx.AsyncClient(base_url=base) as duty:
            csrf = (await sign_in(duty, "KAZ-NCB")).json()["csrf"]
            await asyncio.wait_for(wait_in_stream(duty, alert.alert_id), 15)
            answer = await duty.post(
                f"/console/api/alerts/{alert.alert_id}/resolved",
                json={"comment": "detained at gate 4"},
                headers={"X-CSRF-Token": csrf},
            )
            assert answer.status_code == 200, answer.text
        pages = {}
        for role in (Role.SUPERVISOR, Role.AUDITOR, Role.DUTY_OFFICER):
            page = await (await browser.new_context(viewport=SCREEN)).new_page()
            await page.goto(f"{base}/console/")
            account = account_name("KAZ-NCB", role)
            await page.fill("#account", account)
            await page.fill("#password", password_of(account))
            await page.press("#password", "Enter")
            await expect(page.locator("#who")).to_contain_text(account)
            pages[role] = page
        supervisor = pages[Role.SUPERVISOR]
        await supervisor.click("#supervision")
        body = supervisor.locator("#detail-body")
        await expect(body).to_contain_text("kaz-ncb.duty_officer")
        await expect(body).to_be_visible()
        await expect(body).to_contain_text("detained at gate 4")
        await supervisor.screenshot(path=str(ARTIFACTS / "console-supervisor-answers.png"))
        auditor = pages[Role.AUDITOR]
        trail = auditor.locator("#audit-list")
        await expect(trail).to_be_visible()
        await expect(trail).to_contain_text("signed_in")
        await expect(trail).to_contain_text("KAZ-NCB/kaz-ncb.supervisor")
        await expect(auditor.locator("#filters")).to_be_hidden()  # no inbox
        await auditor.screenshot(path=str(ARTIFACTS / "console-auditor-trail.png"))
        await expect(pages[Role.DUTY_OFFICER].locator("#supervision")).to_be_hidden()
