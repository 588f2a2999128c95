"""Times at the border post with UTC beside, ages on the event's day, and the console's and the
e-mail's words in the reader's language."""

from __future__ import annotations

import datetime as dt

import pytest

from services.notifier.channels.registry import SPECS
from services.notifier.console import views
from services.notifier.domain import clock, render
from services.notifier.domain.directory import ContactPoint, Directory
from services.notifier.domain.inbox import Inbox
from services.notifier.domain.routing import Plan, route
from services.notifier.domain.words import PROTECTION_STEPS
from services.notifier.i18n import translator
from tests.support.notifier_data import make_alert, standard_directory

DIRECTORY = Directory.parse(standard_directory(lambda n: f"http://h.example/{n}"), SPECS)
PLUS5 = dt.timezone(dt.timedelta(hours=5))


def test_the_offset_sent_is_the_posts_time_and_utc_stands_beside_it() -> None:
    at = dt.datetime(2026, 12, 7, 13, 15, tzinfo=PLUS5)
    shown = clock.stamp(at, clock.post_zone(at, "XPO"))
    assert shown == {
        "local": "2026-12-07 13:15:00", "offset": "+05:00", "utc": "2026-12-07 08:15:00",
        "zone": None,
    }  # fmt: skip
    assert clock.stamp_text(shown) == "2026-12-07 13:15:00 (UTC+05:00) · 2026-12-07 08:15:00 UTC"


@pytest.mark.parametrize(
    ("country", "local", "offset"),
    [
        ("KAZ", "13:15", "+05:00"),  # one time for the whole country since 2024
        ("UZB", "13:15", "+05:00"),
        ("KGZ", "14:15", "+06:00"),
        ("TJK", "13:15", "+05:00"),
        ("TKM", "13:15", "+05:00"),
        ("RUS", "08:15", "+00:00"),  # several zones: UTC, never a guess
    ],
)
def test_an_event_sent_in_utc_is_shown_in_its_countrys_zone(
    country: str, local: str, offset: str
) -> None:
    at = dt.datetime(2026, 12, 7, 8, 15, tzinfo=dt.UTC)
    shown = clock.stamp(at, clock.post_zone(at, country))
    assert (shown["local"][11:16], shown["offset"], shown["utc"][11:16]) == (local, offset, "08:15")


def test_the_local_date_can_differ_from_utcs() -> None:
    at = dt.datetime(2026, 12, 7, 21, 30, tzinfo=dt.UTC)
    shown = clock.stamp(at, clock.post_zone(at, "KGZ"))
    assert (shown["local"], shown["utc"]) == ("2026-12-08 03:30:00", "2026-12-07 21:30:00")


@pytest.mark.parametrize(
    ("dob", "day", "age"),
    [
        ("2010-12-08", dt.date(2026, 12, 7), 15),  # the birthday is tomorrow
        ("2010-12-07", dt.date(2026, 12, 7), 16),
        ("2010-11", dt.date(2026, 12, 7), 16),
        ("2010-12", dt.date(2026, 12, 7), None),  # the month of the birthday: not certain
        ("2010", dt.date(2026, 12, 7), None),
        (None, dt.date(2026, 12, 7), None),
    ],
)
def test_age_on_the_day_of_the_event(dob: str | None, day: dt.date, age: int | None) -> None:
    assert clock.age_on(dob, day) == age


def _detail(**overrides: object) -> dict[str, object]:
    alert = make_alert(**overrides)
    inbox = Inbox()
    for job in route(Plan(alert, dt.datetime.now(dt.UTC)), DIRECTORY):
        inbox.apply(job)
    return views.detail(inbox.alerts[alert.alert_id], "KAZ-NCB", "KAZ")


def test_the_console_gets_the_posts_time_the_age_on_that_day_and_both_sides() -> None:
    # 20:30 UTC on 7 December is already 8 December at a +05:00 post: the minor turns 16 there.
    at = dt.datetime(2026, 12, 7, 20, 30, tzinfo=dt.UTC)
    shown = _detail(
        occurred_at=at, list="yellow_notice", action="protect", subject_minor=True,
        traveller={"surname": "SYNTHOVA", "given_names": "ALIYA", "date_of_birth": "2010-12-08"},
        entry_person={"names": [{"surname": "Синтова", "given_names": "Алия"},
                                {"surname": "SINTOVA", "given_names": "ALIYA"}],
                      "date_of_birth": "2010-12-08", "sex": "F", "nationalities": ["KAZ"]},
    )  # fmt: skip
    assert shown["occurred"] == {
        "local": "2026-12-08 01:30:00", "offset": "+05:00", "utc": "2026-12-07 20:30:00",
        "zone": "Asia/Almaty",
    }  # fmt: skip
    event = {label: value for label, value, _ in shown["event"]}  # type: ignore[attr-defined]
    entry = [(label, value) for label, value, _ in shown["entry"]]  # type: ignore[attr-defined]
    assert event["Age on the day of the event"] == 16
    assert ("Name", "Синтова Алия") in entry
    assert ("Name", "SINTOVA ALIYA") in entry
    assert ("List", "yellow_notice") in entry
    assert shown["protection"] == {
        "title": "Missing child: protect the child first",
        "steps": list(PROTECTION_STEPS),
    }


def test_protection_leads_only_for_a_minors_yellow_notice() -> None:
    assert (
        _detail(list="yellow_notice", action="protect", subject_minor=False)["protection"] is None
    )
    assert _detail(subject_minor=True)["protection"] is None  # a red notice


def test_the_email_speaks_the_contact_points_language_and_keeps_names_and_codes() -> None:
    at = dt.datetime(2026, 12, 7, 13, 15, tzinfo=PLUS5)
    alert = make_alert(occurred_at=at, list="yellow_notice", action="protect", subject_minor=True)
    job = route(Plan(alert, dt.datetime.now(dt.UTC)), DIRECTORY)[0]
    mail = render.email(job, alert, "https://relay.example/ack?t=1", translator("kk").gettext)
    assert mail.subject.startswith("[notice-relay] Тізім бойынша сәйкестік: Сары хабарлама")
    assert alert.entry_id in mail.subject
    assert "2026-12-07 13:15:00 (UTC+05:00) · 2026-12-07 08:15:00 UTC" in mail.text
    assert "Хабарсыз кеткен бала: алдымен баланы қорғаңыз" in mail.text
    # The protection steps lead: before the alert's own rows.
    assert mail.text.index("Хабарсыз кеткен бала") < mail.text.index(alert.alert_id)
    assert "басқа әліпбимен жазылған сол есім" in mail.text  # the plain words, in Kazakh
    assert "Қабылдау: https://relay.example/ack?t=1" in mail.text


def test_a_contact_point_has_a_known_language_or_none() -> None:
    cp = ContactPoint.parse({"id": "KAZ-NCB", "country": "KAZ", "language": "kk"}, SPECS)
    assert cp.language == "kk"
    assert ContactPoint.parse({"id": "X", "country": "KAZ"}, SPECS).language == "en"
    with pytest.raises(ValueError, match="language must be one of"):
        ContactPoint.parse({"id": "X", "country": "KAZ", "language": "fr"}, SPECS)


def test_utc_alone_when_the_posts_zone_is_not_known() -> None:
    at = dt.datetime(2026, 12, 7, 8, 15, tzinfo=dt.UTC)
    assert (
        clock.stamp_text(clock.stamp(at, clock.post_zone(at, "RUS"))) == "2026-12-07 08:15:00 UTC"
    )
