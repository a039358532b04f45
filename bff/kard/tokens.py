"""The issuer's Kard access token, shared by every request of the process."""

import threading
import time
from collections.abc import Callable

# Renew this long before Kard says the token expires (the official SDKs use the same margin).
REFRESH_MARGIN = 120.0

FetchToken = Callable[[], tuple[str, float]]


class AccessTokens:
    """Fetch the access token once and reuse it until shortly before it expires.

    Refresh is single-flight: however many threads find the token missing or stale at once,
    one of them fetches and the others wait for its answer.
    """

    def __init__(self, fetch: FetchToken, *, clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch
        self._clock = clock
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
            token, expires_in = self._fetch()
            margin = min(REFRESH_MARGIN, expires_in / 2)
            self._current = (token, self._clock() + expires_in - margin)
            return token

    def invalidate(self, token: str) -> None:
        """Forget `token` after Kard refused it, unless another thread already replaced it."""
        with self._lock:
            if self._current is not None and self._current[0] == token:
                self._current = None
