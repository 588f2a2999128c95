"""The notifier's memoising partitioner puts every key where aiokafka's default one does."""

from __future__ import annotations

import os
import uuid

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as reference_murmur2

from services.common.batches import KeyPartitioner, murmur2


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
