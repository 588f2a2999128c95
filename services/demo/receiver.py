"""A local stand-in for the contact points' systems: receives the notifier's webhooks.

It verifies each request as a Standard Webhooks receiver must (``webhook-id``,
``webhook-timestamp`` within five minutes, one of the ``v1,`` signatures made with the
contact point's secret over ``{id}.{timestamp}.{body}``), answers 401 otherwise, prints one
line per alert (names and dates of birth redacted unless asked) and counts what it got by
webhook id; ``GET /received`` shows the counts and the latest deliveries as JSON.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response

TOLERANCE_S = 300
RECENT = 1000


def _secret_bytes(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def verify(headers: dict[str, str], body: bytes, secrets: tuple[str, ...], now: float) -> str:
    """'' when the request is genuine, else why not."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "").split()
    if not msg_id or not stamp.isdigit() or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if abs(now - int(stamp)) > TOLERANCE_S:
        return "timestamp outside the tolerance"
    content = f"{msg_id}.{stamp}.".encode() + body
    for secret in secrets:
        expected = base64.b64encode(
            hmac.new(_secret_bytes(secret), content, hashlib.sha256).digest()
        ).decode()
        for signature in signatures:
            version, _, value = signature.partition(",")
            if version == "v1" and hmac.compare_digest(value, expected):
                return ""
    return "no signature matches"


@dataclass
class ReceiverState:
    secrets: dict[str, tuple[str, ...]]  # path segment -> secrets
    show_pii: bool = False
    out: Callable[[str], None] = print
    clock: Callable[[], float] = time.time
    by_id: Counter[str] = field(default_factory=Counter)
    by_path: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT))

    def summary(self) -> dict[str, Any]:
        return {
            "received": sum(self.by_id.values()),
            "unique": len(self.by_id),
            "duplicates": sum(n - 1 for n in self.by_id.values()),
            "rejected": sum(self.rejected.values()),
            "rejected_by_path": dict(self.rejected),
            "by_path": dict(self.by_path),
            "by_id": dict(self.by_id),
            "recent": list(self.recent),
        }


def _why(alert: dict[str, Any], show_pii: bool) -> str:
    parts = []
    for item in alert.get("explanation", []):
        if not isinstance(item, dict):
            continue
        what = f"{item.get('field')}:{item.get('how')}"
        if show_pii:
            what += f"({item.get('event')}~{item.get('entry')})"
        parts.append(what)
    return ",".join(parts)


def alert_line(segment: str, payload: dict[str, Any], show_pii: bool) -> str:
    """One line for the console: what, where, how sure, and why (values only with show_pii)."""
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    alert = data.get("alert") if isinstance(data, dict) else None
    if not isinstance(alert, dict):
        return f"[{segment}] {payload.get('type', '?')} (no alert in the body)"
    fields = (
        f"[{segment}] {payload.get('type', '?')} {alert.get('list')} {alert.get('entry_id')}"
        f" {alert.get('band')} score={alert.get('score')} action={alert.get('action')}"
        f" in {alert.get('country')} event={alert.get('event_id')}"
    )
    return f"{fields} why={_why(alert, show_pii) or '-'}"


def _record(state: ReceiverState, segment: str, msg_id: str, payload: dict[str, Any]) -> None:
    data = payload.get("data")
    alert = data.get("alert") if isinstance(data, dict) else None
    alert = alert if isinstance(alert, dict) else {}
    state.by_id[msg_id] += 1
    state.by_path[segment] += 1
    state.recent.append(
        {
            "webhook_id": msg_id,
            "path": segment,
            "type": payload.get("type"),
            "alert_id": alert.get("alert_id"),
            "event_id": alert.get("event_id"),
            "entry_id": alert.get("entry_id"),
            "alert_created_at": alert.get("created_at"),  # the matcher's clock: splits latency
            "received_at": state.clock(),
        }
    )


def make_app(state: ReceiverState) -> FastAPI:
    app = FastAPI(title="notice-relay demo receiver", docs_url=None, redoc_url=None)

    @app.post("/hooks/{segment}")
    async def hook(segment: str, request: Request) -> Response:
        body = await request.body()
        secrets = state.secrets.get(segment)
        headers = {k.lower(): v for k, v in request.headers.items()}
        reason = (
            "unknown path" if secrets is None else verify(headers, body, secrets, state.clock())
        )
        if reason:
            state.rejected[segment] += 1
            state.out(f"[{segment}] REJECTED: {reason}")
            return Response(orjson.dumps({"error": reason}), 401, media_type="application/json")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        _record(state, segment, headers["webhook-id"], payload)
        state.out(alert_line(segment, payload, state.show_pii))
        return Response(status_code=204)

    @app.get("/received")
    async def received() -> Response:
        return Response(orjson.dumps(state.summary()), media_type="application/json")

    return app
