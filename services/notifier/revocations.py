"""Nonces no replica may accept again: signed-out console sessions and used ack links.

Each is written to the compacted ``notifications.revocations`` topic before the request that
made it is answered, and every notifier replica reads the whole topic (no consumer group), so a
cookie signed out on one replica is refused by all of them. The notifier is not ready before it
has read the topic to its end. Entries are forgotten once their session or link has expired.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, ConsumerRecord

from schemas.codec import decode, encode, schema_header
from schemas.notification import Revocation, RevocationKind
from services.common import topic_read
from services.common.kafka import make_consumer, partitions_of
from services.common.logging import get_logger
from services.common.settings import CommonSettings

log = get_logger(__name__)
SWEEP_S = 60.0  # expired entries are forgotten at most this often (not on every poll)


def _key(kind: RevocationKind, nonce: str) -> str:
    return f"{kind.value}:{nonce}"


class Revocations:
    def __init__(self, settings: CommonSettings, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.topic = settings.topic("notifications.revocations")
        self.producer = producer
        self.revoked: dict[str, float] = {}  # key -> unix expiry
        self.caught_up = asyncio.Event()
        self._swept = 0.0

    def is_revoked(self, kind: RevocationKind, nonce: str) -> bool:
        return _key(kind, nonce) in self.revoked

    def claim(self, kind: RevocationKind, nonce: str, expires: int) -> bool:
        """Mark a nonce used here and now; False if it already was (a second use)."""
        key = _key(kind, nonce)
        if key in self.revoked:
            return False
        self.revoked[key] = float(expires)
        return True

    def release(self, kind: RevocationKind, nonce: str) -> None:
        """Undo ``claim`` when the use it guarded did not happen."""
        self.revoked.pop(_key(kind, nonce), None)

    async def store(self, kind: RevocationKind, nonce: str, expires: int) -> None:
        """Written and acknowledged before the caller answers (raises KafkaError if not)."""
        at = datetime.fromtimestamp(expires, UTC)
        value = encode(Revocation(kind=kind, nonce=nonce, expires_at=at))
        headers = [schema_header(Revocation)]
        key = _key(kind, nonce).encode()
        await self.producer.send_and_wait(self.topic, value, key=key, headers=headers)

    async def run(self) -> None:
        """Read every partition from the start, then follow it (a task of its own)."""
        partitions = await partitions_of(self.settings, self.topic)
        async with make_consumer(self.settings, group_id=None) as consumer:
            async for batch in topic_read.read(
                consumer, await topic_read.to_end(consumer, partitions)
            ):
                self._apply_all(batch)
            self.caught_up.set()
            log.info("notifier.revocations_read", revoked=len(self.revoked))
            while True:  # and on: the partitions stay assigned past their ends
                for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                    self._apply_all(records)
                self._forget_expired()

    def _apply_all(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            self._apply(record.key, record.value)

    def _apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None or value is None:
            return  # a tombstone: compaction has forgotten it, so may we
        try:
            item = decode(Revocation, value)
        except ValueError:
            log.warning("notifier.revocation_unreadable")
            return
        self.revoked[_key(item.kind, item.nonce)] = item.expires_at.timestamp()

    def _forget_expired(self) -> None:
        now = time.time()
        if now - self._swept < SWEEP_S:
            return
        self._swept = now
        for key in [k for k, expires in self.revoked.items() if expires < now]:
            del self.revoked[key]
