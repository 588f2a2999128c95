"""The fate wrapper's retry branch and the retry-until-stored helper, without a broker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from services.common.errors import TransientError
from services.common.fate import Fate, FateWrapper, RetryPolicy, until_stored
from services.common.metrics import Metrics

QUICK = RetryPolicy(attempts=3, base_delay_s=0.001, max_delay_s=0.002)


@dataclass
class Record:
    topic: str = "p.watchlist.entries"
    partition: int = 0
    offset: int = 7
    timestamp: int = 1764000000000
    key: bytes | None = b"RED-1"
    value: bytes | None = b"{}"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Producer:
    sent: list[tuple[str, bytes | None, dict[str, Any]]] = field(default_factory=list)

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, **kwargs: Any
    ) -> None:
        self.sent.append((topic, value, kwargs))


def failing(times: int) -> tuple[list[int], Any]:
    """A handler whose dependency is away for its first ``times`` calls."""
    calls: list[int] = []

    async def handler() -> None:
        calls.append(len(calls))
        if len(calls) <= times:
            raise TransientError("archive unavailable")

    return calls, handler


def wrapper(producer: Producer) -> FateWrapper:
    return FateWrapper("test", producer, "p.dlq", QUICK, Metrics(service="test"))


async def test_a_transient_failure_is_retried_until_the_handler_succeeds() -> None:
    producer = Producer()
    calls, handler = failing(2)
    assert await wrapper(producer).run(Record(), handler) is Fate.DONE
    assert len(calls) == 3
    assert producer.sent == []


async def test_a_dependency_away_for_every_attempt_dead_letters_the_record_saying_so() -> None:
    producer = Producer()
    metrics = Metrics(service="test")
    fate = FateWrapper("test", producer, "p.dlq", QUICK, metrics)
    calls, handler = failing(10)
    assert await fate.run(Record(), handler) is Fate.DEAD_LETTERED
    assert len(calls) == QUICK.attempts
    [(topic, value, sent)] = producer.sent
    headers = dict(sent["headers"])
    assert (topic, value) == ("p.dlq", b"{}")
    assert headers["relay-dlq-reason"] == b"gave up after 3 attempts: archive unavailable"
    assert headers["relay-dlq-error"] == b"TransientError"
    assert headers["relay-dlq-attempts"] == b"3"
    counted = metrics.registry.get_sample_value(
        "relay_dead_letters_total", {"service": "test", "topic": "p.watchlist.entries"}
    )
    assert counted == 1


def test_a_policy_without_attempts_never_gives_up() -> None:
    forever = RetryPolicy.forever(base_delay_s=0.2, max_delay_s=5.0)
    assert forever.attempts is None
    assert not forever.gives_up(10**9)
    assert QUICK.gives_up(3)
    assert not QUICK.gives_up(2)
    # Late attempts wait at most the cap, however many there were.
    assert all(0 <= forever.delay(n) <= 5.0 for n in (0, 6, 1000, 10**9))


async def test_until_stored_writes_again_after_each_broker_failure() -> None:
    tries: list[int] = []

    async def write() -> str:
        tries.append(len(tries))
        if len(tries) < 4:
            raise KafkaConnectionError("broker away")
        return "stored"

    backoff = RetryPolicy.forever(base_delay_s=0.001, max_delay_s=0.002)
    assert await until_stored(write, "test", backoff) == "stored"
    assert len(tries) == 4


async def test_until_stored_leaves_other_errors_to_the_caller() -> None:
    async def write() -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        await until_stored(write, "test")
