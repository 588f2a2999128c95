"""What a hostile tester tried against the running notifier (real HTTP, real broker): forged
sessions, sessions that outlive sign-out, reused or re-purposed ack links, another country's
comments through the API, odd bytes in every token, and a /metrics open to anyone."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.notification import Notification
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from services.notifier.console import session as sessions
from tests.support.accounts import account_name, sign_in
from tests.support.console_data import console_directory
from tests.support.notifier_data import make_alert
from tests.support.notifier_harness import (
    notifier_settings,
    produce_alerts,
    read_until,
    write_directory,
)

PLACEHOLDERS = ("change-me-notifier-link-secret", "change-me-to-32-random-bytes", "change-me")


def _old_style_cookie(secret: bytes, contact_point: str) -> str:
    """The cookie the code used to issue: an expiry claim, signed with a key derived from the
    link secret (so any built-in link secret forged it)."""
    key = hmac.new(secret, b"relay-console-session/1", hashlib.sha256).digest()
    fp = hashlib.sha256(b"fp:None").hexdigest()[:16]
    payload = f"{contact_point}|9999999999|{fp}|nonce".encode()
    mac = base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest())
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{mac.decode().rstrip('=')}"


def _forgeries() -> list[str]:
    forged = [
        _old_style_cookie(p.encode(), cp) for p in PLACEHOLDERS for cp in ("XPO-CC", "KAZ-NCB")
    ]
    for placeholder in PLACEHOLDERS:  # today's cookie format under a guessable key
        keys = sessions.SessionKeys(current=placeholder.encode())
        forged.append(sessions.issue(keys, "xpo-cc.supervisor", "0" * 64, 1_900_000_000))
    return forged


@pytest.fixture
async def notifier(topics: CommonSettings, tmp_path: Path) -> Any:
    raw = console_directory()
    settings = notifier_settings(topics, write_directory(tmp_path / "cp.yaml", raw))
    async with NotifierApp(settings) as app:
        yield app


def other_url(app: NotifierApp) -> str:
    return f"http://127.0.0.1:{app.port}"


async def _signed_in(client: httpx.AsyncClient, cp_id: str) -> str:
    answer = await sign_in(client, cp_id)
    assert answer.status_code == 200
    csrf: str = answer.json()["csrf"]
    return csrf


async def _wait_held(app: NotifierApp, alert_id: str, recipients: int) -> list[Notification]:
    """Once the alert's jobs for ``recipients`` contact points are stored (written after the
    inbox holds them), the jobs as the inbox has them."""

    def routed(records: list[Any]) -> bool:
        jobs = {r.key for r in records if r.value and alert_id.encode() in r.value}
        return len(jobs) >= recipients

    await read_until(app.settings, "notifications.deliveries", routed, 15)
    view = app.engine.inbox.alerts[alert_id]
    return list(view.notifications.values())


def test_the_notifier_refuses_to_start_with_a_placeholder_or_short_secret(tmp_path: Path) -> None:
    for link, session in [
        ("change-me-notifier-link-secret", "S" * 8 + os.urandom(16).hex()),
        (os.urandom(16).hex(), "short"),
        (None, os.urandom(16).hex() + "Ab"),
    ]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAY_")}
        env |= {"RELAY_NOTIFIER_SESSION_SECRET": session, "RELAY_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
        if link is not None:
            env["RELAY_NOTIFIER_LINK_SECRET"] = link
        done = subprocess.run(
            [sys.executable, "-m", "services.notifier"], env=env, capture_output=True,
            text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode != 0
        assert "refusing to start" in done.stderr
        assert "RELAY_NOTIFIER" in done.stderr or "notifier_link_secret" in done.stderr
        assert link is None or link not in done.stderr  # the value itself is never echoed


async def test_forged_sessions_and_unknown_or_changed_accounts_are_refused(
    notifier: NotifierApp,
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{notifier.port}") as client:
        for cookie in _forgeries():
            client.cookies.set(sessions.COOKIE, cookie, path="/console")
            for url in ("/console/api/alerts", "/console/api/session"):
                assert (await client.get(url)).status_code == 401
        # Even a cookie signed with the real key cannot name an account that does not exist,
        # nor one whose credentials or role are not the ones the session was issued for.
        keys = sessions.SessionKeys(
            notifier.settings.notifier_session_secret.get_secret_value().encode()
        )
        now = int(time.time())
        for account in ("nobody", account_name("KAZ-NCB")):
            cookie = sessions.issue(keys, account, "0" * 64, now)
            client.cookies.set(sessions.COOKIE, cookie, path="/console")
            assert (await client.get("/console/api/alerts")).status_code == 401


async def test_signing_out_ends_the_session_for_every_replica(
    topics: CommonSettings, notifier: NotifierApp
) -> None:
    base = f"http://127.0.0.1:{notifier.port}"
    async with httpx.AsyncClient(base_url=base) as client:
        csrf = await _signed_in(client, "KAZ-NCB")
        cookie = client.cookies.get(sessions.COOKIE)
        out = await client.post("/console/api/session/end", json={}, headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200
    async with httpx.AsyncClient(base_url=base, cookies={sessions.COOKIE: cookie or ""}) as old:
        assert (await old.get("/console/api/alerts")).status_code == 401
    # A second replica, started afterwards, learns it from the revocations topic.
    twin = notifier.settings.model_copy(update={"notifier_http_port": 0})
    async with NotifierApp(twin) as other, httpx.AsyncClient(base_url=other_url(other)) as old:
        old.cookies.set(sessions.COOKIE, cookie or "", path="/console")
        assert (await old.get("/console/api/alerts")).status_code == 401


async def test_the_api_inbox_shows_what_the_console_shows(
    topics: CommonSettings, notifier: NotifierApp
) -> None:
    alert = make_alert()  # event in KAZ, issued by UZB: both are recipients
    await produce_alerts(topics, [alert])
    await _wait_held(notifier, alert.alert_id, 2)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{notifier.port}") as client:
        uzb = {"Authorization": "Bearer key-UZB-NCB"}
        comment = {"comment": "internal: our source in the airport says otherwise"}
        answer = await client.post(
            f"/v1/alerts/{alert.alert_id}/cannot-act", json=comment, headers=uzb
        )
        assert answer.status_code == 200
        csrf = await _signed_in(client, "KAZ-NCB")
        assert csrf
        console = (await client.get(f"/console/api/alerts/{alert.alert_id}")).json()
        for key in ("key-KAZ-NCB", "key-TJK-NCB"):
            inbox = await client.get("/v1/inbox", headers={"Authorization": f"Bearer {key}"})
            text = inbox.text
            assert "our source in the airport" not in text
            assert "UZB-NCB" not in [
                d["recipient"] for a in inbox.json()["alerts"] for d in a["deliveries"]
            ]
        [shown] = (
            await client.get("/v1/inbox", headers={"Authorization": "Bearer key-KAZ-NCB"})
        ).json()["alerts"]
        assert shown["deliveries"] == console["deliveries"]
        assert shown["acks"] == console["acks"]
        # TJK was never a recipient: its inbox is empty.
        tjk = await client.get("/v1/inbox", headers={"Authorization": "Bearer key-TJK-NCB"})
        assert tjk.json()["alerts"] == []


async def test_an_ack_link_works_once_for_its_own_action_only(
    topics: CommonSettings, notifier: NotifierApp
) -> None:
    alert = make_alert()
    await produce_alerts(topics, [alert])
    jobs = await _wait_held(notifier, alert.alert_id, 2)
    kaz = next(n for n in jobs if n.recipient == "KAZ-NCB")
    url = notifier.engine.ack_url(kaz)
    path, token = url.split("?token=")
    path = path.removeprefix(notifier.engine.config.public_url)
    cp, action, expiry, nonce, mac = token.split(".")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{notifier.port}") as client:
        page = await client.get(path, params={"token": token})
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert "?token=" not in page.text  # the token goes in the form's body
        base = path.rsplit("/", 1)[0]
        resolved = await client.post(f"{base}/resolved", params={"token": token})
        assert resolved.status_code == 403  # an acknowledge link never resolves
        for odd in (f"{cp}.{action}.0{expiry}.{nonce}.{mac}", f"{cp}.{action}.٢٠٠.{nonce}.{mac}"):
            assert (await client.post(path, params={"token": odd})).status_code == 401
        first = await client.post(path, data={"token": token})  # the confirm page's form
        assert first.status_code == 200
        for _ in range(3):
            again = await client.post(path, params={"token": token})
            assert again.status_code == 401
        assert (await client.get(path, params={"token": token})).status_code == 401
    acks = [
        a for a in notifier.engine.inbox.alerts[alert.alert_id].acks if a.contact_point == "KAZ-NCB"
    ]
    assert len(acks) == 1


ODD = ["\xe9", "²", "é" * 50, "a.b.c.d.é", "..", "\x7f", "٣"]


async def test_odd_bytes_in_any_token_give_400_or_401_never_500(notifier: NotifierApp) -> None:
    alert_path = "/v1/alerts/a-" + "0" * 32
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{notifier.port}") as client:
        csrf = await _signed_in(client, "KAZ-NCB")
        assert csrf
        good_cookie = client.cookies.get(sessions.COOKIE) or ""
        for odd in ODD:
            raw = (
                odd.encode("latin-1", "replace") if odd.isascii() or len(odd) == 1 else odd.encode()
            )
            answers = [
                await client.post(f"{alert_path}/ack", params={"token": odd}),
                await client.get(f"{alert_path}/ack", params={"token": f"x.ack.{odd}.n.m"}),
                await client.post(
                    f"{alert_path}/ack", headers={b"authorization": b"Bearer " + raw}
                ),
                await client.get("/v1/inbox", headers={b"authorization": b"Bearer " + raw}),
                await client.post(
                    "/console/api/session/end",
                    json={},
                    headers={
                        b"x-csrf-token": raw,
                        b"cookie": f"{sessions.COOKIE}={good_cookie}".encode(),
                    },
                ),
                await client.get(
                    "/console/api/alerts", headers={b"cookie": b"relay_console=" + raw}
                ),
                await client.get(
                    "/console/api/alerts",
                    headers={b"cookie": f"{sessions.COOKIE}={good_cookie}".encode() + raw},
                ),
            ]
            statuses = [a.status_code for a in answers]
            assert all(s in (400, 401, 403, 404, 422) for s in statuses), (odd, statuses)


async def test_metrics_need_the_token_when_one_is_set(
    topics: CommonSettings, console_directory_path: Path
) -> None:
    token = os.urandom(24).hex()
    settings = notifier_settings(topics, console_directory_path, metrics_token=token)
    async with NotifierApp(settings) as app, httpx.AsyncClient(base_url=other_url(app)) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={b"authorization": b"Bearer \xe9"})
        assert wrong.status_code == 401
        right = await client.get("/metrics", headers={"authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert "relay_" in right.text
