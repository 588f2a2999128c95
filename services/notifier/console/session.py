"""Console sessions: a signed cookie naming the officer's account, and its CSRF token.

The cookie carries ``account | issued at | account fingerprint | nonce`` and an HMAC over
them, made with the session key (never the link key). The server decides how long a session
lives from the time it was issued: the cookie claims no expiry. The fingerprint ties the
session to the account as it stands (``Account.stamp``: credentials, role, country), so a new
password, a changed role or a disabled account ends its sessions. Pure: the caller passes keys
and time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass

COOKIE = "relay_console"
CSRF_HEADER = "x-csrf-token"
CLOCK_SKEW_S = 60  # a cookie issued this far "in the future" (another replica's clock) passes
_COOKIE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,800}\.[A-Za-z0-9_-]{43}")
_ISSUED = re.compile(r"[1-9][0-9]{0,11}")


@dataclass(frozen=True)
class SessionKeys:
    """``current`` signs; ``previous`` still reads, so a rotation signs nobody out at once."""

    current: bytes
    previous: tuple[bytes, ...] = ()
    ttl_s: int = 12 * 3600  # one shift


@dataclass(frozen=True)
class Session:
    account: str
    issued: int
    account_fp: str
    nonce: str

    def expires(self, keys: SessionKeys) -> int:
        return self.issued + keys.ttl_s


def fingerprint(account_stamp: str) -> str:
    return hashlib.sha256(f"fp:{account_stamp}".encode()).hexdigest()[:16]


def _mac(key: bytes, payload: bytes) -> str:
    digest = hmac.new(key, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(keys: SessionKeys, account: str, account_stamp: str, now: int) -> str:
    fields = (account, str(now), fingerprint(account_stamp), secrets.token_urlsafe(16))
    payload = "|".join(fields).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_mac(keys.current, payload)}"


def read(keys: SessionKeys, cookie: str | None, now: int) -> Session | None:
    """The session in a cookie, or None when it is missing, malformed, forged or too old."""
    if not cookie or not _COOKIE_SHAPE.fullmatch(cookie):
        return None  # plain ASCII of one shape only: odd bytes never reach the decoders
    body, mac = cookie.split(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if not any(hmac.compare_digest(mac, _mac(k, payload)) for k in (keys.current, *keys.previous)):
        return None
    try:
        parts = payload.decode().split("|")
    except UnicodeDecodeError:
        return None
    if len(parts) != 4 or not _ISSUED.fullmatch(parts[1]):
        return None
    found = Session(parts[0], int(parts[1]), parts[2], parts[3])
    if found.issued > now + CLOCK_SKEW_S or found.expires(keys) <= now:
        return None
    return found


def csrf_token(keys: SessionKeys, session: Session) -> str:
    """Bound to the session's nonce: a token of another session is worth nothing."""
    return _mac(keys.current, f"csrf|{session.account}|{session.nonce}".encode())


def csrf_ok(keys: SessionKeys, session: Session, sent: str | None) -> bool:
    if sent is None or not sent.isascii():
        return False
    return hmac.compare_digest(sent.encode(), csrf_token(keys, session).encode())


class SignInThrottle:
    """Failed sign-ins: at most ``limit`` per client address, ``limit`` per account and
    ``overall`` in all per ``window_s``, so neither one address nor many can guess passwords;
    the table holds at most ``max_clients`` addresses and accounts (the oldest are forgotten
    first)."""

    def __init__(
        self, limit: int = 10, overall: int = 100, window_s: float = 60.0, max_clients: int = 10_000
    ) -> None:
        self.limit, self.overall, self.window_s = limit, overall, window_s
        self.max_clients = max_clients
        self.failures: OrderedDict[str, list[float]] = OrderedDict()
        self.recent: list[float] = []  # every failure in the window, whoever made it

    def blocked(self, client: str, now: float, account: str | None = None) -> bool:
        self.recent = [t for t in self.recent if now - t < self.window_s]
        return len(self.recent) >= self.overall or any(
            self._count(key, now) >= self.limit for key in _keys(client, account)
        )

    def _count(self, key: str, now: float) -> int:
        mine = [t for t in self.failures.get(key, ()) if now - t < self.window_s]
        if mine:
            self.failures[key] = mine
        else:
            self.failures.pop(key, None)
        return len(mine)

    def failed(self, client: str, now: float, account: str | None = None) -> None:
        self.recent.append(now)
        for key in _keys(client, account):
            self.failures.setdefault(key, []).append(now)
            self.failures.move_to_end(key)
        while len(self.failures) > self.max_clients:
            self.failures.popitem(last=False)


def _keys(client: str, account: str | None) -> tuple[str, ...]:
    return (client,) if account is None else (client, f"account:{account}")
