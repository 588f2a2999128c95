"""Webhook channel: signed JSON POST (Standard Webhooks), one keep-alive pool per endpoint.

Directory field ``webhook: {url, secrets, pager}``; the poster that sends is chosen by
``notifier_webhook_client``.
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from schemas.alert import Alert, Band
from schemas.notification import Channel, NoticeKind, Notification
from services.notifier.channels.base import SendJob
from services.notifier.channels.http1 import LeanPoster
from services.notifier.channels.posters import AiohttpPoster, Poster
from services.notifier.domain import render
from services.notifier.domain.backoff import Outcome, Verdict, classify
from services.notifier.domain.directory import ChannelSpec, ContactPoint
from services.notifier.domain.signing import signature_headers
from services.notifier.settings import NotifierSettings

# Standard Webhooks: a secret is ``whsec_`` + base64 of 24 to 64 random bytes. Decoded when the
# directory is read, so one that cannot sign is refused there, never at the first delivery.
SECRET_BYTES = (24, 64)
POSTERS: dict[str, type[AiohttpPoster | LeanPoster]] = {
    "aiohttp": AiohttpPoster,
    "lean": LeanPoster,
}


def _decodable(secret: str) -> str:
    raw = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise ValueError("webhook secret is not valid base64 after whsec_") from exc
    if not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        low, high = SECRET_BYTES
        raise ValueError(f"webhook secret decodes to {len(key)} bytes, not {low} to {high}")
    return secret


SecretText = Annotated[
    StrictStr, Field(pattern=r"^whsec_[A-Za-z0-9+/=]{16,}$"), AfterValidator(_decodable)
]


class WebhookEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: Annotated[StrictStr, Field(pattern=r"^https?://")]
    # Several active secrets: each signs the message, so a receiver can rotate without a gap.
    secrets: Annotated[tuple[SecretText, ...], Field(min_length=1, max_length=5)]
    pager: bool = False  # a pager wakes somebody up: never used for `possible` alerts


# Notices that ask nothing urgent of their reader: an update, a hit report.
_NO_PAGE = frozenset({NoticeKind.UPDATE, NoticeKind.HIT_REPORT})


def _address(
    hook: WebhookEndpoint | None, cp: ContactPoint, alert: Alert, notice: NoticeKind
) -> str | None:
    """Pagers only for strong first pages, escalations, cancellations and reminders."""
    review_only = alert.band is Band.POSSIBLE or notice in _NO_PAGE
    if hook is None or (review_only and hook.pager):
        return None
    return hook.url


SPEC = ChannelSpec[WebhookEndpoint | None](
    Channel.WEBHOOK, "webhook", WebhookEndpoint | None, None, _address
)


class WebhookChannel:
    def __init__(self, poster: Poster) -> None:
        self.poster = poster

    def lane_of(self, notification: Notification, contact_point: ContactPoint) -> str:
        hook = SPEC.value_of(contact_point)
        return f"webhook:{hook.url if hook else notification.address}"

    async def aclose(self) -> None:
        await self.poster.aclose()

    async def send(self, job: SendJob) -> Outcome:
        hook = SPEC.value_of(job.contact_point)
        if hook is None:
            return Outcome(Verdict.PERMANENT, error="contact point has no webhook any more")
        body = render.webhook_body(job.notification, job.alert, job.ack_url)
        # webhook-id = notification id: the same across retries and restarts, so a receiver
        # can drop duplicates; the timestamp is per attempt, as the spec asks.
        headers = signature_headers(
            job.notification.notification_id, int(time.time()), body, hook.secrets
        )
        headers["content-type"] = "application/json"
        started = time.perf_counter()
        try:
            reply = await self.poster.post(hook.url, body, headers)
        except TimeoutError:
            return Outcome(Verdict.RETRY, error="timeout", duration_ms=_ms(started))
        except ConnectionError as exc:
            return Outcome(Verdict.RETRY, error=str(exc)[:200], duration_ms=_ms(started))
        outcome = classify(reply.status_code, reply.retry_after, datetime.now(UTC))
        return Outcome(
            outcome.verdict,
            outcome.status_code,
            outcome.error,
            outcome.retry_after_s,
            _ms(started),
        )


def sender(s: NotifierSettings) -> WebhookChannel:
    poster = POSTERS[s.notifier_webhook_client]
    return WebhookChannel(poster(s.notifier_webhook_timeout_s, s.notifier_lane_concurrency))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
