"""The outcome codes ingest's HTTP answers document are the ones ``schemas.outcomes`` defines."""

from __future__ import annotations

from typing import get_args

from schemas.outcomes import IngestOutcome
from services.ingest.api_models import Accepted, ItemResult


def test_a_batch_item_documents_every_outcome() -> None:
    documented = get_args(ItemResult.model_fields["outcome"].annotation)
    assert sorted(documented) == sorted(IngestOutcome)


def test_a_single_event_is_answered_stored_or_stored_before() -> None:
    documented = get_args(Accepted.model_fields["outcome"].annotation)
    assert sorted(documented) == sorted([IngestOutcome.ACCEPTED, IngestOutcome.DUPLICATE])
