"""A bounded memory of recently published event ids (best-effort resend suppression)."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """Least-recently-used set of at most ``capacity`` ids; capacity 0 remembers nothing."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        if self.capacity <= 0:
            return
        self._ids[event_id] = None
        self._ids.move_to_end(event_id)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
