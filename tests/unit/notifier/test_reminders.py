"""The 12-hour rule's watch (services/notifier/reminders.py) on the engine, with the in-memory
stand-in for the deliveries topic: an outcome in time makes the deadline a no-op; a miss
reminds once; misses of alerts that left memory are read back together, not one scan each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from schemas.notification import NoticeKind, Notification
from services.notifier.domain.outcomes import reminded
from tests.support.notifier_data import make_alert
from tests.unit.notifier.test_memory import NOW, Topic, deliver_all, engine, routine, take


class SlowTopic(Topic):
    """A scan that takes a while: other misses come due meanwhile."""

    async def recall(
        self, needle: str, match: Callable[[Notification], bool]
    ) -> list[Notification]:
        await asyncio.sleep(0)
        return await super().recall(needle, match)


def _count(result: str, list_kind: str) -> float:
    labels = {"result": result, "list": list_kind}
    return REGISTRY.get_sample_value("relay_notifier_outcome_deadlines_total", labels) or 0.0


async def test_an_outcome_in_time_makes_the_deadline_a_no_op() -> None:
    e = engine(Topic())
    alert = make_alert(list="diffusion")
    await take(e, alert)
    e.outcomes.arm(alert.alert_id)
    e.outcomes.arm(alert.alert_id)  # routed twice (urgent and routine topics): armed once
    assert list(e.outcomes.armed) == [alert.alert_id]
    before = _count("in_time", "diffusion")
    e.outcomes.answered(alert.alert_id)
    await e.outcomes.check(alert.alert_id)
    assert not reminded(e.inbox.alerts[alert.alert_id])
    assert _count("in_time", "diffusion") == before + 1
    assert e.outcomes.armed == {}
    assert e.outcomes.given == set()


async def test_a_miss_reminds_once_and_an_answered_alert_is_not_armed_again() -> None:
    e = engine(Topic())
    alert = make_alert(list="green_notice")
    await take(e, alert)
    e.outcomes.arm(alert.alert_id)
    before = _count("missed", "green_notice")
    await e.outcomes.check(alert.alert_id)
    view = e.inbox.alerts[alert.alert_id]
    jobs = [n for n in view.notifications.values() if n.notice is NoticeKind.REMINDER]
    assert {n.recipient for n in jobs} == {"KAZ-NCB", "XPO-CC"}  # no supervisor desk: primary
    assert _count("missed", "green_notice") == before + 1
    e.outcomes.arm(alert.alert_id)  # a restart: already reminded, nothing to wait for
    assert e.outcomes.armed == {}


async def test_misses_of_alerts_that_left_memory_are_read_back_together() -> None:
    topic = SlowTopic()
    e = engine(topic)
    alerts = [routine() for _ in range(3)]
    for alert in alerts:
        await take(e, alert)
        e.outcomes.arm(alert.alert_id)
    await deliver_all(e, NOW)
    e.sweep_memory(NOW + timedelta(days=1))  # closed (delivered, routine): evicted
    assert not any(a.alert_id in e.inbox.alerts for a in alerts)
    await asyncio.gather(*(e.outcomes.check(a.alert_id) for a in alerts))
    # The first scan runs alone; the two misses that came due meanwhile share the second.
    assert topic.scans == 2
    assert all(reminded(e.inbox.alerts[a.alert_id]) for a in alerts)


async def test_an_alert_long_past_its_deadline_is_not_armed() -> None:
    e = engine(Topic())
    now = datetime.now(UTC)
    # Read again long after (a replay, the first start with the rule): 25 h > 12 h + 12 h.
    old = make_alert(created_at=now - timedelta(hours=25), occurred_at=now - timedelta(hours=25))
    late = make_alert(created_at=now - timedelta(hours=23), occurred_at=now - timedelta(hours=23))
    for alert in (old, late):
        await take(e, alert)
        e.outcomes.arm(alert.alert_id)
    assert list(e.outcomes.armed) == [late.alert_id]  # late, but still within reason: due now
