"""faust's message as the record shape the fate wrapper understands.

Built once per event, but read only when a record is dead-lettered or logged, so it holds the
message and converts its fields on demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class FaustRecord:
    __slots__ = ("message",)

    def __init__(self, message: Any) -> None:
        self.message = message

    @classmethod
    def of(cls, message: Any) -> FaustRecord:
        return cls(message)

    @property
    def topic(self) -> str:
        topic: str = self.message.topic
        return topic

    @property
    def partition(self) -> int:
        partition: int = self.message.partition
        return partition

    @property
    def offset(self) -> int:
        offset: int = self.message.offset
        return offset

    @property
    def timestamp(self) -> int:
        """Milliseconds, as aiokafka's records carry it (faust keeps seconds)."""
        return int(self.message.timestamp * 1000)

    @property
    def key(self) -> bytes | None:
        key: bytes | None = self.message.key
        return key

    @property
    def value(self) -> bytes | None:
        value: bytes | None = self.message.value
        return value

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]:
        raw = self.message.headers or ()
        return list(raw.items()) if isinstance(raw, dict) else list(raw)
