"""Kard authentication: client-credential parsing, issuer access tokens and WebView JWTs."""

import base64
import binascii
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from bff.sandbox.errors import KardError, unauthorized

GRANT_TYPE = "client_credentials"
WEBVIEW_ALGORITHM = "HS256"


def client_credentials(
    authorization: str | None, form: Mapping[str, str], json_body: Any
) -> tuple[str, str]:
    """Extract (client_id, client_secret) from HTTP Basic + form (documented) or JSON (the SDK's).

    Missing credentials or a wrong grant_type are a 400; empty ones a 401.
    """
    fields: Mapping[str, Any] = json_body if isinstance(json_body, dict) else form
    grant_type = fields.get("grant_type")
    # The documented form flow must name its grant; the SDK's JSON body never does.
    if grant_type != GRANT_TYPE and (grant_type is not None or not isinstance(json_body, dict)):
        raise KardError(400, "grant_type must be client_credentials", pointer="/grant_type")
    if authorization and authorization.lower().startswith("basic "):
        client_id, client_secret = _basic(authorization[6:])
    elif "client_id" in fields and "client_secret" in fields:
        client_id, client_secret = fields["client_id"], fields["client_secret"]
    else:
        raise KardError(400, "Client credentials are missing", header="Authorization")
    if not isinstance(client_id, str) or not isinstance(client_secret, str):
        raise KardError(400, "client_id and client_secret must be strings", pointer="/client_id")
    if not client_id or not client_secret:
        raise unauthorized("Invalid client credentials")
    return client_id, client_secret


def _basic(encoded: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise KardError(400, "Malformed Basic credentials", header="Authorization") from None
    client_id, separator, client_secret = decoded.partition(":")
    if not separator:
        raise KardError(400, "Malformed Basic credentials", header="Authorization")
    return client_id, client_secret


@dataclass(frozen=True)
class Client:
    """The one issuer client the simulator knows: its credentials, its organization, and the
    other issuers it may scope a token to with `X-Kard-Target-Issuer` (multi-issuer, beta)."""

    client_id: str
    client_secret: str
    organization_id: str
    target_issuers: tuple[str, ...] = ()

    def organization(self, client_id: str, client_secret: str, target_issuer: str | None) -> str:
        """Return the organization a token for these credentials is scoped to; 401 for wrong
        credentials or an issuer this client does not manage."""
        matches = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        matches &= hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        if not matches:
            raise unauthorized("Invalid client credentials")
        if target_issuer is None:
            return self.organization_id
        if target_issuer not in (self.organization_id, *self.target_issuers):
            raise unauthorized(f"These credentials cannot act for issuer {target_issuer}")
        return target_issuer


@dataclass(frozen=True)
class AccessToken:
    """An issued issuer access token, locked to one organization."""

    value: str
    organization_id: str
    expires_at: float


class TokenStore:
    """Thread-safe issuer access tokens with expiry by the simulator's clock."""

    def __init__(self, ttl: int, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, AccessToken] = {}

    def issue(self, organization_id: str) -> AccessToken:
        """Issue a new opaque access token for the organization."""
        token = AccessToken(secrets.token_urlsafe(32), organization_id, self._clock() + self.ttl)
        with self._lock:
            self._tokens[token.value] = token
        return token

    def check(self, authorization: str | None) -> AccessToken:
        """Return the token of a `Bearer` Authorization header; 401 if missing, bad or expired
        (an organization other than the token's is the caller's to refuse)."""
        value = bearer(authorization, "access token")
        with self._lock:
            token = self._tokens.get(value)
        if token is None:
            raise unauthorized("The access token is invalid")
        if self._clock() >= token.expires_at:
            raise unauthorized("The access token has expired")
        return token

    def expire_all(self) -> None:
        """Invalidate every token issued so far."""
        with self._lock:
            self._tokens.clear()


class WebViewSigner:
    """Issue and verify the HS256 JWTs the hosted WebView takes as its `token`."""

    def __init__(self, key: str | bytes, ttl: int, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._key = key
        self._clock = clock

    def issue(self, organization_id: str, user_id: str) -> str:
        """Sign a token for the user of the organization."""
        issued_at = int(self._clock())
        claims = {
            "sub": user_id,
            "issuer_id": organization_id,
            "iat": issued_at,
            "exp": issued_at + self.ttl,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._key, algorithm=WEBVIEW_ALGORITHM)

    def verify(self, token: str) -> dict[str, Any]:
        """Return the claims of a valid token; raise a jwt.InvalidTokenError subclass otherwise."""
        # Expiry is judged by the simulator's clock (which tests may move), not PyJWT's wall clock.
        claims = jwt.decode(
            token,
            self._key,
            algorithms=[WEBVIEW_ALGORITHM],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "require": ["sub", "issuer_id", "iat", "exp"],
            },
        )
        if self._clock() >= claims["exp"]:
            raise jwt.ExpiredSignatureError("Signature has expired")
        return claims


def bearer(authorization: str | None, what: str) -> str:
    """The credential of a `Bearer` Authorization header; 401 naming `what` when there is none."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorized(f"A bearer {what} is required")
    return value.strip()
