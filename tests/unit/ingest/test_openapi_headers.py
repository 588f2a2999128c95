"""The OpenAPI document declares the Retry-After header that every 429 and 503 sends."""

from __future__ import annotations

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings


def test_every_429_and_503_declares_retry_after() -> None:
    doc = create_app(IngestSettings()).openapi()
    checked = 0
    for path in ("/v1/events", "/v1/events:batch"):
        responses = doc["paths"][path]["post"]["responses"]
        for code in ("429", "503"):
            header = responses[code]["headers"]["Retry-After"]
            assert header["schema"]["type"] == "integer"
            checked += 1
    assert checked == 4
