"""App-user authentication: verify the issuer's session token and give the Kard user ID.

The user ID comes only from the verified token's `BFF_USER_CLAIM`, never from the request's
path, query or body. Algorithms are allow-listed per mode, so a token signed with an algorithm
the mode does not use (`none`, or HS256 in `jwks` mode) is refused before any key is looked up.
"""

import secrets
import threading
import time
from typing import Any

import jwt
from cachetools import TTLCache
from flask import Flask, current_app, g, request

from bff.errors import Unauthorized, Unavailable
from bff.settings import Settings

ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
HMAC_ALGORITHMS = ("HS256",)
DEV_ISSUER = "kard-bff-dev"
DEV_AUDIENCE = "kard-bff"
DEV_SESSION_SECONDS = 3600
MAX_USER_ID_LENGTH = 255
CLOCK_SKEW_SECONDS = 30
JWKS_CACHE_SECONDS = 300
# A verified token is remembered (never past its `exp`), so its signature is checked once per
# process rather than on every request; a key withdrawn from the JWKS stops working within this.
VERIFIED_CACHE_SECONDS = 300
VERIFIED_CACHE_SIZE = 10_000


class SessionVerifier:
    """Verify session tokens and return the user ID they carry."""

    def __init__(
        self,
        *,
        algorithms: tuple[str, ...],
        user_claim: str,
        secret: bytes | str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
    ):
        self._algorithms = list(algorithms)
        self._user_claim = user_claim
        self._secret = secret
        self._jwks = (
            jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=5)
            if jwks_url
            else None
        )
        self._issuer = issuer
        self._audience = audience
        self._verified: TTLCache[str, tuple[str, float]] = TTLCache(
            VERIFIED_CACHE_SIZE, VERIFIED_CACHE_SECONDS
        )
        self._verified_lock = threading.Lock()

    def verify(self, token: str) -> str:
        """Return the user ID of a valid token; raise `Unauthorized` for anything else."""
        with self._verified_lock:
            remembered = self._verified.get(token)
        if remembered is not None and time.time() < remembered[1]:
            return remembered[0]
        user_id, expires = self._verify(token)
        with self._verified_lock:
            self._verified[token] = (user_id, expires)
        return user_id

    def _verify(self, token: str) -> tuple[str, float]:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            if algorithm not in self._algorithms:
                raise jwt.InvalidAlgorithmError("algorithm not allowed")
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": self._required_claims(), "verify_aud": bool(self._audience)},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable("The session signing keys could not be fetched.") from exc
        except jwt.ExpiredSignatureError as exc:
            raise _invalid("The session token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise _invalid("The session token is not valid.") from exc
        return self._user_id(claims), float(claims["exp"])

    def mint(self, user_id: str, *, now: float) -> str:
        """Sign a session token for `user_id` (dev mode: the BFF holds the only key)."""
        claims = {
            "sub": user_id,
            self._user_claim: user_id,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": int(now),
            "exp": int(now) + DEV_SESSION_SECONDS,
        }
        return jwt.encode(claims, self._secret, algorithm=HMAC_ALGORITHMS[0])

    def _key(self, token: str) -> Any:
        if self._jwks is not None:
            return self._jwks.get_signing_key_from_jwt(token)
        return self._secret

    def _required_claims(self) -> list[str]:
        required = ["exp", self._user_claim]
        if self._issuer:
            required.append("iss")
        if self._audience:
            required.append("aud")
        return required

    def _user_id(self, claims: dict[str, Any]) -> str:
        user_id = claims.get(self._user_claim)
        if not isinstance(user_id, str) or not user_id.strip():
            raise _invalid(f"The session token has no usable {self._user_claim!r} claim.")
        # "." and ".." would be dropped from Kard paths as dot segments, naming no user.
        if len(user_id) > MAX_USER_ID_LENGTH or not user_id.isprintable() or user_id in (".", ".."):
            raise _invalid(f"The session token's {self._user_claim!r} claim is not a user ID.")
        return user_id


def build_verifier(settings: Settings) -> SessionVerifier:
    """Build the verifier that `BFF_AUTH_MODE` asks for."""
    if settings.auth_mode == "jwks":
        return SessionVerifier(
            algorithms=ASYMMETRIC_ALGORITHMS,
            user_claim=settings.user_claim,
            jwks_url=settings.jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    if settings.auth_mode == "hs256":
        return SessionVerifier(
            algorithms=HMAC_ALGORITHMS,
            user_claim=settings.user_claim,
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    return SessionVerifier(
        algorithms=HMAC_ALGORITHMS,
        user_claim=settings.user_claim,
        secret=secrets.token_bytes(32),
        issuer=DEV_ISSUER,
        audience=DEV_AUDIENCE,
    )


def init_app(app: Flask, settings: Settings) -> None:
    """Give the app its session verifier."""
    app.extensions["session_verifier"] = build_verifier(settings)


def session_verifier() -> SessionVerifier:
    """The current app's session verifier."""
    return current_app.extensions["session_verifier"]


def session_user() -> str:
    """The Kard user ID of the app session making this request; 401 without a valid token."""
    if "session_user" not in g:
        g.session_user = session_verifier().verify(_bearer_token())
    return g.session_user


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send the app session token as 'Authorization: Bearer <token>'.")
    return token.strip()


def _invalid(detail: str) -> Unauthorized:
    error = Unauthorized(detail)
    error.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return error
