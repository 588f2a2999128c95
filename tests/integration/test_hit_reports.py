"""After the hit (issue 30, items 1-3): a KAZ officer gives the outcome of a red-notice hit in
the console; the UZB issuer gets a signed hit report and sees it in its console; a restricted
entry's report reaches nobody outside the restriction; and with no outcome by the deadline the
KAZ supervisor desk and the coordination centre are reminded, unless an outcome came in time.

The webhook receiver verifies every delivery with the reference Standard Webhooks library
(``standardwebhooks``) and keeps only those that pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from prometheus_client import REGISTRY

from schemas.alert import Alert
from schemas.codec import decode
from schemas.hit_report import HitReport
from schemas.notification import AuditAction, AuditRecord, NoticeKind
from services.common.settings import CommonSettings
from services.notifier.app import NotifierApp
from tests.peers.smtp import SmtpPeer
from tests.peers.webhook_receiver import WebhookReceiver
from tests.support.accounts import account_name, sign_in
from tests.support.console_data import person_alert, wait_in_stream
from tests.support.kafka_io import TopicReader
from tests.support.notifier_data import make_alert, secret_for, standard_directory
from tests.support.notifier_harness import notifier_settings, produce_alerts, write_directory

REPORT = "hit_report.created"
REMINDER = "alert.outcome_overdue"


def received(receiver: WebhookReceiver, kind: str, alert_id: str) -> dict[str, list[Any]]:
    """Endpoint -> the verified deliveries of this type about this alert."""
    found: dict[str, list[Any]] = {}
    for d in receiver.deliveries:
        data = d.body["data"]
        about = data.get("hit_report", data.get("alert", {})).get("alert_id")
        if d.body["type"] == kind and about == alert_id:
            found.setdefault(d.endpoint, []).append(data)
    return found


def report_recipients(app: NotifierApp, alert_id: str) -> set[str]:
    """Who the alert's hit report jobs were made for."""
    view = app.engine.inbox.alerts[alert_id]
    return {n.recipient for n in view.notifications.values() if n.notice is NoticeKind.HIT_REPORT}


async def officer(client: httpx.AsyncClient, cp_id: str) -> dict[str, str]:
    """Signs the contact point's duty officer in; the headers a change needs."""
    answer = await sign_in(client, cp_id)
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf"]}


def red_notice_at_kaz(**extra: Any) -> Alert:
    names = [{"surname": "Тестов", "given_names": "Синтет"}]
    return person_alert("TESTOV", "SINTET", names, **extra)


async def test_arrested_in_kaz_reaches_the_uzb_issuer_signed_and_its_console(
    topics: CommonSettings, directory: Path, receiver: WebhookReceiver
) -> None:
    alert = red_notice_at_kaz()
    settings = notifier_settings(topics, directory)
    async with NotifierApp(settings) as app:
        base = f"http://127.0.0.1:{app.port}"
        async with httpx.AsyncClient(base_url=base) as kaz, httpx.AsyncClient(base_url=base) as uzb:
            csrf = await officer(kaz, "KAZ-NCB")
            await produce_alerts(topics, [alert])
            await wait_in_stream(kaz, alert.alert_id)
            url = f"/console/api/alerts/{alert.alert_id}/outcome"

            wrong_kind = await kaz.post(url, json={"outcome": "document_seized"}, headers=csrf)
            assert wrong_kind.status_code == 422
            assert wrong_kind.json()["detail"].startswith("outcome:")
            unknown = await kaz.post(url, json={"outcome": "shot"}, headers=csrf)
            assert (unknown.status_code, "outcome" in unknown.json()["detail"]) == (422, True)
            missing = await kaz.post(url, json={"comment": "no code"}, headers=csrf)
            assert missing.json()["detail"] == "invalid request body: outcome"

            answer = await kaz.post(
                url, json={"outcome": "arrested", "comment": "Detained at the desk."},
                headers=csrf,
            )  # fmt: skip
            assert answer.status_code == 200, answer.text
            shown = answer.json()
            assert (shown["outcome"], shown["report"]["outcome"]) == ("arrested", "arrested")

            await receiver.wait_for(
                lambda: "UZB-NCB" in received(receiver, REPORT, alert.alert_id), 15
            )
            assert receiver.rejected == []
            [data] = received(receiver, REPORT, alert.alert_id)["UZB-NCB"]
            report = HitReport.model_validate(data["hit_report"], strict=False)
            assert (report.outcome, report.issuer, report.country) == ("arrested", "UZB", "KAZ")
            assert report.answered_by == f"KAZ-NCB/{account_name('KAZ-NCB')}"
            assert report.answered_by_role == "duty_officer"
            assert report.comment == "Detained at the desk."
            assert report.traveller is not None
            assert report.traveller.surname == "TESTOV"
            assert report.event_document == alert.event_document
            # The coordination centre was paged (an urgent alert); its only webhook is a
            # pager, and a report wakes nobody: no job for it.
            assert report_recipients(app, alert.alert_id) == {"UZB-NCB"}

            await officer(uzb, "UZB-NCB")
            listing = (await uzb.get("/console/api/reports")).json()
            assert [(r["alert_id"], r["outcome"]) for r in listing["reports"]] == [
                (alert.alert_id, "arrested")
            ]
            assert listing["reports"][0]["words"] == "Arrested"
            detail = (await uzb.get(f"/console/api/alerts/{alert.alert_id}")).json()
            assert detail["outcome"] == "arrested"
            assert [r["report_id"] for r in detail["reports"]] == [report.report_id]
            # Only the country of the hit gives its outcome.
            uzb_csrf = await officer(uzb, "UZB-NCB")
            refused = await uzb.post(url, json={"outcome": "located"}, headers=uzb_csrf)
            assert refused.status_code == 403

    # Stored: the report on its topic, the answer in the audit trail under the officer's name.
    async with TopicReader(topics, topics.topic("hit_reports")) as reports:
        await reports.until(lambda r: len(r) >= 1, 15)
        assert [decode(HitReport, r.value).report_id for r in reports.records] == [report.report_id]
    async with TopicReader(topics, topics.topic("notifications.audit")) as audit:

        def answered(records: list[Any]) -> list[AuditRecord]:
            found = [decode(AuditRecord, r.value) for r in records if r.value is not None]
            return [a for a in found if a.action is AuditAction.ANSWERED]

        [record] = answered(await audit.until(lambda r: bool(answered(r)), 15))
        assert record.actor == report.answered_by
        assert record.details["outcome"] == "arrested"
        assert record.details["via"] == "console"


