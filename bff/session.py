"""App-user authentication: verify the issuer's session token and give the Kard user ID.

The user ID comes only from the verified token's `BFF_USER_CLAIM`, never from the request's
path, query or body; or, in a host app embedding kard-bff, from the host's `user_loader` (its
own login, a cookie session: `bff.cross_site` then refuses requests from other sites).

Algorithms are allow-listed per mode, so a token signed with an algorithm the mode does not
use (`none`, or HS256 in `jwks` mode) is refused before any key is looked up.
A refused token's 401 says which check failed (RFC 6750's `error_description`), never the token.
"""

import contextlib
import math
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from cachetools import TTLCache
from flask import Flask, g, request
from jwt.exceptions import InvalidSubjectError

from bff import cross_site, current
from bff.access_log import USER_ENVIRON
from bff.errors import SignInRequired, Unauthorized
from bff.fleet.extension import keys
from bff.jwks import JwksKeys, UnknownKeyError
from bff.ratelimit.extension import limit_user
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
DEV_KEY_FILE = "dev-session.key"
DEV_KEY_BYTES = 32
CLOCK_SKEW_SECONDS = 30
USER_NAME_LENGTH = 16  # hex digits of the user's hash in the access log: 64 bits
# A verified token is remembered, so its signature is checked once per process rather than on
# every request: never past its `exp`, nor past the JWKS key set its key came from, so a key
# withdrawn from the JWKS stops working when the key set is next fetched.
VERIFIED_CACHE_SECONDS = 300
VERIFIED_CACHE_SIZE = 10_000
# PyJWT checks a signed token's required claims, then iat, nbf and exp (on the system clock),
# then iss, aud, sub and jti. The verifier keeps that order with the times on its own clock:
# the signature and required claims first, then `_check_times`, then the claims that remain,
# so a token wrong in two ways is told the problem PyJWT would name first.
SIGNATURE_AND_REQUIRED_CLAIMS = {
    f"verify_{claim}": False for claim in ("iat", "nbf", "exp", "iss", "aud", "sub", "jti")
}
# Why a token is refused, by PyJWT's error class (the most specific class in its MRO wins).
REFUSALS: dict[type[Exception], str] = {
    jwt.ExpiredSignatureError: "The session token has expired.",
    jwt.ImmatureSignatureError: (
        "The session token is not valid yet: its 'nbf' or 'iat' is in the future."
    ),
    jwt.InvalidAlgorithmError: "The session token's algorithm ('alg') is not allowed.",
    jwt.InvalidSignatureError: "The session token's signature does not match the signing key.",
    jwt.InvalidIssuerError: "The session token's 'iss' claim is not the configured issuer.",
    jwt.InvalidAudienceError: "The session token's 'aud' claim is not the configured audience.",
    InvalidSubjectError: "The session token's 'sub' claim is not a string.",
    UnknownKeyError: "The session token's signing key ('kid') is not published in the JWKS.",
    jwt.DecodeError: "The session token is malformed.",
}


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
        clock: Callable[[], float] = time.time,
    ):
        self._algorithms = list(algorithms)
        self._user_claim = user_claim
        self._secret = secret
        self._jwks = JwksKeys(jwks_url, clock=clock) if jwks_url else None
        self._issuer = issuer
        self._audience = audience
        self._clock = clock  # runs the caches, and checks `iat`, `nbf` and `exp`
        self._verified: TTLCache[str, tuple[str, float]] = TTLCache(
            VERIFIED_CACHE_SIZE, VERIFIED_CACHE_SECONDS, timer=clock
        )
        self._verified_lock = threading.Lock()

    def verify(self, token: str) -> str:
        """Return the user ID of a valid token; raise `Unauthorized` for anything else."""
        with self._verified_lock:
            remembered = self._verified.get(token)
        if remembered is not None and self._clock() < remembered[1]:
            return remembered[0]
        user_id, trusted_until = self._verify(token)
        with self._verified_lock:
            self._verified[token] = (user_id, trusted_until)
        return user_id

    def _verify(self, token: str) -> tuple[str, float]:
        """Return the token's user ID, and until when this verification may be remembered."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in self._algorithms:
                raise jwt.InvalidAlgorithmError("algorithm not allowed")
            key, key_trusted_until = self._key(header)
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                options={"require": self._required_claims(), **SIGNATURE_AND_REQUIRED_CLAIMS},
            )
            _check_times(claims, self._clock())
            jwt.decode(  # the signature is verified: the claims that remain
                token,
                issuer=self._issuer,
                audience=self._audience,
                options={
                    "verify_signature": False,
                    "verify_iss": True,
                    "verify_aud": bool(self._audience),
                    "verify_sub": True,
                    "verify_jti": True,
                },
            )
        except jwt.PyJWTError as exc:
            raise _invalid(_refusal(exc)) from exc
        # No float(): an `exp` of 10**400 is a valid JSON number, and too large for a float.
        return self._user_id(claims), min(claims["exp"], key_trusted_until)

    def mint(self, user_id: str, *, now: float) -> str:
        """Sign a session token for `user_id` with the shared secret (`dev` and `hs256` modes)."""
        claims = {
            "sub": user_id,
            self._user_claim: user_id,
            "iat": int(now),
            "exp": int(now) + DEV_SESSION_SECONDS,
        }
        if self._issuer:
            claims["iss"] = self._issuer
        if self._audience:
            claims["aud"] = self._audience
        return jwt.encode(claims, self._secret, algorithm=HMAC_ALGORITHMS[0])

    def _key(self, header: dict[str, Any]) -> tuple[Any, float]:
        if self._jwks is not None:
            return self._jwks.key(header.get("kid"))
        return self._secret, math.inf

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
        if not is_user_id(user_id):
            raise _invalid(f"The session token's {self._user_claim!r} claim is not a user ID.")
        return user_id


def build_verifier(
    settings: Settings, *, clock: Callable[[], float] = time.time
) -> SessionVerifier:
    """Build the verifier that `BFF_AUTH_MODE` asks for; its caches run on `clock`."""
    if settings.auth_mode == "jwks":
        return SessionVerifier(
            algorithms=ASYMMETRIC_ALGORITHMS,
            user_claim=settings.user_claim,
            jwks_url=settings.jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            clock=clock,
        )
    if settings.auth_mode == "hs256":
        return SessionVerifier(
            algorithms=HMAC_ALGORITHMS,
            user_claim=settings.user_claim,
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            clock=clock,
        )
    return SessionVerifier(
        algorithms=HMAC_ALGORITHMS,
        user_claim=settings.user_claim,
        secret=dev_key(settings.state_dir),
        issuer=DEV_ISSUER,
        audience=DEV_AUDIENCE,
        clock=clock,
    )


def dev_key(state_dir: Path) -> bytes:
    """The `dev` mode signing key, kept in `state_dir` so dev sessions survive a restart."""
    path = state_dir / DEV_KEY_FILE
    if not path.exists():
        _create_dev_key(path)
    return path.read_bytes()


def _create_dev_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written in full under a private temporary name (mode 0600), then linked into place: the link
    # fails if another worker starting at the same moment got there first, so every process reads
    # the same complete key.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(DEV_KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


UserLoader = Callable[[], str | int | None]  # the signed-in user's Kard ID (an int: its text)


def init_app(app: Flask, settings: Settings, user_loader: UserLoader | None = None) -> None:
    """Give the app its session verifier, on the app's clock; or, with `user_loader`, take the
    user from the host app's own login."""
    if user_loader is not None:
        current.parts(app)["user_loader"] = user_loader
    else:
        current.parts(app)["session_verifier"] = build_verifier(settings, clock=current.clock(app))


