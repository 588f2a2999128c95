"""Who is signed in to the console: a named officer of a country's bureau, with one role.

The role decides what the officer may see and do; the console checks it on every request
(``Gate.require``). ``actor`` is the name that goes into every audit record the officer causes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.notifier.domain.words import N_


class Role(StrEnum):
    DUTY_OFFICER = "duty_officer"  # the country's inbox: open, acknowledge, answer
    SUPERVISOR = "supervisor"  # also escalations and every officer's answers
    ANALYST = "analyst"  # leads only
    AUDITOR = "auditor"  # read-only audit views


# What the console calls each role (English msgids, translated by the console's catalogue).
ROLE_LABELS = {
    Role.DUTY_OFFICER: N_("Duty officer"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.ANALYST: N_("Analyst"),
    Role.AUDITOR: N_("Auditor"),
}

# The roles that work the country's inbox (see alerts, acknowledge, answer).
INBOX_ROLES = (Role.DUTY_OFFICER, Role.SUPERVISOR)


@dataclass(frozen=True)
class Principal:
    account: str  # "kaz.duty1"
    display_name: str
    country: str  # ISO 3166-1 alpha-3
    role: Role
    contact_point: str  # the contact point whose inbox the officer works ("KAZ-NCB")
    language: str  # "ru"

    @property
    def actor(self) -> str:
        """The audit trail's name for this officer: ``KAZ-NCB/kaz.duty1``."""
        return f"{self.contact_point}/{self.account}"
