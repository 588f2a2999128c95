"""A restarted analyst on the real broker starts from its state snapshot: it replays only the
records written after it and finds the same leads as the whole history analysed at once; a
damaged snapshot, or one whose records retention deleted, is refused and the whole history
replayed.

events.border_crossing -> analyst (copier -> analyst.sightings -> analysis) -> leads; the
snapshot in ``analyst_state_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import RecordsToDelete

from schemas.codec import decode_event
from services.analyst.app import HISTORY_REBUILT, AnalystApp
from services.analyst.domain import Analyser
from services.analyst.handlers import HIT_HEADER
from services.analyst.settings import AnalystSettings
from services.analyst.snapshot import SnapshotStore
from services.common.kafka import admin_client, partitions_of
from services.common.settings import CommonSettings
from tests.integration.test_analyst_stream import (
    ESCORT,
    KEY,
    MINORS,
    analyst_settings,
    crossing,
    escort_leads,
    trip,
)
from tests.support.kafka_io import TopicReader, produce_json
from tests.support.replicas import until

pytestmark = pytest.mark.timeout(240)

BACKGROUND = 300  # travellers crossing alone, so that a whole replay is much longer


def background(count: int) -> list[dict[str, Any]]:
    people = [
        (f"SURNAME{n:04d}", f"GIVEN{n % 97:02d}", f"19{60 + n % 40}-0{1 + n % 9}-1{n % 10}",
         f"BG{n:07d}")
        for n in range(count)
    ]  # fmt: skip
    alone = [crossing(p, 30 - n / 20, {}, f"KC{n % 50}") for n, p in enumerate(people)]
    return [{k: v for k, v in e.items() if k != "party"} for e in alone]


def state_settings(topics: CommonSettings, state: Path) -> AnalystSettings:
    return analyst_settings(topics).model_copy(update={"analyst_state_dir": state})


async def send(topics: CommonSettings, events: list[dict[str, Any]]) -> None:
    items = [(e["traveller"]["surname"], e) for e in events]
    await produce_json(topics, topics.topic("events.border_crossing"), items)


def ready(app: AnalystApp) -> bool:
    return bool(app.readiness.snapshot()[HISTORY_REBUILT]["ok"])


async def offline_leads(topics: CommonSettings, count: int) -> dict[str, list[str]]:
    """The whole history, in the topic's order, through one analyser at once."""
    analyser = Analyser(analyst_settings(topics).params(), KEY.encode())
    async with TopicReader(topics, topics.topic("analyst.sightings")) as reader:
        records = await reader.until(lambda r: len(r) >= count, 30)
    for record in records:
        assert record.value is not None
        assert HIT_HEADER not in (record.headers or [])
        event = decode_event(record.value)
        analyser.observe(event)
        analyser.tick(event.occurred_at)
    return _evidence(analyser.leads.values())


async def lead_records(topics: CommonSettings) -> int:
    partitions = await partitions_of(topics, topics.topic("leads"))
    async with TopicReader(topics, topics.topic("leads")) as reader:
        return sum((await reader.consumer.end_offsets(partitions)).values())


def _evidence(leads: Any) -> dict[str, list[str]]:
    return {lead.lead_id: sorted(e.event_id for e in lead.evidence) for lead in leads}


async def test_a_restart_replays_only_what_came_after_its_snapshot(
    topics: CommonSettings, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first_half = background(BACKGROUND) + trip(ESCORT, MINORS[0], 20, None)
    first_half += trip(ESCORT, MINORS[1], 12, "not_shown")
    async with AnalystApp(state_settings(topics, state)) as first:
        await until(lambda: ready(first), 60, "first analyst ready")
        await send(topics, first_half)
        await until(lambda: first.history.analysed >= len(first_half), 60, "first half analysed")
        assert first.history.replayed == 0
    stored = SnapshotStore(state, topics.topic("analyst.sightings"), KEY.encode(),
                           analyst_settings(topics).params())  # fmt: skip
    assert stored.path.exists()  # written on the graceful stop

    # while it is stopped, the third trip completes the pattern
    third = trip(ESCORT, MINORS[2], 5, None)
    await send(topics, third)
    async with (
        TopicReader(topics, topics.topic("leads")) as leads,
        AnalystApp(state_settings(topics, state)) as second,
    ):
        await until(lambda: ready(second), 60, "second analyst ready")
        assert second.history.restored == {0: len(first_half)}
        assert second.history.replayed <= len(third)  # not the whole history again
        await leads.until(lambda _: len(escort_leads(leads)) >= 1, 30)
        [lead] = escort_leads(leads)
        assert third[-1]["event_id"] in {e.event_id for e in lead.evidence}
        assert "3 separate crossings" in lead.summary
        total = len(first_half) + len(third)
        assert _evidence(second.history.book.leads.values()) == await offline_leads(topics, total)
        assert second._facts()["snapshot_offsets"] == {0: len(first_half)}

    # a damaged snapshot: refused, the whole history replayed; it finds no lead that the
    # analyst started from the snapshot had not published
    data = bytearray(stored.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.path.write_bytes(bytes(data))
    published = await lead_records(topics)
    async with AnalystApp(state_settings(topics, state)) as third_run:
        await until(lambda: ready(third_run), 60, "analyst ready after a damaged snapshot")
        assert third_run.history.restored == {}
        assert third_run.history.replayed == total
    assert await lead_records(topics) == published
    assert stored.read(third_run.history.book).offsets == {0: total}  # written again, valid


async def test_a_snapshot_whose_records_retention_deleted_is_refused(
    topics: CommonSettings, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    escort = trip(ESCORT, MINORS[0], 20, None) + trip(ESCORT, MINORS[1], 12, None)
    async with AnalystApp(state_settings(topics, state)) as first:
        await until(lambda: ready(first), 60, "first analyst ready")
        await send(topics, escort)
        await until(lambda: first.history.analysed >= len(escort), 60, "analysed")
    later = background(20)
    await send(topics, later)
    total = len(escort) + len(later)
    tp = TopicPartition(topics.topic("analyst.sightings"), 0)
    async with AnalystApp(analyst_settings(topics)) as copier:  # copies, no snapshot of its own
        await until(lambda: copier.history.analysed >= total, 60, "copied")
    # retention: records after the snapshot's offset are gone from the topic's start
    async with admin_client(topics) as admin:
        await admin.delete_records({tp: RecordsToDelete(len(escort) + 5)})
    async with AnalystApp(state_settings(topics, state)) as second:
        await until(lambda: ready(second), 60, "second analyst ready")
        assert second.history.restored == {}
        assert second.history.replayed == total - (len(escort) + 5)
