"""Outcomes, hit reports and the 12-hour rule's pure rules (services/notifier/domain/outcomes.py,
report_text.py) and the hit report's wire model (schemas/hit_report.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from schemas.alert import Alert
from schemas.hit_report import DOCUMENT_OUTCOMES, PERSON_OUTCOMES, HitReport, OutcomeCode
from schemas.notification import (
    AckKind,
    Acknowledgement,
    Channel,
    NoticeKind,
    Notification,
    NotificationState,
)
from services.notifier.channels.registry import SPECS
from services.notifier.domain import render, report_text
from services.notifier.domain.directory import Directory
from services.notifier.domain.inbox import Inbox
from services.notifier.domain.outcomes import (
    OUTCOME_WORDS,
    Answerer,
    Deadlines,
    GivenOutcome,
    OutcomeRefused,
    awaits_outcome,
    build_report,
    console_fields,
    detail_fields,
    outcome_of,
    reminder_targets,
    report_jobs,
    report_targets,
)
from services.notifier.domain.routing import Plan, notifications_for, route
from services.notifier.i18n import LANGUAGES, catalogue
from services.notifier.settings import outcome_deadline_keys
from tests.support.notifier_data import make_alert, standard_directory

NOW = datetime(2026, 11, 22, 8, 15, tzinfo=UTC)
KAZ_OFFICER = Answerer("KAZ-NCB/kaz.duty1", "duty_officer", "KAZ-NCB", "KAZ")


def directory(supervisor: str | None = None) -> Directory:
    raw = standard_directory(lambda name: f"http://hooks.example/{name}")
    if supervisor:
        raw["contact_points"].append({"id": supervisor, "country": "KAZ", "console": True})
        raw["countries"]["KAZ"]["supervisor"] = supervisor
    return Directory.parse(raw, SPECS)


def report_of(alert: Alert, outcome: str = "arrested", comment: str | None = None) -> HitReport:
    return build_report(alert, GivenOutcome(outcome, comment, NOW), KAZ_OFFICER)


def document_alert(**extra: Any) -> Alert:
    return make_alert(
        list="sltd", kind="document", action="seize_document", entry_id="DOC-UZB-000123", **extra
    )


def test_every_code_has_words_and_a_kind() -> None:
    assert set(OUTCOME_WORDS) == set(OutcomeCode)
    assert set(PERSON_OUTCOMES) | set(DOCUMENT_OUTCOMES) == set(OutcomeCode)
    assert not set(PERSON_OUTCOMES) & set(DOCUMENT_OUTCOMES)


def test_a_report_carries_who_was_met_what_was_done_and_the_restriction() -> None:
    alert = make_alert(dissemination={"restricted_to": ["KAZ"]})
    report = report_of(alert, comment="Detained")
    assert (report.outcome, report.kind, report.issuer, report.country) == (
        "arrested", "person", "UZB", "KAZ",
    )  # fmt: skip
    assert (report.answered_by, report.answered_by_role) == ("KAZ-NCB/kaz.duty1", "duty_officer")
    assert report.traveller == alert.traveller
    assert report.event_document == alert.event_document
    assert report.dissemination == alert.dissemination
    # The same answer is the same report; another outcome is another.
    assert report_of(alert).report_id == report.report_id
    assert report_of(alert, "located").report_id != report.report_id


@pytest.mark.parametrize(
    ("alert", "outcome"),
    [(make_alert(), "document_seized"), (document_alert(), "arrested"), (make_alert(), "shot")],
)
def test_a_code_of_the_other_kind_or_no_code_is_refused_naming_the_field(
    alert: Alert, outcome: str
) -> None:
    with pytest.raises(OutcomeRefused) as refused:
        report_of(alert, outcome)
    assert (refused.value.status, refused.value.field) == (422, "outcome")


def test_a_document_hit_takes_the_document_codes() -> None:
    assert report_of(document_alert(), "document_seized").outcome is OutcomeCode.DOCUMENT_SEIZED


def test_only_the_country_of_the_hit_reports() -> None:
    issuer = Answerer("UZB-NCB/uzb.duty1", "duty_officer", "UZB-NCB", "UZB")
    with pytest.raises(OutcomeRefused) as refused:
        build_report(make_alert(), GivenOutcome("arrested", None, NOW), issuer)
    assert refused.value.status == 403


def test_the_wire_model_refuses_a_code_of_the_other_kind() -> None:
    raw = orjson.loads(report_of(make_alert()).model_dump_json())
    raw["outcome"] = "document_seized"
    with pytest.raises(ValidationError, match="outcome"):
        HitReport.model_validate(raw, strict=False)


def test_the_report_goes_to_the_issuer_and_those_told_outside_the_reporting_country() -> None:
    d = directory()
    report = report_of(make_alert())
    told = {"KAZ-NCB", "KAZ-BACKUP", "UZB-NCB", "XPO-CC"}
    assert [cp.id for cp in report_targets(report, d, told)] == ["UZB-NCB", "XPO-CC"]
    assert [cp.id for cp in report_targets(report, d, set())] == ["UZB-NCB"]


def test_a_restricted_entrys_report_reaches_nobody_outside_the_restriction() -> None:
    d = directory()
    report = report_of(make_alert(dissemination={"restricted_to": ["KAZ"]}))
    # Even if the centre had been told (the restriction came later), it gets no report.
    assert [cp.id for cp in report_targets(report, d, {"XPO-CC", "KGZ-NCB"})] == ["UZB-NCB"]
    jobs = report_jobs(report, make_alert(), [d.get("XPO-CC"), d.get("UZB-NCB")], NOW)  # type: ignore[list-item]
    assert {j.recipient for j in jobs} == {"UZB-NCB"}


def test_a_national_hit_is_not_reported_back_to_who_answered() -> None:
    alert = make_alert(issuer="KAZ")
    assert report_targets(report_of(alert), directory(), {"KAZ-NCB"}) == []


def test_report_jobs_are_stable_hit_report_notices_carrying_the_report() -> None:
    d = directory()
    alert = make_alert()
    report = report_of(alert)
    jobs = report_jobs(report, alert, report_targets(report, d, {"XPO-CC"}), NOW)
    again = report_jobs(report, alert, report_targets(report, d, {"XPO-CC"}), NOW)
    assert [j.notification_id for j in jobs] == [j.notification_id for j in again]
    assert all(j.notice is NoticeKind.HIT_REPORT and j.hit_report == report for j in jobs)
    assert {j.recipient for j in jobs} == {"UZB-NCB"}  # XPO-CC's webhook is a pager: not woken
    alert_jobs = route(Plan(alert, NOW), d)
    assert not {j.notification_id for j in jobs} & {j.notification_id for j in alert_jobs}


def _inbox(alert: Alert) -> Inbox:
    inbox = Inbox()
    for job in route(Plan(alert, NOW), directory()):
        inbox.apply(job)
    return inbox


def test_an_alert_awaits_its_outcome_until_one_is_given() -> None:
    alert = make_alert()
    inbox = _inbox(alert)
    view = inbox.alerts[alert.alert_id]
    assert awaits_outcome(view)
    assert outcome_of(view) is None
    inbox.apply_ack(
        Acknowledgement(alert_id=alert.alert_id, kind=AckKind.ACKNOWLEDGED,
                        contact_point="KAZ-NCB", at=NOW)
    )  # fmt: skip
    assert awaits_outcome(view)  # acknowledging is not an outcome
    inbox.apply_ack(
        Acknowledgement(alert_id=alert.alert_id, kind=AckKind.RESOLVED, contact_point="KAZ-NCB",
                        at=NOW, outcome=OutcomeCode.LOCATED)
    )  # fmt: skip
    assert not awaits_outcome(view)
    assert console_fields(view, "KAZ-NCB", "KAZ")["outcome"] == "located"


def test_a_routed_report_is_the_outcome_after_a_restart() -> None:
    alert = make_alert()
    inbox = _inbox(alert)
    report = report_of(alert, "refused_entry")
    for job in report_jobs(report, alert, report_targets(report, directory(), set()), NOW):
        inbox.apply(job)
    view = inbox.alerts[alert.alert_id]
    assert outcome_of(view) is OutcomeCode.REFUSED_ENTRY
    shown = detail_fields(view)["reports"]
    assert isinstance(shown, list)
    assert [r["report_id"] for r in shown] == [report.report_id]


def test_the_overdue_flag_follows_the_reminder_and_only_the_hit_country_answers() -> None:
    alert = make_alert()
    inbox = _inbox(alert)
    view = inbox.alerts[alert.alert_id]
    assert console_fields(view, "KAZ-NCB", "KAZ")["outcome_overdue"] is False
    assert console_fields(view, "KAZ-NCB", "KAZ")["can_give_outcome"] is True
    assert console_fields(view, "UZB-NCB", "UZB")["can_give_outcome"] is False
    plan = Plan(alert, NOW, notice=NoticeKind.REMINDER)
    for job in notifications_for(plan, reminder_targets(alert, directory())):
        inbox.apply(job)
    assert console_fields(view, "KAZ-NCB", "KAZ")["outcome_overdue"] is True


def test_reminders_go_to_the_supervisor_desk_or_the_primary_and_the_centre() -> None:
    alert = make_alert()
    assert [cp.id for cp in reminder_targets(alert, directory("KAZ-SUP"))] == ["KAZ-SUP", "XPO-CC"]
    assert [cp.id for cp in reminder_targets(alert, directory())] == ["KAZ-NCB", "XPO-CC"]
    restricted = make_alert(dissemination={"restricted_to": ["KAZ"]})
    assert [cp.id for cp in reminder_targets(restricted, directory())] == ["KAZ-NCB"]


def test_deadlines_per_list_and_urgency_the_most_specific_wins() -> None:
    hours = {
        "red_notice:urgent": timedelta(hours=1),
        "red_notice": timedelta(hours=2),
        "normal": timedelta(hours=6),
    }
    deadlines = Deadlines(timedelta(hours=12), hours)
    assert deadlines.for_alert(make_alert()) == timedelta(hours=1)
    assert deadlines.for_alert(make_alert(urgency="normal")) == timedelta(hours=2)
    assert deadlines.for_alert(make_alert(list="blue_notice", urgency="normal")) == timedelta(
        hours=6
    )
    assert deadlines.for_alert(make_alert(list="blue_notice", urgency="low")) == timedelta(hours=12)
    alert = make_alert()
    assert deadlines.due(alert) == alert.created_at + timedelta(hours=1)


@pytest.mark.parametrize("key", ["red", "urgent:red_notice", "red_notice:soon", "sltd:"])
def test_an_unknown_deadline_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="notifier_outcome_deadlines"):
        outcome_deadline_keys({key: 60.0})
    assert outcome_deadline_keys({"sltd:low": 60.0, "urgent": 1.0}) == {
        "sltd:low": 60.0, "urgent": 1.0,
    }  # fmt: skip


def _report_job(report: HitReport) -> Notification:
    return Notification(
        notification_id="n-" + "0" * 32, alert_id=report.alert_id, recipient="UZB-NCB",
        country="UZB", channel=Channel.WEBHOOK, state=NotificationState.PENDING, created_at=NOW,
        updated_at=NOW, notice=NoticeKind.HIT_REPORT, hit_report=report,
    )  # fmt: skip


def test_the_webhook_body_is_the_report_under_its_own_type() -> None:
    alert = make_alert()
    report = report_of(alert, comment="Detained")
    body = orjson.loads(render.webhook_body(_report_job(report), alert, "http://ack.example/x"))
    assert body["type"] == report_text.EVENT_TYPE
    assert "ack_url" not in body["data"]
    assert "alert" not in body["data"]
    assert HitReport.model_validate(body["data"]["hit_report"], strict=False) == report


def test_the_email_escapes_the_comment_and_names_the_outcome() -> None:
    alert = make_alert()
    report = report_of(alert, comment="<script>x</script>")
    mail = render.email(_report_job(report), alert, "http://ack.example/x")
    assert "Arrested" in mail.subject
    assert alert.entry_id in mail.subject
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "http://ack.example/x" not in mail.text  # nothing to acknowledge in a report


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_outcome_has_words_in_every_console_language(lang: str) -> None:
    words = catalogue(lang)["messages"]
    missing = [msgid for msgid in OUTCOME_WORDS.values() if not words.get(msgid)]
    assert missing == [], f"{lang}: run make locale-update and translate"