async def test_a_restricted_entrys_report_reaches_nobody_outside_the_restriction(
    topics: CommonSettings, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    raw = standard_directory(receiver.url)
    [centre] = [cp for cp in raw["contact_points"] if cp["id"] == "XPO-CC"]
    centre["webhook"]["pager"] = False  # a desk that reads reports, not a pager
    # Restricted to KAZ (and the issuer, UZB): the coordination centre was never paged.
    alert = red_notice_at_kaz(dissemination={"restricted_to": ["KAZ"]})
    other = red_notice_at_kaz()  # unrestricted, answered after: its report marks the end
    settings = notifier_settings(topics, write_directory(tmp_path / "cp.yaml", raw))
    key = {"Authorization": "Bearer key-KAZ-NCB"}
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, [alert, other])
        await receiver.wait_for(
            lambda: all(received(receiver, "alert.created", a.alert_id) for a in (alert, other)),
            15,
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as client:
            for item in (alert, other):
                answer = await client.post(
                    f"/v1/alerts/{item.alert_id}/outcome",
                    json={"outcome": "refused_entry"}, headers=key,
                )  # fmt: skip
                assert answer.status_code == 200, answer.text
        await receiver.wait_for(lambda: "XPO-CC" in received(receiver, REPORT, other.alert_id), 15)
        reached = received(receiver, REPORT, alert.alert_id)
        assert set(reached) == {"UZB-NCB"}
        assert report_recipients(app, alert.alert_id) == {"UZB-NCB"}
        # The unrestricted one went to everyone told of the hit outside KAZ.
        assert set(received(receiver, REPORT, other.alert_id)) == {"UZB-NCB", "XPO-CC"}


def _deadline_count(result: str) -> float:
    labels = {"result": result, "list": "red_notice"}
    return REGISTRY.get_sample_value("relay_notifier_outcome_deadlines_total", labels) or 0.0


async def test_no_outcome_in_two_seconds_reminds_the_supervisor_and_the_centre(
    topics: CommonSettings, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    raw = standard_directory(receiver.url)
    supervisor = {"id": "KAZ-SUP", "country": "KAZ", "webhook": {
        "url": receiver.url("KAZ-SUP"), "secrets": [secret_for("KAZ-SUP")]}}  # fmt: skip
    raw["contact_points"].append(supervisor)
    raw["countries"]["KAZ"]["supervisor"] = "KAZ-SUP"
    receiver.secrets["KAZ-SUP"] = secret_for("KAZ-SUP")
    settings = notifier_settings(
        topics, write_directory(tmp_path / "cp.yaml", raw), notifier_outcome_deadline_s=2.0
    )
    in_time, missed = _deadline_count("in_time"), _deadline_count("missed")
    async with NotifierApp(settings) as app:
        # Made once the notifier runs: the two seconds start at the alert's creation. The one
        # answered in time is due first, so its deadline is decided before the other's.
        answered = make_alert(entry_id="RED-2025-000001")
        forgotten = make_alert(entry_id="RED-2025-000002")
        await produce_alerts(topics, [answered, forgotten])
        await receiver.wait_for(
            lambda: bool(received(receiver, "alert.created", answered.alert_id)), 10
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as client:
            answer = await client.post(
                f"/v1/alerts/{answered.alert_id}/outcome", json={"outcome": "located"},
                headers={"Authorization": "Bearer key-KAZ-NCB"},
            )  # fmt: skip
            assert answer.status_code == 200, answer.text

            def reminded() -> bool:
                return set(received(receiver, REMINDER, forgotten.alert_id)) == {
                    "KAZ-SUP",
                    "XPO-CC",
                }

            await receiver.wait_for(reminded, 15)
            assert _deadline_count("missed") == missed + 1
            assert _deadline_count("in_time") == in_time + 1
            assert received(receiver, REMINDER, answered.alert_id) == {}
            late = app.engine.inbox.alerts[answered.alert_id].notifications.values()
            assert not [n for n in late if n.notice is NoticeKind.REMINDER]

            # The miss shows in the KAZ console; the answered alert shows its outcome.
            csrf = await officer(client, "KAZ-NCB")
            assert csrf
            rows = {
                r["alert_id"]: r for r in (await client.get("/console/api/alerts")).json()["alerts"]
            }
            assert rows[forgotten.alert_id]["outcome_overdue"] is True
            assert rows[forgotten.alert_id]["outcome"] is None
            assert (
                rows[answered.alert_id]["outcome"],
                rows[answered.alert_id]["outcome_overdue"],
            ) == ("located", False)

    async with TopicReader(topics, topics.topic("notifications.audit")) as audit:

        def reminders(records: list[Any]) -> list[AuditRecord]:
            found = [decode(AuditRecord, r.value) for r in records if r.value is not None]
            return [a for a in found if a.action is AuditAction.REMINDED]

        found = reminders(await audit.until(lambda r: len(reminders(r)) >= 2, 15))
        assert {a.alert_id for a in found} == {forgotten.alert_id}
        assert {a.details["recipient"] for a in found} == {"KAZ-SUP", "XPO-CC"}


async def test_a_restarted_notifier_still_reminds_an_acknowledged_alert_it_evicted(
    topics: CommonSettings, directory: Path, receiver: WebhookReceiver
) -> None:
    """Acknowledging is not an outcome. The alert closes, a restart evicts it (memory window 0)
    and re-arms its deadline first; at the deadline it is read back and reminded."""
    settings = notifier_settings(
        topics, directory, notifier_outcome_deadline_s=15.0, notifier_memory_window_s=0.0
    )
    alert = make_alert()
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, [alert])

        def delivered() -> bool:
            paged = received(receiver, "alert.created", alert.alert_id)
            return set(paged) == {"KAZ-NCB", "UZB-NCB", "XPO-CC"}

        await receiver.wait_for(delivered, 10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as client:
            ack = await client.post(
                f"/v1/alerts/{alert.alert_id}/ack", json={"comment": "seen"},
                headers={"Authorization": "Bearer key-KAZ-NCB"},
            )  # fmt: skip
            assert ack.status_code == 200, ack.text
    assert received(receiver, REMINDER, alert.alert_id) == {}, "the deadline passed too soon"

    async with NotifierApp(settings) as again:
        assert alert.alert_id not in again.engine.inbox.alerts  # evicted at the rebuild
        assert alert.alert_id in again.engine.outcomes.armed

        def reminded() -> bool:
            return set(received(receiver, REMINDER, alert.alert_id)) == {"KAZ-NCB", "XPO-CC"}

        await receiver.wait_for(reminded, 20)


async def test_the_issuer_gets_the_report_by_e_mail_too(
    topics: CommonSettings, receiver: WebhookReceiver, smtp: SmtpPeer, tmp_path: Path
) -> None:
    with_email = standard_directory(receiver.url, email=True)
    path = write_directory(tmp_path / "cp.yaml", with_email)
    settings = notifier_settings(topics, path, notifier_smtp_port=smtp.port)
    alert = make_alert(
        list="sltd", kind="document", action="seize_document", entry_id="DOC-UZB-000123"
    )
    async with NotifierApp(settings) as app:
        await produce_alerts(topics, [alert])
        await receiver.wait_for(
            lambda: bool(received(receiver, "alert.created", alert.alert_id)), 10
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.port}") as client:
            answer = await client.post(
                f"/v1/alerts/{alert.alert_id}/outcome",
                json={"outcome": "document_seized", "comment": "<b>kept</b> at the desk"},
                headers={"Authorization": "Bearer key-KAZ-NCB"},
            )  # fmt: skip
            assert answer.status_code == 200, answer.text

        def report_mail() -> list[Any]:
            return [m for m in smtp.messages if "Hit report" in m["Subject"]]

        await smtp.wait_for(lambda: bool(report_mail()), 15)
        [mail] = [m for m in report_mail() if "duty@uzb-ncb.example" in m["To"]]
        assert "Document seized" in mail["Subject"]
        body = mail.get_body(("html",))
        assert body is not None
        assert "&lt;b&gt;kept&lt;/b&gt; at the desk" in body.get_content()
