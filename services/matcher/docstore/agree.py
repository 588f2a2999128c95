"""Does the store hold what the topic says? Every active entry of ``watchlist.entries`` up to
the offsets the store recorded (the whole topic when it recorded none) must be in the store,
equal to what the screener would make of it, and the store must hold no more than those.

Used after an offline build (``relay watchlist check-index``) and by the tests. It reads the
topic a partition at a time (an entry id always hashes to one partition), holding the latest
value of each id of that partition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import TopicPartition
from pydantic import ValidationError

from schemas.codec import decode_entry
from services.common import topic_read
from services.common.kafka import make_consumer, partitions_of
from services.common.settings import CommonSettings
from services.matcher.docstore.store import DocStore
from services.matcher.domain import entry_record
from services.matcher.domain.documents import document_key
from services.matcher.domain.records import Cancelled, EntryRecord, PersonRecord, SltdRecord

_SHOWN = 20  # ids listed per kind of disagreement


@dataclass
class Agreement:
    persons: int = 0  # active person entries on the topic
    sltd: int = 0  # active SLTD entries on the topic
    missing: list[str] = field(default_factory=list)  # on the topic, not (or not so) in the store
    missing_count: int = 0
    store_persons: int = 0
    store_sltd: int = 0

    @property
    def agrees(self) -> bool:
        return (
            self.missing_count == 0
            and self.store_persons == self.persons
            and self.store_sltd == self.sltd
        )


async def compare(settings: CommonSettings, store: DocStore) -> Agreement:
    topic = settings.topic("watchlist.entries")
    stops = store.offsets()
    result = Agreement(store_persons=store.stats()["persons"], store_sltd=store.sltd_count())
    for tp in await partitions_of(settings, topic):
        latest = await _latest(settings, tp, stops.get(tp.partition))
        for entry_id, record in latest.items():
            if record is None or isinstance(record, Cancelled):
                continue
            result.persons += isinstance(record, PersonRecord)
            result.sltd += isinstance(record, SltdRecord)
            if not _held(store, record):
                result.missing_count += 1
                if len(result.missing) < _SHOWN:
                    result.missing.append(entry_id)
    return result


async def _latest(
    settings: CommonSettings, tp: TopicPartition, stop: int | None
) -> dict[str, EntryRecord | None]:
    latest: dict[str, EntryRecord | None] = {}
    async with make_consumer(
        settings, group_id=None, isolation_level="read_uncommitted"
    ) as consumer:
        ranges = await topic_read.to_end(consumer, [tp])
        if stop is not None:
            ranges[tp] = (ranges[tp][0], min(stop, ranges[tp][1]))
        async for batch in topic_read.read(consumer, ranges):
            for message in batch:
                entry_id = message.key.decode(errors="replace") if message.key else ""
                if message.value is None:
                    latest[entry_id] = None
                    continue
                try:
                    latest[entry_id] = entry_record(decode_entry(message.value))
                except ValidationError:
                    continue  # the matcher skips it too: the previous version stays
    return latest


def _held(store: DocStore, record: EntryRecord) -> bool:
    if isinstance(record, SltdRecord):
        if record.key is None:
            return store.has_sltd(record.entry_id)
        return record in store.holders(record.key)
    if isinstance(record, PersonRecord):
        if store.person(record.entry_id) != record:
            return False
        keys = {document_key(d.issuing_state, d.number) for d in record.documents}
        return all(record.entry_id in store.holders(k) for k in keys if k is not None)
    return True
