"""structlog, configured once per process: JSON by default, redacting personal data.

Event names are constants (``"event.accepted"``); values travel as key-value pairs. Any key
that can carry personal data is replaced by ``"[redacted]"`` unless ``RELAY_LOG_PII=1``.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from services.common.settings import CommonSettings, LogFormat

REDACTED = "[redacted]"

# Keys whose values are personal data wherever they appear in a log record.
PII_KEYS = frozenset(
    {
        "surname",
        "given_names",
        "patronymic",
        "name",
        "names",
        "full_name",
        "date_of_birth",
        "dob",
        "birth_date",
        "document_number",
        "number",
        "mrz",
        "mrz_lines",
        "traveller",
        "person",
        "document",
        "payload",
        "body",
        "record",
        "value",
    }
)
# MRZ lines are recognisable on their own even under an innocent key.
_MRZ_LINE = re.compile(r"[A-Z0-9<]{2}[A-Z0-9<]{28,42}")


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: (REDACTED if k in PII_KEYS else _redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    if isinstance(value, str) and "<" in value:
        return _MRZ_LINE.sub(REDACTED, value)
    return value


def redact_pii(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drop personal data from every key and nested value."""
    for key in list(event_dict):
        if key in PII_KEYS:
            event_dict[key] = REDACTED
        elif key != "event":
            event_dict[key] = _redact(event_dict[key])
    return event_dict


_configured = False


def configure_logging(settings: CommonSettings, *, stream: Any = None) -> None:
    """Configure structlog and the stdlib root logger. Later calls are ignored."""
    global _configured  # noqa: PLW0603 - logging is process-wide by nature
    if _configured:
        return
    _configured = True
    out = stream or sys.stderr
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    use_console = settings.log_format == LogFormat.CONSOLE or (
        settings.log_format == LogFormat.AUTO and out.isatty()
    )
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if not settings.log_pii:
        processors.append(redact_pii)
    processors.append(structlog.processors.format_exc_info)
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    # Library loggers (aiokafka, uvicorn) go through the same renderer.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *processors],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library chatter at INFO is noise for operators; their warnings still come through.
    for noisy in ("aiokafka", "kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
