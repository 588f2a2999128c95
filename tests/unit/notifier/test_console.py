"""Console sessions and what a country may see of the inbox (pure)."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta

from schemas.notification import AckKind, Acknowledgement, Notification
from services.notifier.channels.registry import SPECS
from services.notifier.console import session as sessions
from services.notifier.console import views
from services.notifier.domain.clock import post_zone, stamp
from services.notifier.domain.directory import ContactPoint
from services.notifier.domain.inbox import Inbox
from services.notifier.domain.routing import Plan, notifications_for
from tests.support.notifier_data import key_hash, make_alert

KEY = sessions.SessionKeys(current=secrets.token_bytes(32))
NOW = 1_800_000_000


def test_session_round_trip_and_tampering() -> None:
    cookie = sessions.issue(KEY, "KAZ-NCB", key_hash("k"), NOW)
    found = sessions.read(KEY, cookie, NOW + 60)
    assert found is not None
    assert found.account == "KAZ-NCB"
    assert sessions.read(KEY, cookie, NOW + KEY.ttl_s + 1) is None  # expired
    assert sessions.read(sessions.SessionKeys(b"o" * 32), cookie, NOW) is None
    _body, mac = cookie.split(".")
    forged = sessions.issue(KEY, "TJK-NCB", key_hash("k"), NOW).split(".")[0]
    assert sessions.read(KEY, f"{forged}.{mac}", NOW) is None
    assert sessions.read(KEY, "garbage", NOW) is None
    assert sessions.read(KEY, None, NOW) is None


def test_the_server_not_the_cookie_decides_how_long_a_session_lives() -> None:
    cookie = sessions.issue(KEY, "KAZ-NCB", key_hash("k"), NOW)
    shorter = dataclasses.replace(KEY, ttl_s=600)
    assert sessions.read(shorter, cookie, NOW + 599) is not None
    assert sessions.read(shorter, cookie, NOW + 601) is None
    # Issued "in the future" (beyond clock skew): refused, so no cookie buys itself years.
    assert sessions.read(KEY, cookie, NOW - sessions.CLOCK_SKEW_S - 1) is None


def test_a_rotated_session_key_still_reads_until_it_is_dropped() -> None:
    old = sessions.issue(KEY, "KAZ-NCB", key_hash("k"), NOW)
    rotated = sessions.SessionKeys(current=b"n" * 32, previous=(KEY.current,))
    assert sessions.read(rotated, old, NOW) is not None
    assert sessions.read(sessions.SessionKeys(current=b"n" * 32), old, NOW) is None
    fresh = sessions.issue(rotated, "KAZ-NCB", key_hash("k"), NOW)
    assert sessions.read(KEY, fresh, NOW) is None  # new sessions use the new key only


def test_odd_bytes_in_cookies_and_csrf_tokens_are_refused_not_raised() -> None:
    cookie = sessions.issue(KEY, "KAZ-NCB", key_hash("k"), NOW)
    found = sessions.read(KEY, cookie, NOW)
    assert found is not None
    for odd in ("\xe9", "a.\xe9", cookie + "\xe9", cookie[:-1] + "\xe9", "\x00.\x00", "²." * 3):
        assert sessions.read(KEY, odd, NOW) is None
        assert not sessions.csrf_ok(KEY, found, odd)


def test_csrf_token_is_bound_to_its_session() -> None:
    one = sessions.read(KEY, sessions.issue(KEY, "KAZ-NCB", key_hash("k"), NOW), NOW)
    two = sessions.read(KEY, sessions.issue(KEY, "KAZ-NCB", key_hash("k"), NOW), NOW)
    assert one is not None
    assert two is not None
    assert sessions.csrf_ok(KEY, one, sessions.csrf_token(KEY, one))
    assert not sessions.csrf_ok(KEY, one, sessions.csrf_token(KEY, two))
    assert not sessions.csrf_ok(KEY, one, None)


def test_an_account_change_changes_the_fingerprint() -> None:
    assert sessions.fingerprint(key_hash("a")) != sessions.fingerprint(key_hash("b"))


def _cp(cp_id: str, country: str) -> ContactPoint:
    return ContactPoint.parse({"id": cp_id, "country": country, "console": True}, SPECS)


def _inbox(*jobs: Notification) -> Inbox:
    inbox = Inbox()
    for job in jobs:
        inbox.apply(job)
    return inbox


def test_only_recipient_countries_within_dissemination_see_an_alert() -> None:
    alert = make_alert(dissemination={"restricted_to": ["KAZ"]})
    plan = Plan(alert=alert, now=datetime.now(UTC), ack_delay=timedelta(minutes=5))
    inbox = _inbox(*notifications_for(plan, [_cp("KAZ-NCB", "KAZ"), _cp("TJK-NCB", "TJK")]))
    view = inbox.alerts[alert.alert_id]
    assert views.visible(view, "KAZ")
    assert not views.visible(view, "TJK")  # never routed there: restricted
    assert not views.visible(view, "KGZ")
    # A job that reached a country the alert does not allow (an old directory) stays hidden.
    leaked = notifications_for(Plan(alert=make_alert(), now=plan.now), [_cp("TJK-NCB", "TJK")])
    inbox.apply(leaked[0].model_copy(update={"alert_id": alert.alert_id, "alert": alert}))
    assert views.visible(view, "KAZ")
    assert not views.visible(view, "TJK")


def test_rows_put_open_urgent_first_and_hide_other_countries_comments() -> None:
    now = datetime.now(UTC)
    urgent, low = make_alert(entry_id="E-1"), make_alert(entry_id="E-2", urgency="low")
    done = make_alert(entry_id="E-3")
    kaz, uzb = _cp("KAZ-NCB", "KAZ"), _cp("UZB-NCB", "UZB")
    jobs = [
        *notifications_for(Plan(alert=low, now=now), [kaz]),
        *notifications_for(Plan(alert=done, now=now, ack_delay=timedelta(minutes=5)), [kaz, uzb]),
        *notifications_for(Plan(alert=urgent, now=now - timedelta(seconds=1)), [kaz]),
    ]
    inbox = _inbox(*jobs)
    inbox.apply_ack(
        Acknowledgement(alert_id=done.alert_id, kind=AckKind.ACKNOWLEDGED,
                        contact_point="UZB-NCB", at=now, comment="secret words")
    )  # fmt: skip
    shown = views.rows(inbox.for_country("KAZ"), "KAZ-NCB", "KAZ")
    assert [r["alert_id"] for r in shown] == [urgent.alert_id, low.alert_id, done.alert_id]
    assert shown[2]["state"] == "acknowledged"
    assert shown[2]["escalation_due"] is None  # the clock stops once somebody took it
    detail = views.detail(inbox.alerts[done.alert_id], "KAZ-NCB", "KAZ")
    assert detail["acks"] == [
        {"kind": "acknowledged", "contact_point": "UZB-NCB", "at": now.isoformat(),
         "when": stamp(now, post_zone(done.occurred_at, "KAZ")), "comment": None, "by": None,
         "own": False}
    ]  # fmt: skip
    assert {d["recipient"] for d in detail["deliveries"]} == {"KAZ-NCB"}


def test_fingerprint_moves_with_every_visible_change() -> None:
    alert = make_alert()
    jobs = notifications_for(Plan(alert=alert, now=datetime.now(UTC)), [_cp("KAZ-NCB", "KAZ")])
    inbox = _inbox(*jobs)
    before = views.fingerprint(inbox.for_country("KAZ"), "KAZ")
    inbox.apply_ack(
        Acknowledgement(alert_id=alert.alert_id, kind=AckKind.RESOLVED,
                        contact_point="KAZ-NCB", at=datetime.now(UTC), comment="done")
    )  # fmt: skip
    assert views.fingerprint(inbox.for_country("KAZ"), "KAZ") != before
    assert views.state_of(inbox.alerts[alert.alert_id], "KAZ") == "resolved"


def test_sign_in_throttle_blocks_guessing_per_client_for_a_window() -> None:
    throttle = sessions.SignInThrottle(limit=3, window_s=60)
    for _ in range(3):
        assert not throttle.blocked("10.0.0.1", 100.0)
        throttle.failed("10.0.0.1", 100.0)
    assert throttle.blocked("10.0.0.1", 120.0)
    assert not throttle.blocked("10.0.0.2", 120.0)
    assert not throttle.blocked("10.0.0.1", 161.0)


def test_sign_in_throttle_blocks_guessing_one_account_from_many_addresses() -> None:
    throttle = sessions.SignInThrottle(limit=3, window_s=60)
    for i in range(3):
        assert not throttle.blocked(f"10.0.0.{i}", 100.0, "kaz.duty1")
        throttle.failed(f"10.0.0.{i}", 100.0, "kaz.duty1")
    assert throttle.blocked("10.0.0.9", 120.0, "kaz.duty1")
    assert not throttle.blocked("10.0.0.9", 120.0, "kaz.duty2")


def test_sign_in_throttle_has_a_global_limit_and_a_bounded_table() -> None:
    throttle = sessions.SignInThrottle(limit=3, overall=20, window_s=60, max_clients=50)
    for i in range(20):  # one failure each from twenty addresses (rotating forwarded-for)
        assert not throttle.blocked(f"10.0.0.{i}", 100.0)
        throttle.failed(f"10.0.0.{i}", 100.0)
    assert throttle.blocked("10.9.9.9", 101.0)  # a fresh address is stopped too
    assert not throttle.blocked("10.9.9.9", 161.0)
    for i in range(500):
        throttle.failed(f"10.1.{i // 256}.{i % 256}", 200.0)
    assert len(throttle.failures) == 50
