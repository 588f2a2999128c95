"""The channels as registered: one module per wire name, its directory field and its rule."""

from __future__ import annotations

import secrets
import sys
import types
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.notification import Channel, NoticeKind
from services.notifier.channels import console, email, registry, webhook
from services.notifier.channels.http1 import LeanPoster
from services.notifier.channels.posters import AiohttpPoster
from services.notifier.domain.directory import ContactPoint, Directory
from services.notifier.domain.routing import channels_for
from services.notifier.settings import NotifierSettings
from tests.support.notifier_data import make_alert, secret_for


def point(**fields: Any) -> ContactPoint:
    return ContactPoint.parse({"id": "KAZ-NCB", "country": "KAZ", **fields}, registry.SPECS)


def hook(pager: bool) -> dict[str, Any]:
    return {"url": "https://h.example/kaz", "secrets": [secret_for("kaz")], "pager": pager}


def settings(**overrides: Any) -> NotifierSettings:
    return NotifierSettings(
        notifier_link_secret=secrets.token_hex(20),
        notifier_session_secret=secrets.token_hex(20),
        **overrides,
    )


def test_every_wire_name_has_its_module_in_the_wire_order() -> None:
    assert [spec.channel for spec in registry.SPECS] == list(Channel)
    assert registry.SPECS == (webhook.SPEC, email.SPEC, console.SPEC)


def test_a_module_without_its_declaration_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = types.ModuleType("services.notifier.channels.console")
    monkeypatch.setitem(sys.modules, bare.__name__, bare)
    with pytest.raises(ImportError, match="must declare SPEC"):
        registry.find(Channel.CONSOLE)
    bare.SPEC = email.SPEC  # type: ignore[attr-defined]  # another channel's declaration
    bare.sender = console.sender  # type: ignore[attr-defined]
    with pytest.raises(ImportError, match="must declare SPEC"):
        registry.find(Channel.CONSOLE)


def test_the_directory_reads_each_channels_field() -> None:
    cp = point(webhook=hook(pager=True), email=["a@x.example", "b@x.example"], console=True)
    assert webhook.SPEC.value_of(cp) == webhook.WebhookEndpoint.model_validate(hook(True))
    assert email.SPEC.value_of(cp) == ("a@x.example", "b@x.example")
    assert console.SPEC.value_of(cp) is True
    bare = point()
    assert (webhook.SPEC.value_of(bare), email.SPEC.value_of(bare)) == (None, ())
    assert console.SPEC.value_of(bare) is False


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"email": ["not-an-address"]}, "email.0"),
        ({"webhook": {**hook(False), "url": "ftp://h.example"}}, "webhook.url"),
        ({"sms": ["+77010000000"]}, "sms"),  # no such channel
        ({"reach": []}, "reach"),  # the parsed form is not input
    ],
)
def test_the_directory_refuses_a_bad_or_unknown_channel_field(
    fields: dict[str, Any], where: str
) -> None:
    with pytest.raises(ValidationError, match=where):
        point(**fields)


def test_the_directory_refuses_channel_fields_it_was_not_given() -> None:
    raw = {"contact_points": [{"id": "A", "country": "KAZ", "console": True}], "countries": {}}
    with pytest.raises(ValidationError, match="console"):
        Directory.parse(raw, ())


@pytest.mark.parametrize(
    ("band", "notice", "pager", "paged"),
    [
        ("strong", NoticeKind.ALERT, True, True),
        ("strong", NoticeKind.ESCALATION, True, True),
        ("strong", NoticeKind.CANCELLATION, True, True),
        ("strong", NoticeKind.UPDATE, True, False),
        ("possible", NoticeKind.ALERT, True, False),
        ("possible", NoticeKind.ALERT, False, True),
        ("strong", NoticeKind.UPDATE, False, True),
    ],
)
def test_pagers_only_for_strong_first_pages_escalations_and_cancellations(
    band: str, notice: NoticeKind, pager: bool, paged: bool
) -> None:
    alert = make_alert(band=band, urgency="normal")
    found = channels_for(point(webhook=hook(pager)), alert, notice)
    assert found == ([(Channel.WEBHOOK, "https://h.example/kaz")] if paged else [])


def test_email_and_console_addresses_in_the_channels_order() -> None:
    many = [f"duty{i:03}@ncb.kaz.example" for i in range(20)]
    cp = point(console=True, email=many, webhook=hook(pager=False))
    found = channels_for(cp, make_alert(band="possible"), NoticeKind.UPDATE)
    assert [c for c, _ in found] == [Channel.WEBHOOK, Channel.EMAIL, Channel.CONSOLE]
    assert found[1][1] == ", ".join(many)[: email.ADDRESS_CHARS]
    assert found[2][1] == "KAZ-NCB"
    assert channels_for(point(console=False, email=[]), make_alert(), NoticeKind.ALERT) == []


@pytest.mark.parametrize(("client", "poster"), [("lean", LeanPoster), ("aiohttp", AiohttpPoster)])
async def test_senders_are_built_from_the_settings(client: str, poster: type) -> None:
    senders = registry.senders(settings(notifier_webhook_client=client, notifier_smtp_port=2525))
    assert set(senders) == set(Channel)
    hooks = senders[Channel.WEBHOOK]
    assert isinstance(hooks, webhook.WebhookChannel)
    assert isinstance(hooks.poster, poster)
    mail = senders[Channel.EMAIL]
    assert isinstance(mail, email.EmailChannel)
    assert mail.config.port == 2525
    assert isinstance(senders[Channel.CONSOLE], console.ConsoleChannel)
    for sender in senders.values():
        await sender.aclose()
