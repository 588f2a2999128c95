"""Standard Webhooks signatures (https://www.standardwebhooks.com) and signed ack links."""

from __future__ import annotations

import base64
import functools
import hmac
import re
from dataclasses import dataclass
from secrets import token_urlsafe

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

# What a link may do: the MAC covers it, so a link made to acknowledge never resolves.
LINK_ACTIONS = frozenset({"ack"})
_EXPIRY = re.compile(r"[1-9][0-9]{0,11}")  # ASCII digits, no leading zero: one spelling each
_B64 = re.compile(r"[A-Za-z0-9_-]{1,400}")


@dataclass(frozen=True)
class LinkClaim:
    alert_id: str
    contact_point: str
    expires: int  # unix seconds
    action: str = "ack"
    nonce: str = ""  # one-time: the API refuses a nonce it has seen


def new_claim(alert_id: str, contact_point: str, expires: int) -> LinkClaim:
    return LinkClaim(alert_id, contact_point, expires, "ack", token_urlsafe(12))


def _mac(claim: LinkClaim, key: bytes) -> str:
    fields = (claim.alert_id, claim.contact_point, str(claim.expires), claim.action, claim.nonce)
    digest = hmac.digest(key, "\x1f".join(("link/2", *fields)).encode(), "sha256")
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def link_token(claim: LinkClaim, key: bytes) -> str:
    """``<contact point>.<action>.<expiry>.<nonce>.<mac>``; the alert id is in URL and MAC."""
    parts = (_b64(claim.contact_point), claim.action, str(claim.expires), claim.nonce)
    return ".".join((*parts, _mac(claim, key)))


def read_link_token(token: str, alert_id: str, key: bytes, now: int) -> LinkClaim | None:
    """The claim if the token is genuine, for this alert and not expired; otherwise None.

    Anything that is not plain ASCII of the expected shape is refused before any decoding.
    """
    parts = token.split(".")
    if len(parts) != 5 or not all(_B64.fullmatch(p) for p in (parts[0], parts[3], parts[4])):
        return None
    cp_part, action, expiry, nonce, mac = parts
    if action not in LINK_ACTIONS or not _EXPIRY.fullmatch(expiry):
        return None
    try:
        cp = base64.urlsafe_b64decode(cp_part + "=" * (-len(cp_part) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    claim = LinkClaim(alert_id, cp, int(expiry), action, nonce)
    if not hmac.compare_digest(_mac(claim, key).encode(), mac.encode()) or claim.expires < now:
        return None
    return claim
