"""The notifier's memoising partitioner puts every key where aiokafka's default one does; an
idempotent producer refused out of sequence takes a new producer id."""

from __future__ import annotations

import os
import uuid

from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as reference_murmur2

from services.common.batches import KeyPartitioner, murmur2
from services.common.kafka import make_producer, renew_producer_id
from services.common.settings import CommonSettings


def test_same_partition_as_the_default_for_every_key() -> None:
    ours, default = KeyPartitioner(size=64), DefaultPartitioner()
    partitions = list(range(6))
    keys = [uuid.uuid4().hex.encode() for _ in range(500)] + [b"", b"a", b"ab", b"abc"]
    for key in keys * 2:  # the second pass is served from the (evicting) cache
        assert ours(key, partitions, partitions) == default(key, partitions, partitions)
    assert len(ours._hashes) <= 64


def test_no_key_goes_to_an_available_partition() -> None:
    assert KeyPartitioner()(None, [0, 1, 2], [2]) == 2


def test_murmur2_equals_aiokafkas_for_every_length() -> None:
    for length in range(70):
        for _ in range(20):
            data = os.urandom(length)
            assert murmur2(data) & 0xFFFFFFFF == reference_murmur2(data) & 0xFFFFFFFF


async def test_an_idempotent_producer_takes_a_new_id_after_an_out_of_sequence_refusal() -> None:
    producer = make_producer(CommonSettings())  # never started: its id state alone
    manager = producer._txn_manager
    assert manager is not None
    manager.set_pid_and_epoch(41, 0)
    manager.increment_sequence_number(TopicPartition("t", 0), 7)
    assert renew_producer_id(producer)
    assert not manager.has_pid()  # the sender asks the broker for a new one first
    assert manager.sequence_number(TopicPartition("t", 0)) == 0
    assert not renew_producer_id(producer)  # one renewal at a time
    manager.set_pid_and_epoch(42, 0)  # what the sender's InitProducerId answer sets
    assert manager.has_pid()
    await producer.stop()


async def test_a_producer_without_idempotence_keeps_its_state() -> None:
    producer = make_producer(CommonSettings(), enable_idempotence=False)
    assert not renew_producer_id(producer)
    await producer.stop()
