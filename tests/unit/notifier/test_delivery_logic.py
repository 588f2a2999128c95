from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from schemas.notification import NoticeKind
from services.notifier.domain.backoff import Backoff, Outcome, Verdict, classify, parse_retry_after
from services.notifier.domain.breaker import Breaker, BreakerState
from services.notifier.domain.dedup import DedupWindow, dedup_key
from services.notifier.domain.signing import (
    LinkClaim,
    link_token,
    new_claim,
    read_link_token,
    signature_headers,
)
from tests.support.notifier_data import make_alert, secret_for

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_signature_verifies_with_the_reference_library_for_every_secret() -> None:
    old, new = secret_for("old"), secret_for("new")
    body = b'{"type":"alert.created"}'
    ts = int(datetime.now(UTC).timestamp())
    headers = signature_headers("n-1", ts, body, (old, new))
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        Webhook(secret).verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(secret_for("other")).verify(body, headers)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, Verdict.DELIVERED), (204, Verdict.DELIVERED), (500, Verdict.RETRY),
     (503, Verdict.RETRY), (429, Verdict.RETRY), (400, Verdict.PERMANENT),
     (404, Verdict.PERMANENT), (410, Verdict.PERMANENT)],
)  # fmt: skip
def test_classify(status: int, verdict: Verdict) -> None:
    assert classify(status, None, NOW).verdict is verdict


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after("Sun, 22 Nov 2026 08:00:30 GMT", NOW) == 30.0
    assert parse_retry_after("Sun, 22 Nov 2026 07:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    rng = random.Random(1)
    backoff = Backoff(base_s=1, max_s=60, max_attempts=5)
    plain = Outcome(Verdict.RETRY)
    delays = [backoff.delay(n, plain, rng) for n in range(1, 9)]
    assert 0.5 <= delays[0] <= 1
    assert all(d <= 60 for d in delays)
    assert delays[-1] >= 30
    assert backoff.delay(1, Outcome(Verdict.RETRY, retry_after_s=20), rng) == 20
    assert backoff.exhausted(5)
    assert not backoff.exhausted(4)


def test_breaker_opens_probes_once_and_closes() -> None:
    breaker = Breaker(failure_threshold=2, open_s=10)
    assert breaker.allow(0)
    breaker.failure(0)
    breaker.failure(1)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(5)
    assert breaker.retry_in(5) == 6
    assert breaker.allow(11)
    assert breaker.state is BreakerState.HALF_OPEN  # type: ignore[comparison-overlap]
    assert not breaker.allow(11)  # one probe at a time
    breaker.failure(12)
    assert breaker.state is BreakerState.OPEN
    assert breaker.allow(23)
    breaker.success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow(23)


def test_dedup_pages_once_then_updates_within_window() -> None:
    first = make_alert()
    again = make_alert(event_document=first.event_document, traveller=first.traveller)
    other_person = make_alert()
    key = dedup_key(first)
    assert dedup_key(again) == key != dedup_key(other_person)
    window = DedupWindow(timedelta(hours=1))
    assert window.decide(key, first.alert_id, NOW) is NoticeKind.ALERT
    assert window.decide(key, first.alert_id, NOW) is NoticeKind.ALERT  # same alert re-routed
    assert window.decide(key, again.alert_id, NOW + timedelta(minutes=30)) is NoticeKind.UPDATE
    assert window.decide(key, again.alert_id, NOW + timedelta(hours=2)) is NoticeKind.ALERT
    assert "TESTOV" not in key


def test_link_token_is_bound_to_alert_contact_point_and_expiry() -> None:
    key = b"k" * 32
    token = link_token(new_claim("a-" + "0" * 32, "KAZ-NCB", 2000), key)
    claim = read_link_token(token, "a-" + "0" * 32, key, now=1000)
    assert claim is not None
    assert claim.contact_point == "KAZ-NCB"
    assert read_link_token(token, "a-" + "1" * 32, key, now=1000) is None  # other alert
    assert read_link_token(token, "a-" + "0" * 32, key, now=3000) is None  # expired
    assert read_link_token(token, "a-" + "0" * 32, b"x" * 32, now=1000) is None  # other key
    assert read_link_token("garbage", "a-" + "0" * 32, key, now=1000) is None


def test_link_token_binds_its_action_and_nonce_and_reads_ascii_only() -> None:
    key, alert = b"k" * 32, "a-" + "0" * 32
    claim = new_claim(alert, "KAZ-NCB", 2000)
    assert claim.action == "ack"
    assert claim.nonce != new_claim(alert, "KAZ-NCB", 2000).nonce  # one per link
    cp, action, expiry, nonce, mac = link_token(claim, key).split(".")
    for changed in (
        [cp, "resolved", expiry, nonce, mac],  # another action under the same MAC
        [cp, action, expiry, "other-nonce", mac],
        [cp, action, "0" + expiry, nonce, mac],  # a second spelling of the expiry
        [cp, action, "٢٠٠٠", nonce, mac],  # Arabic-Indic digits
        [cp, action, "²", nonce, mac],
        [cp, action, expiry, nonce, mac[:-1] + "é"],
    ):
        assert read_link_token(".".join(changed), alert, key, now=1000) is None
    other = LinkClaim(alert, "KAZ-NCB", 2000, "resolved", claim.nonce)
    assert (
        read_link_token(link_token(other, key), alert, key, now=1000) is None
    )  # not a link action
