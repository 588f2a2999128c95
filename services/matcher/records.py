"""faust's message as the record shape the fate wrapper understands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FaustRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]

    @classmethod
    def of(cls, message: Any) -> FaustRecord:
        raw_headers = message.headers or ()
        headers = list(raw_headers.items()) if isinstance(raw_headers, dict) else list(raw_headers)
        return cls(
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            timestamp=int(message.timestamp * 1000),
            key=message.key,
            value=message.value,
            headers=headers,
        )
