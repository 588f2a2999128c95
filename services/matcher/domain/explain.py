"""One line of an alert's explanation: which field, what each side said, how they compare.

``how`` is a fixed vocabulary a duty officer can read:
exact, transliteration, spelling_variant, sounds_alike, one_edit, gender_form, swapped_order,
partial_date, placeholder_date, day_month_swapped, same_year, different, unknown,
only_in_event, same_number, same, contradicts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Evidence:
    field: str
    event: str | None
    entry: str | None
    how: str
    score: float

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "event": self.event,
            "entry": self.entry,
            "how": self.how,
            "score": round(self.score, 2),
        }
