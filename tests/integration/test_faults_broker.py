"""The broker restarts mid-stream (a broker of the test's own, never the session's): ingest
answers 503 while it is away and agencies resend; afterwards every accepted event produced
exactly its alerts, delivered to every entitled recipient and no one else, audited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from schemas.topics import load_catalogue
from services.common.kafka import admin_client
from services.common.settings import CommonSettings
from services.tooling.kafka_local import LocalBroker
from services.tooling.topics import apply_catalogue
from tests.support.broker import local_broker_settings
from tests.support.evidence import Poster, Verdict, verify
from tests.support.stack import StackSpec, open_stack, start_all

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(900)]
FAST_RETRIES = {"RELAY_NOTIFIER_RETRY_MAX_S": "3", "RELAY_NOTIFIER_BREAKER_OPEN_S": "2"}


async def test_broker_restart_mid_stream(tmp_path: Path) -> None:
    broker = LocalBroker(local_broker_settings(tmp_path / "kafka"))
    await asyncio.to_thread(broker.start)
    try:
        settings = CommonSettings(kafka_bootstrap=broker.bootstrap, topic_prefix="faults.")
        async with admin_client(settings) as admin:
            await apply_catalogue(admin, load_catalogue(), settings.topic_prefix)
        spec = StackSpec(broker.bootstrap, settings.topic_prefix, env=FAST_RETRIES)
        with open_stack(spec, tmp_path) as stack:
            start_all(stack)
            await asyncio.to_thread(stack.ready)
            poster = Poster(stack, count=240, rate=30)

            async def restart() -> int:
                while not poster.planned or poster.sent < poster.planned // 3:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)  # polling the poster's progress
                await asyncio.to_thread(broker.stop)
                await asyncio.to_thread(broker.start)
                return 1

            _, injected = await asyncio.gather(poster.run(deadline_s=400), restart())
            verdict = await verify(Verdict("broker-restart"), stack, settings, poster, 240)
            verdict.faults = injected
            verdict.save()
            assert not verdict.problems, verdict
    finally:
        await asyncio.to_thread(broker.stop)
