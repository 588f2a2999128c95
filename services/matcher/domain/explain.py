"""One line of an alert's explanation: which field, what each side said, how they compare.

``how`` is a fixed vocabulary, ``schemas.alert.How`` (the notifier has words for each code).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.alert import How


@dataclass(frozen=True, slots=True)
class Evidence:
    field: str
    event: str | None
    entry: str | None
    how: How
    score: float

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "event": self.event,
            "entry": self.entry,
            "how": self.how,
            "score": round(self.score, 2),
        }
