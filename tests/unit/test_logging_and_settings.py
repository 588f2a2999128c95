"""Logging redacts personal data by default; settings come from RELAY_* variables."""

from __future__ import annotations

import io
import json

import pydantic
import pytest
import structlog

from schemas.topics import load_catalogue
from services.common.logging import REDACTED, configure_logging, redact_pii
from services.common.settings import CommonSettings, SecurityProtocol


def test_redaction_removes_names_dates_documents_and_mrz_lines() -> None:
    event = {
        "event": "event.accepted",
        "event_id": "0b0d6e0e",
        "surname": "TESTOV",
        "traveller": {"surname": "TESTOV", "date_of_birth": "1990-01-01"},
        "detail": {"number": "AB1234567", "country": "KAZ"},
        "note": "P<UZBTESTOV<<ALISHER<<<<<<<<<<<<<<<<<<<<<<<<",
    }
    out = redact_pii(None, "info", dict(event))
    text = json.dumps(out)
    assert "TESTOV" not in text
    assert "1990-01-01" not in text
    assert "AB1234567" not in text
    assert out["event_id"] == "0b0d6e0e"
    assert out["detail"]["country"] == "KAZ"
    assert out["surname"] == REDACTED


def test_json_logging_is_configured_once_and_redacts(monkeypatch: pytest.MonkeyPatch) -> None:
    structlog.reset_defaults()
    monkeypatch.setattr("services.common.logging._configured", False)
    stream = io.StringIO()
    configure_logging(CommonSettings(log_format="json"), stream=stream)
    structlog.get_logger("t").info("event.accepted", surname="TESTOV", event_id="e1")
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["event"] == "event.accepted"
    assert line["surname"] == REDACTED
    assert line["event_id"] == "e1"
    structlog.reset_defaults()
    monkeypatch.setattr("services.common.logging._configured", False)


def test_settings_read_relay_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAY_KAFKA_BOOTSTRAP", "broker:19092")
    monkeypatch.setenv("RELAY_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("RELAY_TOPIC_PREFIX", "x.")
    settings = CommonSettings()
    assert settings.kafka_bootstrap == "broker:19092"
    assert settings.kafka_security_protocol is SecurityProtocol.SASL_SSL
    assert settings.topic("alerts") == "x.alerts"


def test_catalogue_compacts_the_watchlist_and_keeps_raw_events_briefly() -> None:
    catalogue = load_catalogue()
    assert catalogue.get("watchlist.entries").config["cleanup.policy"] == "compact"
    raw = int(catalogue.get("ingest.raw").config["retention.ms"])
    alerts = int(catalogue.get("alerts").config["retention.ms"])
    audit = int(catalogue.get("notifications.audit").config["retention.ms"])
    assert raw <= 86_400_000 < alerts <= audit
    assert {"ingest.raw.dlq", "events.dlq", "alerts.dlq"} <= set(catalogue.names())


def test_settings_are_frozen_once_built() -> None:
    built = CommonSettings()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        built.topic_prefix = "changed-on-the-way"  # type: ignore[misc]
    assert built.model_copy(update={"topic_prefix": "x"}).topic_prefix == "x"  # copies are fine
