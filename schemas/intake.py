"""The raw Kafka intake's record contract: its headers and the agency's signature over it.

Kafka does not tell a consumer who produced a record, so a record on ``ingest.raw`` proves
its agency itself. ``relay-signature`` holds ``v1,<base64 HMAC-SHA256>`` (as Standard
Webhooks signs), made with one of the agency's intake secrets (``whsec_`` + base64 of 24-64
random bytes, listed for that agency alone in ingest's agencies file) over::

    <relay-agency> "." <base64 of the record key> "." <relay-signature-timestamp> "." <value>

The key is in base64 so that neither it nor the agency id can move where the value begins; no
key signs as an empty one. ``relay-signature-timestamp`` is the signing time in unix seconds.
Several space-separated signatures are allowed (one per secret while a secret is rotated).
Producers call ``signed_headers``; ingest checks with ``signature_matches``. Pure: no clock.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StrictStr

from schemas.headers import H_AGENCY, H_SIGNATURE, H_SIGNATURE_TIMESTAMP

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES = (24, 64)  # Standard Webhooks' recommendation
MAX_SIGNATURES = 8  # a header with more is refused unread: bounded work per record
TIMESTAMP = re.compile(r"[1-9][0-9]{0,11}")  # ASCII digits, one spelling per value


class Refusal(StrEnum):
    """Why the intake refuses a record before reading it (the start of ``relay-dlq-reason``)."""

    NO_AGENCY = "no relay-agency header"
    UNKNOWN_AGENCY = "unknown agency"
    NOT_ENROLLED = "the agency has no intake secret: it may not use the Kafka intake"
    NO_SIGNATURE = "no relay-signature header"
    BAD_SIGNATURE = "relay-signature does not verify with the intake secrets of relay-agency"
    NO_TIMESTAMP = "no relay-signature-timestamp header"
    BAD_TIMESTAMP = "relay-signature-timestamp is not unix seconds"
    STALE = "signed too long before or after the record was written"


def decode_secret(secret: str) -> bytes:
    """The key bytes of ``whsec_<base64>``; ValueError (never echoing it) when unusable."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"an intake secret starts with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError(f"an intake secret is base64 after {SECRET_PREFIX}") from None
    low, high = SECRET_BYTES
    if not low <= len(key) <= high:
        raise ValueError(f"an intake secret decodes to {len(key)} bytes, not {low} to {high}")
    return key


def _usable(secret: str) -> str:
    decode_secret(secret)
    return secret


IntakeSecret = Annotated[StrictStr, Field(max_length=100), AfterValidator(_usable)]


def new_secret() -> str:
    """A fresh intake secret: 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_content(agency: str, key: bytes | None, timestamp: str, value: bytes) -> bytes:
    key_text = base64.b64encode(key or b"").decode()
    return f"{agency}.{key_text}.{timestamp}.".encode() + value


def signature(secret: bytes, content: bytes) -> str:
    return "v1," + base64.b64encode(hmac.digest(secret, content, "sha256")).decode()


def signed_headers(
    agency: str, secret: str, key: bytes | None, value: bytes | None, timestamp: int
) -> list[tuple[str, bytes]]:
    """The three headers of a raw record; ``timestamp`` is now, in unix seconds."""
    stamp = str(timestamp)
    content = signed_content(agency, key, stamp, value or b"")
    return [
        (H_AGENCY, agency.encode()),
        (H_SIGNATURE_TIMESTAMP, stamp.encode()),
        (H_SIGNATURE, signature(decode_secret(secret), content).encode()),
    ]


def signature_matches(header: str, content: bytes, keys: Sequence[bytes]) -> bool:
    """Whether any ``v1`` signature in ``header`` is ``content``'s under any of ``keys``."""
    offered = header.split()
    if len(offered) > MAX_SIGNATURES:
        return False
    expected = [signature(key, content).encode() for key in keys]
    found = False
    for candidate in offered:
        if not candidate.startswith("v1,"):
            continue  # another scheme's: not ours to judge
        text = candidate.encode("utf-8", "replace")
        for want in expected:  # every comparison made: time does not depend on which matched
            found |= hmac.compare_digest(want, text)
    return found