def session_verifier() -> SessionVerifier:
    """The current app's session verifier."""
    return current.parts()["session_verifier"]


def session_user() -> str:
    """The Kard user ID of the app session making this request; 401 without a valid token,
    429 past the user's rate limit."""
    if "session_user" not in g:
        loader = current.parts().get("user_loader")
        if loader is None:
            user_id = session_verifier().verify(_bearer_token())
        else:
            user_id = _host_user(loader)
        name = keys().name(user_id)  # the user's opaque name, in logs and Redis keys
        request.environ[USER_ENVIRON] = name[:USER_NAME_LENGTH]  # never the ID itself
        limit_user(name)  # 429 past BFF_RATE_LIMIT, before anything goes upstream
        g.session_user = user_id
    return g.session_user


def _host_user(loader: UserLoader) -> str:
    """The host app's signed-in user, for a request that may not come from another site."""
    cross_site.refuse_cross_site()
    user_id = loader()
    if user_id is None:
        raise SignInRequired("Sign in to the app first: no user is signed in.")
    if isinstance(user_id, int) and not isinstance(user_id, bool):  # a database's integer key
        user_id = str(user_id)
    if not is_user_id(user_id):
        raise SignInRequired("The signed-in user has no usable Kard user ID.")
    return user_id


def is_user_id(value: object) -> bool:
    """Whether `value` can name a Kard user: printable text of at most MAX_USER_ID_LENGTH
    characters, not "." or ".." (dropped from Kard paths as dot segments, naming no user)."""
    return (
        isinstance(value, str)
        and bool(value.strip())
        and len(value) <= MAX_USER_ID_LENGTH
        and value.isprintable()
        and value not in (".", "..")
    )


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send the app session token as 'Authorization: Bearer <token>'.")
    return token.strip()


def _check_times(claims: dict[str, Any], now: float) -> None:
    """Check `iat`, `nbf` and `exp` against `now` as PyJWT checks them against the system clock:
    the same leeway, the same comparisons, the same errors."""
    leeway = CLOCK_SKEW_SECONDS
    if "iat" in claims and _seconds(claims, "iat", jwt.InvalidIssuedAtError) > now + leeway:
        raise jwt.ImmatureSignatureError("The token is not yet valid (iat)")
    if "nbf" in claims and _seconds(claims, "nbf", jwt.DecodeError) > now + leeway:
        raise jwt.ImmatureSignatureError("The token is not yet valid (nbf)")
    if "exp" in claims and _seconds(claims, "exp", jwt.DecodeError) <= now - leeway:
        raise jwt.ExpiredSignatureError("Signature has expired")


def _seconds(claims: dict[str, Any], name: str, error: type[jwt.PyJWTError]) -> int:
    """The time claim `name` as PyJWT reads it, a whole number; `error` when it is none (text,
    infinity, NaN, an object)."""
    try:
        return int(claims[name])
    except (ValueError, TypeError, OverflowError):
        raise error(f"The {name!r} claim must be an integer.") from None


def _refusal(error: Exception) -> str:
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"The session token has no {error.claim!r} claim."
    for error_class in type(error).__mro__:
        if error_class in REFUSALS:
            return REFUSALS[error_class]
    return "The session token is not valid."


def _invalid(detail: str) -> Unauthorized:
    error = Unauthorized(detail)
    error.headers = {
        "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{_quotable(detail)}"'
    }
    return error


def _quotable(text: str) -> str:
    """`text` as RFC 6750 allows in error_description: printable ASCII without `"` or `\\`."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)
