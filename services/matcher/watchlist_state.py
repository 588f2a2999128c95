"""The watchlist as the matcher screens it, kept current from ``watchlist.entries``.

The reader belongs to no consumer group: each process needs every entry. With a store
(``matcher_store_path``) documents and SLTD entries live on disk and people in memory: the
process opens the store, files its people in memory, and reads the topic from the offsets the
store recorded, so a restart reads only the changes since. Without one, everything is in memory
and the topic is read from its beginning. Either way the matcher is ready once it has caught up
with the end offsets seen at start, and it keeps reading afterwards, polling every 100 ms, so a
cancellation or a tombstone stops matching well within a second.

Each poll's records and the offsets after them are one store transaction. A store that does not
open cleanly (damaged, truncated, half-built, of another topic, or older than the topic keeps
its tombstones) is logged with the reason, set aside and rebuilt from the topic before anything
is screened. An unreadable record is skipped here (the previous version of the entry stays);
the retro-screening group, which reads each change once, dead-letters it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pydantic import ValidationError

from schemas.codec import decode_entry
from services.common.kafka import make_consumer, partitions_of
from services.common.logging import get_logger
from services.matcher.docstore import DocStore, StoreUnusable, open_index
from services.matcher.docstore.codec import StoreCorrupt
from services.matcher.docstore.store import DATA_FILE
from services.matcher.domain import WatchlistIndex, entry_record
from services.matcher.settings import MatcherSettings

log = get_logger(__name__)

# The matcher's readiness condition: no event is screened against a partial list.
WATCHLIST_CAUGHT_UP = "watchlist_caught_up"
# With nothing to write, the store still records now and then that it read up to date.
_HEARTBEAT_S = 60.0
_MAX_RECORDS = 5000


class WatchlistState:
    def __init__(self, settings: MatcherSettings) -> None:
        self.settings = settings
        self.index = WatchlistIndex()
        self.store: DocStore | None = None
        self.topic = settings.topic("watchlist.entries")
        self.ready = asyncio.Event()
        self.records_read = 0
        self.invalid_records = 0
        self.rebuilt: str | None = None  # why the store was rebuilt at start, if it was
        self._written_at = time.monotonic()

    async def run(self) -> None:
        """Read the topic until cancelled."""
        assigned = await partitions_of(self.settings, self.topic)
        consumer = make_consumer(
            self.settings, group_id=None, isolation_level="read_uncommitted",
            max_poll_records=_MAX_RECORDS,
        )  # fmt: skip
        try:
            async with consumer:
                consumer.assign(assigned)
                targets = await consumer.end_offsets(assigned)
                await self._start(consumer, assigned, targets)
                log.info("watchlist.loading", partitions=len(assigned), entries=len(self.index))
                while True:
                    await self._poll(consumer)
                    if not self.ready.is_set() and await _caught_up(consumer, targets):
                        self.ready.set()
                        log.info("watchlist.ready", entries=len(self.index), read=self.records_read)
        finally:
            if self.store is not None:
                self.store.close()

    async def _start(
        self,
        consumer: AIOKafkaConsumer,
        assigned: list[TopicPartition],
        ends: Mapping[TopicPartition, int],
    ) -> None:
        """Open (or rebuild) the store and seek each partition to where it left off."""
        starts: dict[int, int] = {}
        if self.settings.matcher_store_path is not None:
            starts = await asyncio.to_thread(
                self._open_store, {tp.partition: e for tp, e in ends.items()}
            )
        await consumer.seek_to_beginning(*assigned)
        for tp in assigned:
            if tp.partition in starts:
                consumer.seek(tp, starts[tp.partition])

    def _open_store(self, ends: Mapping[int, int]) -> dict[int, int]:
        """Blocking: open the store, check it against the topic, file its people."""
        path = self.settings.matcher_store_path
        assert path is not None
        if not (path / DATA_FILE).exists():
            log.info("watchlist.store_created", path=str(path))
            self.store = DocStore.create(path, self.topic)
            self.index = open_index(self.store)
            return {}
        started = time.perf_counter()
        try:
            store = DocStore.open(path, self.topic)
            offsets = store.offsets()
            self._check_fresh(store, offsets, ends)
            if not store.keyed_by_current_rules():  # open_index keys its people again first
                log.warning("watchlist.store_rekeyed", path=str(path), reason="name rules changed")
            index = _file_people(store)
        except StoreUnusable as exc:
            self.rebuilt = str(exc)
            log.warning("watchlist.store_rebuilt", path=str(path), reason=str(exc))
            self.store = DocStore.create(path, self.topic)
            self.index = open_index(self.store)
            return {}
        self.store, self.index = store, index
        log.info(
            "watchlist.store_opened", path=str(path), people=self.index.people,
            entries=len(self.index), seconds=round(time.perf_counter() - started, 3),
        )  # fmt: skip
        return offsets

    def _check_fresh(
        self, store: DocStore, offsets: dict[int, int], ends: Mapping[int, int]
    ) -> None:
        ahead = [p for p, offset in offsets.items() if offset > ends.get(p, 0)]
        if ahead:
            store.close()
            raise StoreUnusable(f"the store has read past the topic's end (partitions {ahead})")
        updated = store.updated_at()
        max_age = self.settings.matcher_store_max_age_s
        if updated is not None and time.time() - updated > max_age:
            store.close()
            raise StoreUnusable(
                f"the store was last brought up to date {time.time() - updated:.0f} s ago, more "
                f"than {max_age:.0f} s: compaction may have removed tombstones it never read"
            )

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        batch = await consumer.getmany(timeout_ms=100, max_records=_MAX_RECORDS)
        store = self.store
        if store is None:
            for records in batch.values():
                for record in records:
                    self.apply(record)
            return
        if not batch and time.monotonic() - self._written_at < _HEARTBEAT_S:
            return
        after = {tp.partition: records[-1].offset + 1 for tp, records in batch.items() if records}
        with store.writing(after):
            for records in batch.values():
                for record in records:
                    self.apply(record)
        self._written_at = time.monotonic()

    def apply(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self.records_read += 1
        entry_id = record.key.decode(errors="replace") if record.key else None
        if record.value is None:  # tombstone
            if entry_id:
                self.index.remove(entry_id)
            return
        try:
            entry = decode_entry(record.value)
        except ValidationError:
            self.invalid_records += 1
            log.warning(
                "watchlist.record_invalid", partition=record.partition, offset=record.offset
            )
            return
        self.index.upsert(entry_record(entry))  # a cancelled entry removes itself


def _file_people(store: DocStore) -> WatchlistIndex:
    """The index over an opened store, its people filed; a person that does not decode (the
    checks at open read only the first and the last) makes the store unusable."""
    try:
        return open_index(store)
    except (StoreUnusable, StoreCorrupt, TypeError, ValueError) as exc:
        store.close()  # its writer lock too: the store is rebuilt in its place
        if isinstance(exc, StoreUnusable):
            raise
        # TypeError, ValueError: a value that decodes to the wrong shape
        raise StoreUnusable(f"the store is damaged ({exc})") from exc


async def _caught_up(consumer: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> bool:
    for partition, end in targets.items():
        if await consumer.position(partition) < end:
            return False
    return True
