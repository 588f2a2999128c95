"""Which alerts this notifier replica acts on: those of the ``alerts`` partitions it owns.

Kafka's consumer group decides the ownership (``handover``); this only remembers it. An alert's
partition is its key's (``schemas.alert.alert_key``, the entry id), and every record about the
alert (its jobs on the deliveries topic, answers, cancellations, hit reports) is written to the
same partition number of its own topic, so one owner holds all of an alert's state.

The epoch changes at every revocation and assignment: work scheduled under an older epoch
(a retry timer, an escalation) is dropped when it fires, and the new assignment schedules
again what is still to do. So a partition kept across a rebalance is never worked twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.alert import alert_key
from services.common.batches import partition_of


@dataclass
class Ownership:
    partitions: int = 1
    owned: set[int] = field(default_factory=lambda: {0})
    epoch: int = 0

    @classmethod
    def of_group(cls, partitions: int) -> Ownership:
        """A replica before its group assigns it anything: it owns nothing yet."""
        return cls(partitions=partitions, owned=set())

    def partition(self, entry_id: str | None, alert_id: str) -> int:
        if self.partitions == 1:
            return 0
        return partition_of(alert_key(entry_id or alert_id), self.partitions)

    def owns(self, entry_id: str | None, alert_id: str) -> bool:
        return self.partition(entry_id, alert_id) in self.owned

    def suspend(self) -> None:
        """A rebalance began: act on nothing until the next assignment."""
        self.owned = set()
        self.epoch += 1

    def assign(self, partitions: set[int]) -> None:
        self.owned = set(partitions)
        self.epoch += 1
