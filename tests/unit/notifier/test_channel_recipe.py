"""The channel recipe carried out: a new channel is its module and its wire name, nothing else.

The test copies ``schemas/`` and ``services/`` aside, adds an SMS channel there exactly as
CONTRIBUTING's recipe says (``services/notifier/channels/sms.py`` and ``SMS`` in
``schemas.notification.Channel``), and runs a check in a fresh interpreter on the copy: the
directory takes the new field (and refuses a bad value), routing selects the channel by its
rule, the registry builds its sender from the settings, and the engine hands the job to it.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WIRE_NAMES = 'class Channel(StrEnum):\n    WEBHOOK = "webhook"\n'

SMS_MODULE = '''\
"""SMS channel: the numbers of the entry's ``sms``, for urgent first pages and escalations."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

from schemas.alert import Alert
from schemas.notification import Channel, NoticeKind, Notification
from services.notifier.channels.base import SendJob
from services.notifier.domain.backoff import Outcome, Verdict
from services.notifier.domain.directory import ChannelSpec, ContactPoint
from services.notifier.settings import NotifierSettings

Numbers = tuple[Annotated[StrictStr, Field(pattern=r"^\\+[1-9][0-9]{6,14}$")], ...]


def _address(numbers: Numbers, cp: ContactPoint, alert: Alert, notice: NoticeKind) -> str | None:
    if not numbers or not (alert.urgent or notice is NoticeKind.ESCALATION):
        return None
    return ", ".join(numbers)


SPEC = ChannelSpec[Numbers](Channel.SMS, "sms", Numbers, (), _address)


class SmsChannel:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    def lane_of(self, notification: Notification, contact_point: ContactPoint) -> str:
        return "sms"

    async def send(self, job: SendJob) -> Outcome:
        self.sent.append((job.notification.notification_id, SPEC.value_of(job.contact_point)))
        return Outcome(Verdict.DELIVERED)

    async def aclose(self) -> None:
        pass


def sender(settings: NotifierSettings) -> SmsChannel:
    return SmsChannel(settings.notifier_webhook_timeout_s)
'''

CHECK = """\
import asyncio
import secrets

import pytest
from pydantic import ValidationError

from schemas.notification import Channel, NotificationState
from services.notifier.channels import registry, sms
from services.notifier.domain.directory import Directory
from services.notifier.domain.routing import Plan, route
from services.notifier.engine import Engine, EngineConfig
from services.notifier.settings import NotifierSettings
from tests.support.notifier_data import make_alert, standard_directory
from tests.support.notifier_fakes import Idle
from tests.unit.notifier.test_memory import NOW, Topic, take

raw = standard_directory(lambda n: f"http://h.example/{n}")
raw["contact_points"][0]["sms"] = ["+77010000001", "+77010000002"]
kaz = raw["contact_points"][0]["id"]
directory = Directory.parse(raw, registry.SPECS)
assert sms.SPEC.value_of(directory.get(kaz)) == ("+77010000001", "+77010000002")
raw["contact_points"][0]["sms"] = ["0701"]
with pytest.raises(ValidationError, match="sms"):
    Directory.parse(raw, registry.SPECS)

urgent, routine = make_alert(), make_alert(urgency="normal", list="yellow_notice")
picked = [(j.recipient, j.channel, j.address) for j in route(Plan(urgent, NOW), directory)]
assert (kaz, Channel.SMS, "+77010000001, +77010000002") in picked, picked
assert [j for j in route(Plan(routine, NOW), directory) if j.channel is Channel.SMS] == []

settings = NotifierSettings(
    notifier_link_secret=secrets.token_hex(20),
    notifier_session_secret=secrets.token_hex(20),
    notifier_webhook_timeout_s=3,
)
senders = registry.senders(settings)
assert isinstance(senders[Channel.SMS], sms.SmsChannel)
assert senders[Channel.SMS].timeout_s == 3


async def deliver() -> None:
    topic = Topic()
    engine = Engine(EngineConfig(), topic, lambda: directory, dict(senders), Idle())
    engine.archive = topic
    await take(engine, urgent)
    [job] = [j for j in route(Plan(urgent, NOW), directory) if j.channel is Channel.SMS]
    await engine.attempt(urgent.alert_id, job.notification_id)
    numbers = sms.SPEC.value_of(directory.get(kaz))
    assert senders[Channel.SMS].sent == [(job.notification_id, numbers)]
    state = engine.inbox.notification(job.notification_id, urgent.alert_id)
    assert state is not None and state.state is NotificationState.DELIVERED
    for sender in senders.values():
        await sender.aclose()


asyncio.run(deliver())
print("recipe ok")
"""


def _copy_of_the_code(into: Path) -> None:
    skip = shutil.ignore_patterns("__pycache__", "target", "*.so")
    for package in ("schemas", "services"):
        shutil.copytree(ROOT / package, into / package, ignore=skip)


def _changed(copy: Path) -> set[str]:
    changed: set[str] = set()
    for package in ("schemas", "services"):
        for path in (copy / package).rglob("*.py"):
            original = ROOT / path.relative_to(copy)
            if not original.exists() or not filecmp.cmp(path, original, shallow=False):
                changed.add(str(path.relative_to(copy)))
    return changed


def _add_the_channel(copy: Path) -> None:
    (copy / "services/notifier/channels/sms.py").write_text(SMS_MODULE, encoding="utf-8")
    wire = copy / "schemas/notification.py"
    text = wire.read_text(encoding="utf-8")
    assert WIRE_NAMES in text
    wire.write_text(text.replace(WIRE_NAMES, WIRE_NAMES + '    SMS = "sms"\n'), encoding="utf-8")


@pytest.mark.timeout(120)
def test_a_new_channel_needs_only_its_module_and_its_wire_name(tmp_path: Path) -> None:
    copy = tmp_path / "tree"
    _copy_of_the_code(copy)
    _add_the_channel(copy)
    assert _changed(copy) == {"schemas/notification.py", "services/notifier/channels/sms.py"}
    script = tmp_path / "check_recipe.py"
    script.write_text(textwrap.dedent(CHECK), encoding="utf-8")
    # The copy comes first on the path; this checkout only lends its tests' stand-ins.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=copy, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "recipe ok"
