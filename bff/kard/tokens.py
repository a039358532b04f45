"""The issuer's Kard access token, shared by every request of the process, and, with Redis, by
every process of the fleet."""

import threading
import time
from collections.abc import Callable

from bff.fleet.cache import FleetCache

# Renew this long before Kard says the token expires (the official SDKs use the same margin).
REFRESH_MARGIN = 120.0

FetchToken = Callable[[], tuple[str, float]]


class AccessTokens:
    """Fetch the access token once and reuse it until shortly before it expires.

    Refresh is single-flight: however many threads find the token missing or stale at once,
    one of them fetches and the others wait for its answer. With a `fleet` cache, the same holds
    across processes: one token, and one refresh after Kard refuses it, for the whole fleet.
    `name` tells apart the tokens of different configurations (see `KardClient.identity`).
    """

    def __init__(
        self,
        fetch: FetchToken,
        *,
        clock: Callable[[], float] = time.monotonic,
        fleet: FleetCache | None = None,
        name: str = "",
    ):
        self._fetch = fetch
        self._clock = clock
        self._fleet = fleet
        self._name = f"access-token\n{name}"
        self._lock = threading.Lock()
        self._current: tuple[str, float] | None = None  # (token, renew at)

    def get(self) -> str:
        """Return a token that is good for at least the refresh margin, fetching one if needed."""
        current = self._current
        if current is not None and self._clock() < current[1]:
            return current[0]
        with self._lock:
            current = self._current
            if current is not None and self._clock() < current[1]:
                return current[0]
            token, usable = self._fleet.get(self._name, self._mint) if self._fleet else self._mint()
            self._current = (token, self._clock() + usable)
            return token

    def invalidate(self, token: str) -> None:
        """Forget `token` after Kard refused it, unless another thread (or process) already
        replaced it."""
        with self._lock:
            if self._current is not None and self._current[0] == token:
                self._current = None
        if self._fleet is not None:
            self._fleet.forget(self._name, token)

    def _mint(self) -> tuple[str, float]:
        """A new token from Kard, and how long it may be used: until the refresh margin."""
        token, expires_in = self._fetch()
        return token, expires_in - min(REFRESH_MARGIN, expires_in / 2)
