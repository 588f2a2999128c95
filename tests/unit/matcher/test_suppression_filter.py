"""The matcher's false-match filter: the suppressed pair at that country's posts only, never a
document hit; each suppressed match counted and audited under the alert id it would have had."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas.alert import alert_id_for
from schemas.codec import decode_event, encode
from schemas.notification import AuditAction, AuditRecord
from schemas.suppression import Suppression, TravellerIdentity, suppression_id_for
from services.common.settings import CommonSettings
from services.common.suppressions import SuppressionTable
from services.matcher.domain import WatchlistIndex, entry_record
from services.matcher.handlers import screen_event
from services.matcher.metrics import MatcherMetrics
from services.matcher.suppressions import MatchSuppression
from tests.unit.matcher.helpers import event, person_entry, screen, sltd_entry

NOW = datetime.now(UTC)
ENTRIES = [
    person_entry(
        "RED-T-1", [{"surname": "KHOLMATOV", "given_names": "ALISHER"}],
        date_of_birth="1985-03-02", sex="M",
        documents=[{"number": "FA1234567", "issuing_state": "UZB", "type": "P"}],
    ),
    sltd_entry("DOC-T-1", "ZZ1111111"),
]  # fmt: skip
MET = TravellerIdentity(
    surname="KHOLMATOV", given_names="ALISHER", date_of_birth="1985-03-02",
    document_number="ZZ1111111", issuing_state="UZB",
)  # fmt: skip


def crossing(number: str, country: str = "KAZ") -> dict[str, Any]:
    one = event(
        "KHOLMATOV", "ALISHER", date_of_birth="1985-03-02", sex="M",
        document={"number": number, "issuing_state": "UZB", "type": "P"},
    )  # fmt: skip
    one["country"] = country
    return one


def suppression(state: str = "active", expires: timedelta = timedelta(days=1)) -> Suppression:
    return Suppression.model_validate(
        {
            "suppression_id": suppression_id_for("KAZ", "RED-T-1", MET), "state": state,
            "entry_id": "RED-T-1", "list": "red_notice", "issuer": "UZB", "country": "KAZ",
            "identity": MET, "alert_id": "a-" + "2" * 32, "reported_by": "KAZ-NCB/kaz.duty1",
            "reported_at": NOW, "confirmed_by": "KAZ-NCB/kaz.super1", "confirmed_at": NOW,
            "expires_at": NOW + expires,
        }
    )  # fmt: skip


class Harness:
    def __init__(self, *items: Suppression) -> None:
        self.table = SuppressionTable(CommonSettings())
        for item in items:
            self.table.apply(item.suppression_id.encode(), encode(item))
        self.metrics = MatcherMetrics()
        self.audited: list[AuditRecord] = []
        self.filter = MatchSuppression(self.table, self.metrics, self._sink)

    def _sink(self, record: AuditRecord) -> asyncio.Future[Any]:
        self.audited.append(record)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    def kept(self, raw: dict[str, Any]) -> set[str]:
        matches = screen(ENTRIES, raw)
        return {m.entry_id for m in self.filter.keep(decode_event(orjson.dumps(raw)), matches)}

    def suppressed_count(self) -> float:
        value = self.metrics.registry.get_sample_value(
            "relay_suppressed_matches_total", {"list": "red_notice"}
        )
        return value or 0.0


async def test_the_suppressed_traveller_does_not_alert_and_is_counted_and_audited() -> None:
    h = Harness(suppression())
    raw = crossing("ZZ1111111")
    assert "RED-T-1" in {m.entry_id for m in screen(ENTRIES, raw)}  # it would alert
    assert h.kept(raw) == {"DOC-T-1"}  # the stolen passport still does: never suppressed
    assert h.suppressed_count() == 1
    [record] = h.audited
    assert record.action == AuditAction.MATCH_SUPPRESSED
    assert record.alert_id == alert_id_for(raw["event_id"], "RED-T-1")
    assert record.details["suppression_id"] == suppression().suppression_id
    assert len(h.filter.written()) == 1
    assert not h.filter.written()


async def test_another_person_with_the_same_name_and_birth_date_still_alerts() -> None:
    h = Harness(suppression())
    assert h.kept(crossing("ZZ2222222")) == {"RED-T-1"}
    assert h.suppressed_count() == 0
    assert h.audited == []


async def test_other_countries_posts_are_not_silenced() -> None:
    assert Harness(suppression()).kept(crossing("ZZ1111111", country="UZB")) == {
        "RED-T-1", "DOC-T-1",
    }  # fmt: skip


async def test_expired_revoked_or_pending_suppressions_silence_nothing() -> None:
    for item in (
        suppression(expires=timedelta(seconds=-1)),
        suppression(state="revoked"),
        suppression(state="pending"),
    ):
        assert "RED-T-1" in Harness(item).kept(crossing("ZZ1111111"))


async def test_a_tombstone_forgets_the_pair() -> None:
    h = Harness(suppression())
    h.table.apply(suppression().suppression_id.encode(), None)
    assert "RED-T-1" in h.kept(crossing("ZZ1111111"))


async def test_retro_screenings_alerts_are_filtered_alike() -> None:
    h = Harness(suppression())
    index = WatchlistIndex()
    for entry in ENTRIES:
        index.upsert(entry_record(entry))
    one = decode_event(orjson.dumps(crossing("ZZ1111111")))
    alerts = screen_event(index, one, retro=True)
    assert {a.entry_id for a in h.filter.keep_alerts(one, alerts)} == {"DOC-T-1"}
    assert h.suppressed_count() == 1
