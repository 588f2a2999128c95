"""``flow_surge``: a route and traveller profile far above its usual weekly volume.

A cell is (country reporting the exit, destination of the journey, sex, age band); its count
is the journeys in one calendar week (Monday 00:00 UTC onwards): the members of one party in
the cell are one journey, since a Poisson spread holds for independent decisions to travel,
not for the members of a family. The statistic is a robust z:

    z = (count - median) / max(1.4826 * MAD, sqrt(max(median, 1)))

over the cell's counts in the ``baseline_weeks`` weeks before (weeks without a crossing count
as 0, from the first week the analysis saw any event). The floor sqrt(max(median, 1)) is the
spread a Poisson count would have: a quiet route whose MAD is 0 does not turn every busy week
into a surge. A lead needs ``min_baseline_weeks`` of history, ``min_count`` journeys and
z >= ``min_statistic``. Leads hold counts only: no subject, no person.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass, field
from functools import lru_cache

from schemas.lead import Aggregate, Pattern
from services.analyst.domain.leads import Finding, Proof
from services.analyst.domain.params import FlowSurge
from services.analyst.domain.sighting import Sighting, age_band

MAX_IDS = 50
MAD_TO_SD = 1.4826  # MAD of a normal distribution times this is its standard deviation

Cell = tuple[str, str, str, str]  # country, destination, sex, age band


def week_of(at: dt.datetime) -> dt.date:
    return monday_of(at.astimezone(dt.UTC).date())


@lru_cache(maxsize=1_024)
def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def robust_z(count: int, baseline: list[int]) -> tuple[float, float, float]:
    """(z, median, MAD) of ``count`` against ``baseline`` (see the module's docstring)."""
    median = statistics.median(baseline)
    mad = statistics.median(abs(x - median) for x in baseline)
    scale = max(MAD_TO_SD * mad, math.sqrt(max(median, 1.0)))
    return (count - median) / scale, median, mad


@dataclass
class _Week:
    exits: int = 0
    journeys: set[str] = field(default_factory=set)  # a party's key, else the event's id
    last: dt.datetime | None = None
    ids: list[Proof] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Journeys, not persons: a family of five is one decision to travel, and counting
        each member would make a few families to one destination look like a surge."""
        return len(self.journeys)


@dataclass
class Surges:
    params: FlowSurge
    first_week: dt.date | None = None
    cells: dict[Cell, dict[dt.date, _Week]] = field(default_factory=dict)

    def cell_of(self, s: Sighting) -> Cell | None:
        if not s.crossing or s.direction != "exit" or not s.destination:
            return None
        if s.destination == s.country or s.identity.sex not in ("M", "F"):
            return None
        band = age_band(s.identity.date_of_birth, s.day)
        return None if band is None else (s.country, s.destination, s.identity.sex, band)

    def on_sighting(self, s: Sighting) -> Finding | None:
        week = monday_of(s.day)
        if self.first_week is None or week < self.first_week:
            self.first_week = week
        cell = self.cell_of(s)
        if cell is None:
            return None
        weeks = self.cells.setdefault(cell, {})
        current = weeks.setdefault(week, _Week())
        current.exits += 1
        current.journeys.add(s.party or s.event_id)
        current.last = s.at
        if len(current.ids) < MAX_IDS:
            current.ids.append(Proof(s.event_id, s.at, ""))
        return self._evaluate(cell, week, current)

    def _baseline(self, cell: Cell, week: dt.date) -> list[int]:
        weeks = self.cells[cell]
        out = []
        for back in range(1, self.params.baseline_weeks + 1):
            day = week - dt.timedelta(weeks=back)
            if self.first_week is None or day < self.first_week:
                break
            found = weeks.get(day)
            out.append(found.count if found else 0)
        return out

    def _evaluate(self, cell: Cell, week: dt.date, current: _Week) -> Finding | None:
        if current.count < self.params.min_count:
            return None
        baseline = self._baseline(cell, week)
        if len(baseline) < self.params.min_baseline_weeks:
            return None
        z, median, mad = robust_z(current.count, baseline)
        if z < self.params.min_statistic:
            return None
        score = min(1.0, 0.6 + 0.02 * (z - self.params.min_statistic))
        if score < self.params.min_score:
            return None
        return _finding(cell, week, current, (z, median, mad), score)

    def purge(self, before: dt.datetime) -> None:
        oldest = week_of(before) - dt.timedelta(weeks=self.params.baseline_weeks)
        for cell in list(self.cells):
            weeks = {w: c for w, c in self.cells[cell].items() if w >= oldest}
            if weeks:
                self.cells[cell] = weeks
            else:
                del self.cells[cell]


def _finding(
    cell: Cell, week: dt.date, current: _Week, stat: tuple[float, float, float], score: float
) -> Finding:
    country, destination, sex, band = cell
    z, median, mad = stat
    who = {"F": "women", "M": "men"}[sex] + f" aged {band}"
    route = f"{country} to {destination}"
    evidence = [
        Proof(p.event_id, p.at, f"exit {n} this week of {who} from {route} (usual: {median:g})")
        for n, p in enumerate(current.ids, start=1)
    ]
    aggregate = Aggregate(
        country=country, destination=destination, sex=sex, age_band=band,
        week_start=week.isoformat(), count=current.count, baseline_median=float(median),
        baseline_mad=float(mad), statistic=round(z, 2),
    )  # fmt: skip
    summary = (
        f"{current.count} journeys ({current.exits} exits; a party is one journey) of {who} "
        f"from {route} in the week of {week.isoformat()}, against a usual {median:g} a week "
        f"(robust z {z:.1f})."
    )
    at = current.last or dt.datetime.combine(week, dt.time(), dt.UTC)
    return Finding(
        Pattern.FLOW_SURGE, (country, destination, sex, band, week.isoformat()), score,
        country, at, summary, evidence, aggregate=aggregate,
    )  # fmt: skip
