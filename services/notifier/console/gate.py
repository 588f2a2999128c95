"""Who is asking the console, and may they: answered afresh on every request.

A request is signed in when its session cookie is genuine, unexpired, not revoked, and names
an account that still exists, unchanged (``Account.stamp``), in the accounts file. The role
is read from that file on every request, so a change of role takes effect at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request

from schemas.notification import RevocationKind
from services.notifier.accounts_file import Account, AccountsFile
from services.notifier.audit_trail import AuditTrail
from services.notifier.console import session as sessions
from services.notifier.console import views
from services.notifier.console.principal import INBOX_ROLES, ROLE_LABELS, Principal, Role
from services.notifier.console.session import COOKIE, CSRF_HEADER, Session, SessionKeys
from services.notifier.console.web import deny, origin_of
from services.notifier.domain.inbox import AlertView
from services.notifier.engine import Engine
from services.notifier.revocations import Revocations

if TYPE_CHECKING:
    from services.notifier.console.oidc import Oidc
    from services.notifier.leads_model import LeadsModel


@dataclass(frozen=True)
class ConsoleAccess:
    """What the console checks officers with."""

    keys: SessionKeys
    revocations: Revocations
    accounts: AccountsFile
    oidc: Oidc | None = None  # sign-in through the bureau's identity provider, if it has one
    audit: AuditTrail | None = None  # the auditors' read of the audit topic
    leads: LeadsModel | None = None  # the analysts' Leads view (``console.leads``)


class Gate:
    def __init__(self, engine: Engine, access: ConsoleAccess) -> None:
        self.engine = engine
        self.keys = access.keys
        self.revocations = access.revocations
        self.accounts = access.accounts
        self.oidc = access.oidc
        self.audit = access.audit
        self.secure = engine.config.public_url.startswith("https://")
        self.throttle = sessions.SignInThrottle()

    def signed_in(self, request: Request) -> tuple[Session, Principal]:
        """The session and its officer, or 401."""
        found = sessions.read(self.keys, request.cookies.get(COOKIE), int(time.time()))
        if found is None or self.revocations.is_revoked(RevocationKind.SESSION, found.nonce):
            raise deny(401, "sign in first")
        account = self.accounts().get(found.account)
        if account is None or sessions.fingerprint(account.stamp()) != found.account_fp:
            raise deny(401, "the session ended: sign in again")
        return found, account.principal()

    def principal(self, request: Request) -> Principal:
        """The signed-in officer (401 if nobody is)."""
        return self.signed_in(request)[1]

    def require(self, request: Request, *roles: Role) -> Principal:
        """The signed-in officer, if their role is one of ``roles`` (403 otherwise)."""
        who = self.principal(request)
        if who.role not in roles:
            raise deny(403, "your role may not see this")
        return who

    def change(self, request: Request, *roles: Role) -> tuple[Session, Principal]:
        """A state-changing request: signed in (in one of ``roles``, when given), same origin,
        JSON, with the CSRF header."""
        found, who = self.signed_in(request)
        if roles and who.role not in roles:
            raise deny(403, "your role may not do this")
        origin = request.headers.get("origin")
        if origin is not None and origin != origin_of(request):
            raise deny(403, "cross-origin request")
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise deny(415, "send JSON")
        if not sessions.csrf_ok(self.keys, found, request.headers.get(CSRF_HEADER)):
            raise deny(403, "missing or wrong CSRF token")
        return found, who

    def inbox(self, request: Request) -> Principal:
        """An officer who works the country's inbox (duty officer or supervisor)."""
        return self.require(request, *INBOX_ROLES)

    def alert(self, alert_id: str, who: Principal) -> AlertView:
        view = self.engine.inbox.alerts.get(alert_id)
        if view is None or not views.visible(view, who.country):
            raise deny(404, "no such alert for this country")  # the same answer for both
        return view

    def whoami(self, found: Session, who: Principal) -> dict[str, Any]:
        cp = self.engine.directory().get(who.contact_point)
        return {
            "account": who.account,
            "name": who.display_name,
            "role": who.role.value,
            "role_label": ROLE_LABELS[who.role],
            "language": who.language,
            "country": who.country,
            "contact_point": who.contact_point,
            "contact_point_name": cp.name if cp else None,
            "csrf": sessions.csrf_token(self.keys, found),
            "expires_at": datetime.fromtimestamp(found.expires(self.keys), UTC).isoformat(),
        }

    def session_for(self, account: Account, now: int) -> tuple[str, Session]:
        cookie = sessions.issue(self.keys, account.account, account.stamp(), now)
        found = sessions.read(self.keys, cookie, now)
        assert found is not None  # just issued
        return cookie, found
