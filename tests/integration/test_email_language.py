"""An e-mail alert in the contact point's language: KAZ-NCB's directory entry says ``kk``, a real
notifier on the real broker sends a yellow notice of a minor to the test SMTP server, and the
mail is in Kazakh (protection steps first, the post's time with UTC beside), names and codes as
sent; its signed link opens a Kazakh confirm page whose form acknowledges the alert once."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.peers.smtp import SmtpPeer
from tests.support.console_data import ARTIFACTS
from tests.support.notifier_data import make_alert, standard_directory
from tests.support.notifier_harness import notifier_settings, produce_alerts, write_directory

PLUS5 = dt.timezone(dt.timedelta(hours=5))


def kazakh_directory(receiver_url: str) -> dict[str, Any]:
    directory = standard_directory(lambda name: f"{receiver_url}/{name}", email=True)
    for cp in directory["contact_points"]:
        if cp["id"] == "KAZ-NCB":
            cp["language"] = "kk"
            del cp["webhook"]  # e-mail only: the mail is what this test reads
    return directory


async def test_a_kazakh_contact_point_gets_its_alert_in_kazakh_with_a_working_link(
    topics: CommonSettings, smtp: SmtpPeer, tmp_path: Path
) -> None:
    # A webhook nobody answers for the others (no receiver): only KAZ-NCB's mail is read here.
    path = write_directory(tmp_path / "cp.yaml", kazakh_directory("http://127.0.0.1:9"))
    occurred = dt.datetime.now(PLUS5).replace(microsecond=0) - dt.timedelta(minutes=3)
    alert = make_alert(
        list="yellow_notice", action="protect", urgency="urgent", subject_minor=True,
        entry_id="YEL-2026-KZ0001", occurred_at=occurred,
        traveller={"surname": "SYNTHOVA", "given_names": "ALIYA", "date_of_birth": "2011-04-02"},
    )  # fmt: skip
    settings = notifier_settings(topics, path, notifier_smtp_port=smtp.port)
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, [alert])
        await smtp.wait_for(lambda: _to(smtp, "duty@kaz-ncb.example") is not None, 20)
        mail = _to(smtp, "duty@kaz-ncb.example")
        assert mail is not None
        body = mail.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        local = occurred.strftime("%Y-%m-%d %H:%M:%S")
        utc = occurred.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

        assert mail["Content-Language"] == "kk"
        assert str(mail["Subject"]).startswith("[notice-relay] Тізім бойынша сәйкестік: ")
        assert "Сары хабарлама YEL-2026-KZ0001" in str(mail["Subject"])
        assert text.splitlines()[2] == "Хабарсыз кеткен бала: алдымен баланы қорғаңыз"
        assert f"Қашан: {local} (UTC+05:00) · {utc} UTC" in text
        assert "Сұралған шара: қорғауға алу" in text
        assert "басқа әліпбимен жазылған сол есім" in text
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "email-kk.txt").write_text(text, "utf-8")

        link = re.search(r"^Қабылдау: (\S+)$", text, re.M)
        assert link is not None
        url = urlsplit(link.group(1))
        [token] = parse_qs(url.query)["token"]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as client:
            page = await client.get(url.path, params={"token": token})
            assert page.status_code == 200
            assert "lang='kk'" in page.text
            assert "<button>Қабылдау</button>" in page.text
            first = await client.post(url.path, data={"token": token})
            again = await client.post(url.path, data={"token": token})
        assert first.status_code == 200
        assert first.json()["contact_point"] == "KAZ-NCB"
        assert again.status_code == 401  # a link acknowledges once
        view = app.engine.inbox.alerts[alert.alert_id]
        assert [a.contact_point for a in view.acks] == ["KAZ-NCB"]


def _to(smtp: SmtpPeer, address: str) -> EmailMessage | None:
    found = [m for m in smtp.messages if address in str(m["To"])]
    return found[0] if found else None
