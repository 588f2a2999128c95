"""Standard Webhooks signatures (https://www.standardwebhooks.com) and signed ack links."""

from __future__ import annotations

import base64
import functools
import hmac
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


@functools.lru_cache(maxsize=1024)  # a handful of secrets, one signature per request each
def secret_bytes(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign(msg_id: str, timestamp: int, body: bytes, secret: str) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.digest(secret_bytes(secret), content, "sha256")  # one-shot, in C
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    msg_id: str, timestamp: int, body: bytes, secrets: tuple[str, ...]
) -> dict[str, str]:
    """One signature per active secret, space-separated, so receivers can rotate keys."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(msg_id, timestamp, body, s) for s in secrets),
    }


# --- acknowledgement links ---------------------------------------------------------------------


@dataclass(frozen=True)
class LinkClaim:
    alert_id: str
    contact_point: str
    expires: int  # unix seconds


def _mac(claim: LinkClaim, key: bytes) -> str:
    content = f"{claim.alert_id}\x1f{claim.contact_point}\x1f{claim.expires}".encode()
    digest = hmac.digest(key, content, "sha256")
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def link_token(claim: LinkClaim, key: bytes) -> str:
    """``<contact point>.<expiry>.<mac>``: the alert id is in the URL and inside the MAC."""
    cp = base64.urlsafe_b64encode(claim.contact_point.encode()).decode().rstrip("=")
    return f"{cp}.{claim.expires}.{_mac(claim, key)}"


def read_link_token(token: str, alert_id: str, key: bytes, now: int) -> LinkClaim | None:
    """The claim if the token is genuine, for this alert and not expired; otherwise None."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    try:
        cp = base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    claim = LinkClaim(alert_id=alert_id, contact_point=cp, expires=int(parts[1]))
    if not hmac.compare_digest(_mac(claim, key), parts[2]) or claim.expires < now:
        return None
    return claim
