from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from schemas.notification import AckKind, Acknowledgement, NoticeKind, NotificationState
from services.notifier.channels.registry import SPECS
from services.notifier.domain import render
from services.notifier.domain.directory import Directory
from services.notifier.domain.inbox import Inbox
from services.notifier.domain.routing import Plan, route
from tests.support.notifier_data import make_alert, standard_directory

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
DIRECTORY = Directory.parse(standard_directory(lambda n: f"http://h.example/{n}"), SPECS)


def test_inbox_per_country_recipients_and_acks() -> None:
    inbox = Inbox()
    alert = make_alert()
    for job in route(Plan(alert, NOW), DIRECTORY):
        inbox.apply(job)
    assert inbox.is_recipient(alert.alert_id, "KAZ-NCB")
    assert not inbox.is_recipient(alert.alert_id, "TJK-NCB")
    assert [v.alert_id for v in inbox.for_country("KAZ")] == [alert.alert_id]
    assert inbox.for_country("TJK") == []
    assert len(inbox.pending()) == 3
    view = inbox.by_entry(alert.entry_id)[0]
    assert not view.acknowledged
    ack = Acknowledgement(
        alert_id=alert.alert_id, kind=AckKind.CANNOT_ACT, contact_point="KAZ-NCB", at=NOW
    )
    inbox.apply_ack(ack)
    assert not view.acknowledged  # cannot-act hands it on
    inbox.apply_ack(ack.model_copy(update={"kind": AckKind.ACKNOWLEDGED}))
    assert view.acknowledged


def test_delivered_jobs_are_not_pending_and_cancellation_marks_view() -> None:
    inbox = Inbox()
    alert = make_alert()
    jobs = route(Plan(alert, NOW), DIRECTORY)
    for job in jobs:
        inbox.apply(job.model_copy(update={"state": NotificationState.DELIVERED}))
    assert inbox.pending() == []
    inbox.apply(jobs[0].model_copy(update={"notice": NoticeKind.CANCELLATION,
                                           "notification_id": "n-" + "f" * 32}))  # fmt: skip
    assert inbox.alerts[alert.alert_id].cancelled


def test_email_html_escapes_alert_text_and_carries_ack_link() -> None:
    alert = make_alert(summary="<script>alert(1)</script> & co")
    job = route(Plan(alert, NOW), DIRECTORY)[0]
    mail = render.email(job, alert, "https://relay.example/v1/alerts/x/ack?token=a&b")
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "token=a&amp;b" in mail.html
    assert "<script>alert(1)</script>" in mail.text
    assert "Why: Surname: the same name written in another alphabet (1.00)" in mail.text
    assert "https://relay.example/v1/alerts/x/ack?token=a&b" in mail.text


def test_webhook_body_has_standard_shape() -> None:

    alert = make_alert()
    job = route(Plan(alert, NOW), DIRECTORY)[0]
    body = orjson.loads(render.webhook_body(job, alert, None))
    assert body["type"] == "alert.created"
    assert body["data"]["alert"]["alert_id"] == alert.alert_id
    assert body["data"]["notification_id"] == job.notification_id


def test_one_carrier_job_holds_the_alert_for_compact_siblings() -> None:
    inbox = Inbox()
    alert = make_alert()
    jobs = route(Plan(alert, NOW), DIRECTORY)
    # As rebuilt from the topic: only the carrier's record has the alert, in any order.
    carrier, *others = jobs
    for job in [*(j.model_copy(update={"alert": None}) for j in others), carrier]:
        inbox.apply(job)
    view = inbox.alerts[alert.alert_id]
    assert view.carrier == carrier.notification_id
    assert view.alert == alert


def test_closed_alerts_are_forgotten_after_the_window_open_ones_never() -> None:
    inbox = Inbox()
    closed, open_, escalating = (
        make_alert(urgency="normal", list="yellow_notice"),
        make_alert(urgency="normal", list="yellow_notice"),
        make_alert(),
    )
    delivered = {"state": NotificationState.DELIVERED}
    for job in route(Plan(closed, NOW), DIRECTORY):
        inbox.apply(job.model_copy(update=delivered))
    for job in route(Plan(open_, NOW), DIRECTORY):
        inbox.apply(job)  # still pending: must be sent, whatever its age
    for job in route(Plan(escalating, NOW, ack_delay=timedelta(minutes=5)), DIRECTORY):
        inbox.apply(job.model_copy(update=delivered))  # delivered but nobody acknowledged
    assert inbox.closed_before(NOW) == []  # not older than the cutoff yet
    later = NOW + timedelta(days=31)
    assert inbox.closed_before(later) == [closed.alert_id]
    ids = inbox.forget(closed.alert_id)
    assert len(ids) == len(route(Plan(closed, NOW), DIRECTORY)) > 0
    assert closed.alert_id not in inbox.alerts
    assert [v.alert_id for v in inbox.by_entry(closed.entry_id)] == sorted(
        [open_.alert_id, escalating.alert_id]
    )
    inbox.apply_ack(
        Acknowledgement(
            alert_id=escalating.alert_id, kind=AckKind.ACKNOWLEDGED, contact_point="KAZ-NCB", at=NOW
        )
    )
    assert inbox.closed_before(later) == [escalating.alert_id]
