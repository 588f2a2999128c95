"""Sign-in through a bureau's OpenID Connect provider: authorization code with PKCE (S256),
a ``state`` and a ``nonce``, and an ID token checked against the provider's published keys
(issuer, audience, expiry, nonce). The provider says who the officer is (``sub``); what the
officer may do comes from the accounts file (``Account.oidc_subject``).

The flow's secrets (state, nonce, code verifier) wait in a short-lived cookie signed with the
session key, so any replica can finish a flow another one started.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.common.errors import PermanentError
from services.notifier.domain.words import OIDC_LABEL

FLOW_COOKIE = "relay_oidc"
FLOW_TTL_S = 600  # from the redirect to the provider until the officer is back
CALLBACK = "/console/oidc/callback"
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
METADATA_TTL_S = 3600.0  # the provider's endpoints and keys are read again after this long


class OidcError(PermanentError):
    """The provider's answer is missing, forged, stale or for another flow."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str  # e.g. https://idp.example/realms/kaz-ncb
    client_id: str
    client_secret: str | None  # None: a public client (PKCE alone)
    public_url: str  # the notifier's, for the redirect URI
    label: str = OIDC_LABEL
    timeout_s: float = 10.0

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url.rstrip('/')}{CALLBACK}"


@dataclass(frozen=True)
class Flow:
    state: str
    nonce: str
    verifier: str


class Oidc:
    def __init__(self, config: OidcConfig, key: bytes) -> None:
        self.config = config
        self.key = key  # signs the flow cookie (the session key)
        self.http = httpx.AsyncClient(timeout=config.timeout_s, follow_redirects=False)
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._read_at = 0.0

    async def aclose(self) -> None:
        await self.http.aclose()

    async def start(self, now: int) -> tuple[str, str]:
        """(the provider's sign-in URL, the flow cookie to set)."""
        meta = await self._meta()
        flow = Flow(_token(), _token(), secrets.token_urlsafe(48))
        url = prepare_grant_uri(
            meta["authorization_endpoint"], self.config.client_id, "code",
            redirect_uri=self.config.redirect_uri, scope="openid", state=flow.state,
            nonce=flow.nonce, code_challenge=_challenge(flow.verifier),
            code_challenge_method="S256",
        )  # fmt: skip
        return url, self._seal(flow, now)

    async def finish(self, code: str, state: str, cookie: str | None, now: int) -> str:
        """The ``sub`` of the officer who signed in at the provider (``OidcError`` if not)."""
        flow = self._open(cookie, now)
        if flow is None or not hmac.compare_digest(flow.state, state):
            raise OidcError("the sign-in flow is unknown or expired: start again")
        meta = await self._meta()
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.config.redirect_uri, "code_verifier": flow.verifier,
                "client_id": self.config.client_id}  # fmt: skip
        secret = self.config.client_secret
        try:
            if secret is None:
                answer = await self.http.post(meta["token_endpoint"], data=form)
            else:
                auth = (self.config.client_id, secret)
                answer = await self.http.post(meta["token_endpoint"], data=form, auth=auth)
            tokens = answer.json() if answer.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(f"the provider cannot be read: {type(exc).__name__}") from exc
        if answer.status_code != 200:
            raise OidcError(f"the provider refused the code ({answer.status_code})")
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise OidcError("the provider sent no ID token")
        return await self._subject(id_token, flow.nonce, now)

    async def _subject(self, id_token: str, nonce: str, now: int) -> str:
        await self._meta()
        assert self._keys is not None
        try:
            token = jwt.decode(id_token, self._keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                now=now, leeway=60,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                nonce={"essential": True, "value": nonce},
                sub={"essential": True}, exp={"essential": True},
            ).validate(token.claims)  # fmt: skip
        except (JoseError, ValueError) as exc:
            raise OidcError(f"the ID token is not valid: {type(exc).__name__}") from exc
        return str(token.claims["sub"])

    async def _meta(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._read_at > METADATA_TTL_S:
            base = self.config.issuer.rstrip("/")
            try:
                meta = (await self.http.get(f"{base}/.well-known/openid-configuration")).json()
                jwks = (await self.http.get(meta["jwks_uri"])).json()
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                raise OidcError(f"the provider cannot be read: {type(exc).__name__}") from exc
            if meta.get("issuer") != self.config.issuer:
                raise OidcError("the provider names another issuer")
            self._metadata, self._keys = meta, KeySet.import_key_set(jwks)
            self._read_at = time.monotonic()
        return self._metadata

    def _seal(self, flow: Flow, now: int) -> str:
        payload = "|".join((flow.state, flow.nonce, flow.verifier, str(now))).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def _open(self, cookie: str | None, now: int) -> Flow | None:
        if not cookie or cookie.count(".") != 1 or len(cookie) > 1000 or not cookie.isascii():
            return None
        body, mac = cookie.split(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            return None
        if not hmac.compare_digest(mac, _b64(self._mac(payload))):
            return None
        state, nonce, verifier, issued = payload.decode().split("|")
        if not issued.isdigit() or not 0 <= now - int(issued) < FLOW_TTL_S:
            return None
        return Flow(state, nonce, verifier)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.key, b"oidc-flow|" + payload, hashlib.sha256).digest()


def _challenge(verifier: str) -> str:
    return str(create_s256_code_challenge(verifier))  # type: ignore[no-untyped-call]


def _token() -> str:
    return secrets.token_urlsafe(24)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
