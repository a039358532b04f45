"""The issuer's published signing keys (its JWKS), cached on an injected clock.

PyJWKClient fetches and parses the key set; the caching is ours, because PyJWKClient's per-key
cache never expires (a key withdrawn from the JWKS would verify forever) and its key-set cache
runs on `time.monotonic`, which neither a caller's clock nor a test can move.
"""

import math
import threading
import time
from collections.abc import Callable

import jwt

from bff.errors import Unavailable

CACHE_SECONDS = 300
# A token naming an unknown `kid` fetches the JWKS again at once, but no fetch follows another
# within this, so unknown kids (or a broken endpoint) cannot make the BFF hammer the issuer.
REFETCH_SECONDS = 10
FETCH_TIMEOUT_SECONDS = 5


class UnknownKeyError(jwt.PyJWKClientError):
    """The token names a `kid` the issuer's JWKS does not publish."""


class JwksKeys:
    """The signing keys at a JWKS URL, fetched at most `CACHE_SECONDS` apart and on unknown kids."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time):
        self._client = jwt.PyJWKClient(
            url, cache_keys=False, cache_jwk_set=False, timeout=FETCH_TIMEOUT_SECONDS
        )
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -math.inf  # of the last successful fetch
        self._tried_at = -math.inf  # of the last fetch, successful or not
        self._lock = threading.Lock()

    def key(self, kid: object) -> tuple[jwt.PyJWK, float]:
        """Return the key named `kid`, and until when a verification with it may be trusted."""
        with self._lock:
            now = self._clock()
            # Intervals rather than "now is later than": a clock set back does not freeze the keys.
            stale = not self._fetched_at <= now < self._fetched_at + CACHE_SECONDS
            may_fetch = not self._tried_at <= now < self._tried_at + REFETCH_SECONDS
            known = isinstance(kid, str) and kid in self._keys
            if (stale or not known) and may_fetch:
                self._fetch(now)
            elif stale:  # the fetch a moment ago failed
                raise _unavailable()
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise UnknownKeyError("the token's kid is not in the JWKS")
            return key, self._fetched_at + CACHE_SECONDS

    def _fetch(self, now: float) -> None:
        self._tried_at = now
        try:
            keys = self._client.get_signing_keys()
        # An unreachable endpoint, or one answering something that is not a key set (ValueError:
        # not JSON), is the issuer's outage, not a bad token.
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, ValueError) as exc:
            raise _unavailable() from exc
        self._keys = {key.key_id: key for key in keys if isinstance(key.key_id, str)}
        self._fetched_at = now


def _unavailable() -> Unavailable:
    return Unavailable("The session signing keys could not be fetched.")
