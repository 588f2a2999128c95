"""Console sessions: a signed cookie naming the contact point, and its CSRF token.

The cookie carries ``contact point id | expiry | key fingerprint | nonce`` and an HMAC over them.
The key fingerprint ties the session to the contact point's current API key: rotating the key in
the directory ends every session opened with the old one. Pure: the caller passes key and time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

COOKIE = "relay_console"
CSRF_HEADER = "x-csrf-token"
SESSION_TTL_S = 12 * 3600  # one shift


@dataclass(frozen=True)
class Session:
    contact_point: str
    expires: int
    key_fp: str
    nonce: str


def session_key(link_key: bytes) -> bytes:
    """A key of its own, derived from the link secret, so a link token is never a cookie."""
    return hmac.new(link_key, b"relay-console-session/1", hashlib.sha256).digest()


def key_fingerprint(api_key_sha256: str | None) -> str:
    return hashlib.sha256(f"fp:{api_key_sha256}".encode()).hexdigest()[:16]


def _mac(key: bytes, payload: bytes) -> str:
    digest = hmac.new(key, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(key: bytes, contact_point: str, api_key_sha256: str | None, now: int) -> str:
    fields = (contact_point, str(now + SESSION_TTL_S), key_fingerprint(api_key_sha256))
    payload = "|".join((*fields, secrets.token_urlsafe(16))).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_mac(key, payload)}"


def read(key: bytes, cookie: str | None, now: int) -> Session | None:
    """The session in a cookie, or None when it is missing, forged or expired."""
    if not cookie or cookie.count(".") != 1 or len(cookie) > 1000:
        return None
    body, mac = cookie.split(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        parts = payload.decode().split("|")
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(key, payload)) or len(parts) != 4:
        return None
    contact_point, expires, key_fp, nonce = parts
    if not expires.isdigit() or int(expires) <= now:
        return None
    return Session(contact_point, int(expires), key_fp, nonce)


def csrf_token(key: bytes, session: Session) -> str:
    """Bound to the session's nonce: a token of another session is worth nothing."""
    return _mac(key, f"csrf|{session.contact_point}|{session.nonce}".encode())


def csrf_ok(key: bytes, session: Session, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(sent, csrf_token(key, session))


class SignInThrottle:
    """At most ``limit`` failed sign-ins per client address in ``window_s``: no key guessing."""

    def __init__(self, limit: int = 10, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self.failures: dict[str, list[float]] = {}

    def blocked(self, client: str, now: float) -> bool:
        recent = [t for t in self.failures.get(client, ()) if now - t < self.window_s]
        if recent:
            self.failures[client] = recent
        else:
            self.failures.pop(client, None)
        return len(recent) >= self.limit

    def failed(self, client: str, now: float) -> None:
        self.failures.setdefault(client, []).append(now)
