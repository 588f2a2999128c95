"""The notifier's read model of ``leads``: the latest record is the lead, a tombstone withdraws
it, and a record it cannot read is left out without stopping the others."""

from __future__ import annotations

from schemas.codec import encode
from schemas.lead import lead_key
from services.common.settings import CommonSettings
from services.notifier.leads_model import LeadsModel
from tests.support.lead_data import associate_of_listed, lead_record, serial_escort


def test_latest_record_wins_tombstones_withdraw_and_bad_records_are_skipped() -> None:
    model = LeadsModel(CommonSettings())
    first, other = serial_escort(), associate_of_listed()
    grown = first.model_copy(update={"score": 0.97})
    model.apply(
        [
            lead_record(0, lead_key(first.lead_id), encode(first)),
            lead_record(1, lead_key(other.lead_id), b'{"lead_id": "not a lead"}'),
            lead_record(2, None, encode(other)),  # unkeyed: no lead's record
            lead_record(3, lead_key(first.lead_id), encode(grown)),
        ]
    )
    assert model.changed.is_set()
    assert [x.score for x in model.all()] == [0.97]
    model.apply([lead_record(4, lead_key(first.lead_id), None)])
    assert model.get(first.lead_id) is None
