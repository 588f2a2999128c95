"""Times as a duty officer reads them: the border post's local time with its UTC offset, and UTC
beside it; ages on the day of the event.

The post's time is the offset the event was sent with. An event sent in UTC (``Z``) is shown in
its country's zone when all the country's zones (the tz database's ``zone.tab``) keep the same
time at that instant (KAZ, UZB, KGZ, TJK, TKM...), else in UTC. Escalation deadlines stay
absolute instants (ISO with offset), so a countdown is right in whatever zone the screen is.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import TypedDict
from zoneinfo import ZoneInfo

import pycountry


class Stamp(TypedDict):
    local: str  # "2026-12-07 13:15:00" at the post
    offset: str  # "+05:00"
    utc: str  # "2026-12-07 08:15:00"
    zone: str | None  # "Asia/Almaty" when the post's zone is known


@cache
def _zones_by_alpha2() -> dict[str, tuple[str, ...]]:
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("utf-8")
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, _, zone = line.split("\t")[:3]
        found.setdefault(code, []).append(zone)
    return {code: tuple(zones) for code, zones in found.items()}


@cache
def _zones(country: str) -> tuple[ZoneInfo, ...]:
    known = pycountry.countries.get(alpha_3=country)
    names = _zones_by_alpha2().get(known.alpha_2, ()) if known is not None else ()
    return tuple(ZoneInfo(name) for name in names)


def country_zone(country: str, at: dt.datetime) -> ZoneInfo | None:
    """The zone of a country (ISO 3166 alpha-3) when all its zones agree at ``at``."""
    zones = _zones(country)
    offsets = {at.astimezone(zone).utcoffset() for zone in zones}
    return zones[0] if len(offsets) == 1 else None


def post_zone(occurred_at: dt.datetime, country: str) -> dt.tzinfo:
    """The zone the event's post keeps: the offset sent, or the country's zone for UTC."""
    if occurred_at.utcoffset():
        return occurred_at.tzinfo or dt.UTC
    return country_zone(country, occurred_at) or dt.UTC


def _offset(at: dt.datetime) -> str:
    minutes = int((at.utcoffset() or dt.timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def stamp(at: dt.datetime, zone: dt.tzinfo) -> Stamp:
    local = at.astimezone(zone)
    return {
        "local": local.strftime("%Y-%m-%d %H:%M:%S"),
        "offset": _offset(local),
        "utc": at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "zone": zone.key if isinstance(zone, ZoneInfo) else None,
    }


def stamp_text(value: Stamp, utc_word: str = "UTC") -> str:
    """One line: ``2026-12-07 13:15:00 (UTC+05:00) · 2026-12-07 08:15:00 UTC``; UTC alone when
    the post's zone is not known (sent in UTC from a country of several zones)."""
    if value["offset"] == "+00:00" and value["zone"] is None:
        return f"{value['utc']} {utc_word}"
    return f"{value['local']} ({utc_word}{value['offset']}) · {value['utc']} {utc_word}"


def age_on(date_of_birth: str | None, day: dt.date) -> int | None:
    """Full years on ``day``; None for a partial date whose age is not certain."""
    if not date_of_birth:
        return None
    parts = [int(p) for p in date_of_birth.split("-")]
    year, month, dom = [*parts, 0, 0][:3]
    if month == 0 or (dom == 0 and month == day.month):
        return None
    before = (day.month, day.day) < (month, dom or 1)
    return day.year - year - (1 if before else 0)
