"""E-mail channel: plain text + HTML over SMTP (aiosmtplib), with a signed ack link, in the
contact point's language (the directory's ``language``).

Directory field ``email: [addresses]``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Annotated

import aiosmtplib
from pydantic import Field, StrictStr

from schemas.alert import Alert
from schemas.notification import Channel, NoticeKind, Notification
from services.notifier.channels.base import SendJob
from services.notifier.domain import render
from services.notifier.domain.backoff import Outcome, Verdict
from services.notifier.domain.directory import ChannelSpec, ContactPoint
from services.notifier.i18n import translator
from services.notifier.settings import NotifierSettings

Addresses = tuple[Annotated[StrictStr, Field(pattern=r"^[^@\s]+@[^@\s]+$")], ...]
ADDRESS_CHARS = 200  # a notification's address field holds this much


def _address(emails: Addresses, cp: ContactPoint, alert: Alert, notice: NoticeKind) -> str | None:
    return ", ".join(emails)[:ADDRESS_CHARS] if emails else None


SPEC = ChannelSpec[Addresses](Channel.EMAIL, "email", Addresses, (), _address)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_s: float = 10.0


class EmailChannel:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def lane_of(self, notification: Notification, contact_point: ContactPoint) -> str:
        return f"smtp:{self.config.host}:{self.config.port}"

    async def aclose(self) -> None:
        pass  # one connection per message: nothing held open

    def message(self, job: SendJob) -> EmailMessage:
        language = job.contact_point.language  # the directory's; English by default
        content = render.email(
            job.notification, job.alert, job.ack_url, translator(language).gettext
        )
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = ", ".join(SPEC.value_of(job.contact_point))
        message["Subject"] = content.subject
        # Lets a mail client thread retries; the same id on a resend marks it as a duplicate.
        message["Message-ID"] = f"<{job.notification.notification_id}@notice-relay>"
        message["X-Relay-Notification-Id"] = job.notification.notification_id
        message.set_content(content.text)
        message.add_alternative(content.html, subtype="html")
        message["Content-Language"] = language  # after: content headers move into the parts
        return message

    async def send(self, job: SendJob) -> Outcome:
        if not SPEC.value_of(job.contact_point):
            return Outcome(Verdict.PERMANENT, error="contact point has no e-mail any more")
        started = time.perf_counter()
        c = self.config
        try:
            await aiosmtplib.send(
                self.message(job),
                hostname=c.host,
                port=c.port,
                start_tls=c.starttls,
                username=c.username,
                password=c.password,
                timeout=c.timeout_s,
            )
        except aiosmtplib.SMTPResponseException as exc:
            verdict = Verdict.PERMANENT if 500 <= exc.code < 600 else Verdict.RETRY
            return Outcome(verdict, exc.code, f"SMTP {exc.code}", duration_ms=_ms(started))
        except aiosmtplib.SMTPRecipientsRefused:
            return Outcome(Verdict.PERMANENT, error="recipients refused", duration_ms=_ms(started))
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Outcome(Verdict.RETRY, error=type(exc).__name__, duration_ms=_ms(started))
        return Outcome(Verdict.DELIVERED, 250, duration_ms=_ms(started))


def sender(s: NotifierSettings) -> EmailChannel:
    password = s.notifier_smtp_password
    return EmailChannel(
        SmtpConfig(
            host=s.notifier_smtp_host,
            port=s.notifier_smtp_port,
            sender=s.notifier_smtp_from,
            starttls=s.notifier_smtp_starttls,
            username=s.notifier_smtp_username,
            password=password.get_secret_value() if password else None,
            timeout_s=s.notifier_smtp_timeout_s,
        )
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
