"""Values minted once for the whole fleet: the Kard access token, each user's WebView token.

A value lives in Redis, sealed (`bff.keys`: a copy of Redis alone yields no usable token), under
an opaque name, until it must be renewed. Minting is single-flight across processes: the process
that finds no value takes a short lock (SET NX PX) and mints; the others wait for its value,
polling, rather than asking Kard too, for at most the lock's life. When the winner fails or
dies, its lock goes and a waiter takes over; when Redis cannot be used, each process mints for
itself (more calls to Kard, never a failed request).

A stored value reads `<fingerprint>.<sealed JSON>`, so a refused token is forgotten only if it
is still the one stored (`forget`), never the fresh one another process just put there.
"""

import contextlib
import logging
import secrets
import time
from collections.abc import Callable

import orjson

from bff.fleet.connection import SharedRedis, SharedStateUnavailable
from bff.keys import Keys

log = logging.getLogger(__name__)

PREFIX = "kard-bff:fleet:"
POLL_SECONDS = 0.02

# Delete KEYS[1] only if its value starts with ARGV[1]: a lock still ours, a value still the one
# refused.
DELETE_IF_PREFIXED = """
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1])) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

Mint = Callable[[], tuple[str, float]]  # -> (value, seconds it may be used)


class FleetCache:
    """Get a value from the fleet's cache, minting it once for the fleet when there is none."""

    def __init__(
        self,
        shared: SharedRedis,
        keys: Keys,
        *,
        lock_seconds: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._shared = shared
        self._keys = keys
        self._lock_ms = max(1, round(lock_seconds * 1000))
        self._clock = clock
        self._sleep = sleep
        self._delete_if_prefixed = shared.client.register_script(DELETE_IF_PREFIXED)

    def get(self, name: str, mint: Mint) -> tuple[str, float]:
        """The value cached as `name` and the seconds it may still be used, minted with
        `mint` when none is: under the fleet's lock, or here when Redis cannot be used."""
        key = self._key(name)
        try:
            return self._read(key) or self._mint_once(key, mint)
        except SharedStateUnavailable:
            return mint()

    def forget(self, name: str, value: str) -> None:
        """Drop `value` (say, a token Kard refused) unless another value replaced it already."""
        key = self._key(name)
        with contextlib.suppress(SharedStateUnavailable):
            self._shared.run(
                lambda r: self._delete_if_prefixed(keys=[key], args=[self._fingerprint(value)])
            )

    def _mint_once(self, key: str, mint: Mint) -> tuple[str, float]:
        owner = secrets.token_hex(16)
        lock = key + ":lock"
        deadline = self._clock() + self._lock_ms / 1000
        while not self._shared.run(lambda r: r.set(lock, owner, nx=True, px=self._lock_ms)):
            self._sleep(POLL_SECONDS)
            found = self._read(key)
            if found:
                return found
            if self._clock() > deadline:  # the winner is stuck: do not wait any longer
                log.warning("no shared value after %d ms; minting here", self._lock_ms)
                return mint()
        try:
            found = self._read(key)  # stored by the lock's previous holder
            if found:
                return found
            value, seconds = mint()
            self._store(key, value, seconds)
            return value, seconds
        finally:
            self._release(lock, owner)

    def _read(self, key: str) -> tuple[str, float] | None:
        stored = self._shared.run(lambda r: r.get(key))
        if stored is None:
            return None
        _, _, sealed = stored.partition(b".")
        opened = self._keys.open(sealed)
        if opened is None:  # sealed with a key no longer configured: mint anew
            return None
        entry = orjson.loads(opened)
        seconds = entry["until"] - self._clock()
        return (entry["value"], seconds) if seconds > 0 else None

    def _store(self, key: str, value: str, seconds: float) -> None:
        if seconds <= 0:
            return
        entry = orjson.dumps({"value": value, "until": self._clock() + seconds}).decode()
        stored = f"{self._fingerprint(value)}.{self._keys.seal(entry)}"
        # When it cannot be stored, this process uses it all the same; the others mint their own.
        with contextlib.suppress(SharedStateUnavailable):
            self._shared.run(lambda r: r.set(key, stored, px=max(1, round(seconds * 1000))))

    def _release(self, lock: str, owner: str) -> None:
        with contextlib.suppress(SharedStateUnavailable):  # else it expires by itself
            self._shared.run(lambda r: self._delete_if_prefixed(keys=[lock], args=[owner]))

    def _key(self, name: str) -> str:
        return PREFIX + self._keys.name(name)

    def _fingerprint(self, value: str) -> str:
        return self._keys.name(value)
