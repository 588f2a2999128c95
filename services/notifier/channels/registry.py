"""Where the notifier finds its channels: one module each in this package, named after the
channel's wire name, so ``schemas.notification.Channel`` is the one list of channels.

A channel module declares ``SPEC``, a ``ChannelSpec`` (its directory field and its selection
rule: pure, handed to the domain, which imports no channel), and ``sender(settings)``, the
I/O that sends. The directory reads the fields of ``SPECS``; the app builds ``senders``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.notification import Channel
from services.notifier.channels.base import OwnedSender
from services.notifier.domain.directory import ChannelSpec
from services.notifier.settings import NotifierSettings


@dataclass(frozen=True)
class Registered:
    spec: ChannelSpec[Any]
    sender: Callable[[NotifierSettings], OwnedSender]


def find(channel: Channel) -> Registered:
    """The channel's module, checked: a missing or mislabelled declaration fails at import."""
    name = f"{__package__}.{channel.value}"
    module = importlib.import_module(name)
    spec, sender = getattr(module, "SPEC", None), getattr(module, "sender", None)
    if not isinstance(spec, ChannelSpec) or spec.channel is not channel or not callable(sender):
        raise ImportError(f"{name} must declare SPEC, a ChannelSpec of {channel}, and sender()")
    return Registered(spec, sender)


CHANNELS = tuple(find(channel) for channel in Channel)
SPECS: tuple[ChannelSpec[Any], ...] = tuple(c.spec for c in CHANNELS)


def senders(settings: NotifierSettings) -> dict[Channel, OwnedSender]:
    return {c.spec.channel: c.sender(settings) for c in CHANNELS}
