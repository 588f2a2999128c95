"""Border posts of the region and their daily traffic profiles.

Codes follow the shape of the design examples (``KZ-ALA-AIR``): alpha-2, a place code, the
kind. Volumes are relative (a big airport is 10, a quiet mountain crossing 1). Profiles give
the share of a day's traffic in each local hour: airports have a morning and an evening wave
and a night trickle; land crossings open by day, some close at night.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Hour weights 0..23, local time.
_AIR = (2, 1, 1, 1, 2, 4, 7, 9, 9, 8, 7, 6, 6, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3)
_LAND_24H = (1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 8, 8, 8, 8, 7, 6, 5, 4, 3, 2, 2, 1)
_LAND_DAY = (0, 0, 0, 0, 0, 0, 0, 3, 8, 10, 10, 9, 8, 8, 9, 9, 8, 6, 3, 0, 0, 0, 0, 0)
_RAIL = (1, 0, 0, 0, 0, 1, 2, 3, 3, 2, 1, 1, 1, 2, 3, 3, 2, 2, 3, 3, 2, 2, 1, 1)
_INLAND = (0, 0, 0, 0, 0, 0, 1, 2, 5, 8, 9, 9, 8, 8, 9, 9, 8, 6, 4, 3, 2, 1, 1, 0)


class Kind(StrEnum):
    AIR = "air"
    LAND = "land"
    RAIL = "rail"
    INLAND = "inland"


@dataclass(frozen=True)
class Post:
    code: str
    name: str
    country: str  # ISO alpha-3 of the state running the post
    kind: Kind
    volume: float
    utc_offset: int  # hours; the region keeps no daylight saving
    profile: tuple[int, ...]

    def weight_at(self, utc_hour: int) -> float:
        """Relative traffic of this post in the given UTC hour."""
        return self.volume * self.profile[(utc_hour + self.utc_offset) % 24]


_PROFILES = {Kind.AIR: _AIR, Kind.LAND: _LAND_24H, Kind.RAIL: _RAIL, Kind.INLAND: _INLAND}


def _post(row: tuple[str, str, str, Kind, float, int, bool]) -> Post:
    """A table row -> a Post; the last column marks land crossings closed at night."""
    code, name, country, kind, volume, offset, day_only = row
    profile = _LAND_DAY if day_only else _PROFILES[kind]
    return Post(code, name, country, kind, volume, offset, profile)


AIR, LAND, RAIL, INLAND = Kind.AIR, Kind.LAND, Kind.RAIL, Kind.INLAND
DAY = True  # closed at night

# code, name, country, kind, relative volume, UTC offset, closed at night
_ROWS: tuple[tuple[str, str, str, Kind, float, int, bool], ...] = (
    ("UZ-TAS-AIR", "Tashkent International Airport", "UZB", AIR, 10, 5, False),
    ("UZ-SKD-AIR", "Samarkand International Airport", "UZB", AIR, 4, 5, False),
    ("UZ-BHK-AIR", "Bukhara International Airport", "UZB", AIR, 2, 5, False),
    ("UZ-OYB-LND", "Oybek crossing (UZB-TJK)", "UZB", LAND, 5, 5, False),
    ("UZ-YAL-LND", "Yallama crossing (UZB-KAZ)", "UZB", LAND, 4, 5, False),
    ("UZ-DST-LND", "Dostlik crossing (UZB-KGZ)", "UZB", LAND, 5, 5, False),
    ("UZ-ALT-LND", "Alat crossing (UZB-TKM)", "UZB", LAND, 1.5, 5, DAY),
    ("UZ-TAS-INL", "Tashkent city police document check", "UZB", INLAND, 3, 5, False),
    ("KZ-ALA-AIR", "Almaty International Airport", "KAZ", AIR, 9, 5, False),
    ("KZ-NQZ-AIR", "Astana International Airport", "KAZ", AIR, 6, 5, False),
    ("KZ-SHY-AIR", "Shymkent International Airport", "KAZ", AIR, 2, 5, False),
    ("KZ-ZHB-LND", "Zhibek Zholy crossing (KAZ-UZB)", "KAZ", LAND, 5, 5, False),
    ("KZ-KRD-LND", "Korday crossing (KAZ-KGZ)", "KAZ", LAND, 5, 5, False),
    ("KZ-KHR-LND", "Khorgos crossing (KAZ-CHN)", "KAZ", LAND, 3, 5, False),
    ("KZ-PTR-RAI", "Petropavlovsk rail crossing (KAZ-RUS)", "KAZ", RAIL, 2, 5, False),
    ("KZ-ALA-INL", "Almaty migration police check", "KAZ", INLAND, 3, 5, False),
    ("KG-FRU-AIR", "Manas International Airport, Bishkek", "KGZ", AIR, 5, 6, False),
    ("KG-OSS-AIR", "Osh International Airport", "KGZ", AIR, 3, 6, False),
    ("KG-AKZ-LND", "Ak-Zhol crossing (KGZ-KAZ)", "KGZ", LAND, 4, 6, False),
    ("KG-DST-LND", "Dostuk crossing (KGZ-UZB)", "KGZ", LAND, 3, 6, DAY),
    ("KG-TRG-LND", "Torugart pass (KGZ-CHN)", "KGZ", LAND, 0.8, 6, DAY),
    ("KG-FRU-INL", "Bishkek police document check", "KGZ", INLAND, 2, 6, False),
    ("TJ-DYU-AIR", "Dushanbe International Airport", "TJK", AIR, 4, 5, False),
    ("TJ-LBD-AIR", "Khujand Airport", "TJK", AIR, 1.5, 5, False),
    ("TJ-FTH-LND", "Fotehobod crossing (TJK-UZB)", "TJK", LAND, 3, 5, False),
    ("TJ-NPJ-LND", "Nizhny Panj bridge (TJK-AFG)", "TJK", LAND, 1, 5, DAY),
    ("TM-ASB-AIR", "Ashgabat International Airport", "TKM", AIR, 3, 5, False),
    ("TM-FRP-LND", "Farap crossing (TKM-UZB)", "TKM", LAND, 1.5, 5, DAY),
    ("TM-DSH-LND", "Dashoguz crossing (TKM-UZB)", "TKM", LAND, 1, 5, DAY),
    ("RU-SVO-AIR", "Moscow Sheremetyevo Airport", "RUS", AIR, 8, 3, False),
    ("RU-DME-AIR", "Moscow Domodedovo Airport", "RUS", AIR, 5, 3, False),
    ("RU-SVX-AIR", "Yekaterinburg Koltsovo Airport", "RUS", AIR, 3, 5, False),
    ("RU-TRK-LND", "Troitsk crossing (RUS-KAZ)", "RUS", LAND, 2, 5, False),
    ("RU-MOW-INL", "Moscow migration police check", "RUS", INLAND, 4, 3, False),
)
POSTS: tuple[Post, ...] = tuple(_post(row) for row in _ROWS)

BY_CODE: dict[str, Post] = {post.code: post for post in POSTS}
COUNTRIES: tuple[str, ...] = tuple(sorted({post.country for post in POSTS}))


def weights_at(utc_hour: int, posts: tuple[Post, ...] = POSTS) -> list[float]:
    """Every post's weight in this UTC hour (the simulator draws posts with these)."""
    return [post.weight_at(utc_hour) for post in posts]
