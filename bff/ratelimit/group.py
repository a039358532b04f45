"""Group commit for the rate limit's Redis increments: the concurrent requests of a process share
a round trip. The first thread to find no batch in flight sends every increment queued by then
in one pipeline (of `limits`' own INCR-and-EXPIRE script); threads that arrive meanwhile queue
theirs for the next batch. No timer: a lone request is sent at once, a busy process sends fewer,
larger batches. Each increment stays atomic in Redis, so the count stays exact."""

import threading
from dataclasses import dataclass

import redis
from limits.storage import RedisStorage

from bff.fleet.connection import SharedRedis, SharedStateUnavailable


@dataclass
class _Increment:
    key: str
    expiry: int
    count: int | None = None
    failed: bool = False


class GroupedIncrements:
    """`incr(key, expiry)` as `RedisStorage.incr`, with concurrent calls in one round trip."""

    def __init__(self, storage: RedisStorage, shared: SharedRedis):
        self._storage = storage
        self._shared = shared
        self._sending = threading.Lock()  # held by the thread whose batch is in flight
        self._queued_lock = threading.Lock()
        self._queued: list[_Increment] = []

    def incr(self, key: str, expiry: int) -> int:
        """The key's count after this increment; `SharedStateUnavailable` if Redis failed."""
        mine = _Increment(self._storage.prefixed_key(key), expiry)
        with self._queued_lock:
            self._queued.append(mine)
        with self._sending:
            if mine.count is None and not mine.failed:
                with self._queued_lock:
                    batch, self._queued = self._queued, []
                self._send(batch)
        if mine.failed:
            raise SharedStateUnavailable
        assert mine.count is not None
        return mine.count

    def _send(self, batch: list[_Increment]) -> None:
        script = self._storage.lua_incr_expire

        def send(client: redis.Redis) -> list:
            # EVALSHA straight into the pipeline: a Script in a pipeline costs a SCRIPT EXISTS
            # round trip per batch.
            pipe = client.pipeline(transaction=False)
            for increment in batch:
                pipe.evalsha(script.sha, 1, increment.key, increment.expiry, 1)
            return pipe.execute()

        def run(client: redis.Redis) -> list:
            try:
                return send(client)
            except redis.exceptions.NoScriptError:  # a Redis that restarted: told it once
                client.script_load(script.script)
                return send(client)

        try:
            counts = self._shared.run(run)
        except SharedStateUnavailable:
            for increment in batch:
                increment.failed = True
            return
        for increment, count in zip(batch, counts, strict=True):
            increment.count = int(count)
