"""Webhook channel: signed JSON POST (Standard Webhooks) over one shared httpx client."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from services.notifier.channels.base import SendJob
from services.notifier.domain import render
from services.notifier.domain.backoff import Outcome, Verdict, classify
from services.notifier.domain.signing import signature_headers


class WebhookChannel:
    def __init__(self, client: httpx.AsyncClient, timeout_s: float) -> None:
        self.client = client
        self.timeout = httpx.Timeout(timeout_s)

    def lane(self, job: SendJob) -> str:
        hook = job.contact_point.webhook
        return f"webhook:{hook.url if hook else job.notification.address}"

    async def send(self, job: SendJob) -> Outcome:
        hook = job.contact_point.webhook
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
            response = await self.client.post(
                hook.url, content=body, headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException:
            return Outcome(Verdict.RETRY, error="timeout", duration_ms=_ms(started))
        except httpx.TransportError as exc:
            return Outcome(Verdict.RETRY, error=type(exc).__name__, duration_ms=_ms(started))
        outcome = classify(
            response.status_code, response.headers.get("retry-after"), datetime.now(UTC)
        )
        return Outcome(
            outcome.verdict,
            outcome.status_code,
            outcome.error,
            outcome.retry_after_s,
            _ms(started),
        )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
