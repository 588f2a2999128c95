from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.notification import Channel, NoticeKind, NotificationState
from services.notifier.channels.registry import SPECS
from services.notifier.domain.directory import Directory
from services.notifier.domain.escalation import next_step
from services.notifier.domain.routing import Plan, may_send, priority_of, route
from tests.support.notifier_data import make_alert, standard_directory

NOW = datetime(2026, 11, 22, 8, 15, tzinfo=UTC)


@pytest.fixture
def directory() -> Directory:
    return Directory.parse(standard_directory(lambda name: f"http://hooks.example/{name}"), SPECS)


def recipients(jobs: list) -> set[str]:  # type: ignore[type-arg]
    return {j.recipient for j in jobs}


def test_urgent_alert_goes_to_event_country_issuer_and_coordination_centre(
    directory: Directory,
) -> None:
    jobs = route(Plan(make_alert(), NOW), directory)
    assert recipients(jobs) == {"KAZ-NCB", "UZB-NCB", "XPO-CC"}
    assert all(j.state is NotificationState.PENDING for j in jobs)
    assert len({j.notification_id for j in jobs}) == len(jobs)


def test_routine_alert_skips_coordination_centre(directory: Directory) -> None:
    alert = make_alert(list="blue_notice", urgency="normal", action="locate")
    assert recipients(route(Plan(alert, NOW), directory)) == {"KAZ-NCB", "UZB-NCB"}


def test_restricted_alert_never_routes_outside_its_list(directory: Directory) -> None:
    alert = make_alert(country="KGZ", issuer="UZB", dissemination={"restricted_to": ["KAZ"]})
    jobs = route(Plan(alert, NOW), directory)
    # KGZ is where the event happened but the issuer did not allow it; XPO is not listed either.
    assert recipients(jobs) == {"UZB-NCB"}


def test_send_time_check_refuses_a_job_for_a_forbidden_country(directory: Directory) -> None:
    alert = make_alert(dissemination={"restricted_to": ["KAZ"]})
    [job] = [j for j in route(Plan(alert, NOW), directory) if j.recipient == "KAZ-NCB"]
    assert may_send(job)
    forged = job.model_copy(update={"country": "TJK"})
    assert not may_send(forged)
    assert not may_send(job.model_copy(update={"alert": None}))  # fails closed
    # A compact job (stored without its alert) is checked against the alert it is sent with.
    compact = job.model_copy(update={"alert": None})
    assert may_send(compact, alert)
    assert not may_send(forged.model_copy(update={"alert": None}), alert)
    assert not may_send(compact, make_alert())  # another alert never vouches for this job


def test_escalation_skips_steps_outside_dissemination(directory: Directory) -> None:
    open_alert = make_alert()
    assert next_step(open_alert, directory, 0)[1].id == "KAZ-BACKUP"  # type: ignore[index]
    assert next_step(open_alert, directory, 1)[1].id == "XPO-CC"  # type: ignore[index]
    assert next_step(open_alert, directory, 2) is None
    restricted = make_alert(dissemination={"restricted_to": ["KAZ"]})
    assert next_step(restricted, directory, 1) is None  # XPO-CC is not on the list


def test_possible_band_never_goes_to_pagers(directory: Directory) -> None:
    alert = make_alert(band="possible", urgency="normal")
    jobs = route(Plan(alert, NOW), directory)
    assert "KAZ-NCB" not in recipients(jobs)  # its only channel is a pager webhook
    assert not alert.urgent


def test_updates_skip_pagers_but_reach_review_channels() -> None:
    raw = standard_directory(lambda name: f"http://hooks.example/{name}", email=True)
    directory = Directory.parse(raw, SPECS)
    jobs = route(Plan(make_alert(), NOW, notice=NoticeKind.UPDATE), directory)
    kaz = [j.channel for j in jobs if j.recipient == "KAZ-NCB"]
    assert kaz == [Channel.EMAIL]


def test_priority_puts_urgent_before_routine(directory: Directory) -> None:
    urgent = route(Plan(make_alert(), NOW), directory)[0]
    routine = route(Plan(make_alert(list="blue_notice", urgency="low"), NOW), directory)[0]
    assert priority_of(urgent) < priority_of(routine)


def test_yellow_notice_of_minor_is_urgent() -> None:
    assert make_alert(list="yellow_notice", urgency="normal", subject_minor=True).urgent
    assert not make_alert(list="yellow_notice", urgency="normal", subject_minor=False).urgent


def test_ack_deadline_and_ids_are_stable(directory: Directory) -> None:
    plan = Plan(make_alert(), NOW, ack_delay=timedelta(minutes=5))
    first, second = route(plan, directory), route(plan, directory)
    assert [j.notification_id for j in first] == [j.notification_id for j in second]
    assert all(j.ack_deadline == NOW + timedelta(minutes=5) for j in first)


def test_directory_rejects_unknown_references() -> None:
    with pytest.raises(ValueError, match="unknown contact points"):
        Directory.parse({"contact_points": [], "countries": {"KAZ": {"primary": "NOPE"}}}, SPECS)
