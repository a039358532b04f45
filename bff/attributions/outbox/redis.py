"""The outbox in Redis, shared by every BFF instance that points at the same server."""

import json
import uuid
from typing import Any

from bff.attributions.outbox.store import LEASE_SECONDS, Backlog, Bounds, Chunk, bounds_status
from bff.fleet.connection import redis_client
from bff.redis_leases import RedisLeases

PREFIX = "kard-bff:outbox:"
DUE = PREFIX + "due"  # sorted set: chunk ID -> when it is due
CREATED = PREFIX + "created"  # sorted set: chunk ID -> when it was stored
REJECTED = PREFIX + "rejected"  # list of refused chunks, as JSON, oldest first
LAST_ERROR = PREFIX + "last-error"
EVENTS = PREFIX + "events"  # how many events the chunks hold
USER_EVENTS = PREFIX + "user-events"  # hash: user ID -> how many events the user's chunks hold

# Remove a chunk and take its events off the counts, atomically; a chunk already gone counts
# nothing, so forgetting twice is harmless. (Chunks stored before the counts were kept have no
# event_count and were never counted.)
FORGET = """
local user_id, count = unpack(redis.call('HMGET', KEYS[1], 'user_id', 'event_count'))
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if count then
    redis.call('DECRBY', KEYS[5], count)
    if redis.call('HINCRBY', KEYS[6], user_id, -count) <= 0 then
        redis.call('HDEL', KEYS[6], user_id)
    end
end
"""


def _chunk_key(chunk_id: str) -> str:
    return f"{PREFIX}chunk:{chunk_id}"


def _lease_key(chunk_id: str) -> str:
    return f"{PREFIX}lease:{chunk_id}"


class RedisOutbox:
    """Chunks as hashes, due times in a sorted set, leases as expiring keys (SET NX PX)."""

    def __init__(self, url: str, bounds: Bounds):
        self.bounds = bounds
        self._redis = redis_client(url, decode_responses=True)
        self._forget_script = self._redis.register_script(FORGET)
        self._leases = RedisLeases(
            self._redis, due=DUE, last_error=LAST_ERROR, item_key=_chunk_key, lease_key=_lease_key
        )

    def put(self, user_id: str, events: list[dict[str, Any]], *, now: float, error: str) -> str:
        chunk_id = uuid.uuid4().hex
        fields = {
            "user_id": user_id,
            "events": json.dumps(events),
            "event_count": len(events),
            "created_at": now,
            "attempts": 0,
        }
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(_chunk_key(chunk_id), mapping=fields)
            pipe.zadd(DUE, {chunk_id: now})
            pipe.zadd(CREATED, {chunk_id: now})
            pipe.incrby(EVENTS, len(events))
            pipe.hincrby(USER_EVENTS, user_id, len(events))
            pipe.set(LAST_ERROR, error)
            pipe.execute()
        return chunk_id

    def lease(
        self, owner: str, *, now: float, due_by: float, seconds: float = LEASE_SECONDS
    ) -> Chunk | None:
        # A chunk delivered between the look-up and the lease is forgotten (its lease too).
        leased = self._leases.lease(owner, due_by=due_by, seconds=seconds, gone=self._forget)
        if leased is None:
            return None
        chunk_id, fields, attempts = leased
        events = json.loads(fields["events"])
        return Chunk(chunk_id, fields["user_id"], events, float(fields["created_at"]), attempts)

    def delivered(self, chunk_id: str) -> None:
        self._forget(chunk_id)

    def retry_later(self, chunk_id: str, *, at: float, error: str) -> None:
        self._leases.retry_later(chunk_id, at=at, error=error)

    def release(self, chunk_id: str, owner: str, *, now: float) -> None:
        self._leases.release(chunk_id, owner, now=now)

    def reject(self, chunk_id: str, *, now: float, error: str) -> None:
        fields = self._redis.hgetall(_chunk_key(chunk_id))
        if fields:  # not already rejected or delivered
            record = {"id": chunk_id, **fields, "rejected_at": now, "error": error}
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(REJECTED, json.dumps(record))
                pipe.ltrim(REJECTED, -self.bounds.rejected_chunks, -1)  # keep the newest
                pipe.execute()
        self._forget(chunk_id)

    def queued_events(self, user_id: str) -> tuple[int, int]:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hget(USER_EVENTS, user_id)
            pipe.get(EVENTS)
            user_events, events = pipe.execute()
        return int(user_events or 0), int(events or 0)

    def next_due(self) -> float | None:
        first = self._redis.zrange(DUE, 0, 0, withscores=True)
        return first[0][1] if first else None

    def backlog(self, *, now: float) -> Backlog:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(EVENTS)
            pipe.zrange(CREATED, 0, 0, withscores=True)
            events, oldest = pipe.execute()
        return Backlog(int(events or 0), now - oldest[0][1] if oldest else 0.0)

    def status(self, *, now: float) -> dict[str, Any]:
        ids = self._redis.zrange(CREATED, 0, -1, withscores=True)
        attempts = events = 0
        for chunk_id, _ in ids:
            fields = self._redis.hmget(_chunk_key(chunk_id), "attempts", "events")
            attempts += int(fields[0] or 0)
            events += len(json.loads(fields[1] or "[]"))
        return {
            "backend": "redis",
            "depth": len(ids),
            "events": events,
            "oldestAgeSeconds": round(now - ids[0][1], 1) if ids else None,
            "attempts": attempts,
            "lastError": self._redis.get(LAST_ERROR) if ids else None,
            "rejectedChunks": self._redis.llen(REJECTED),
            **bounds_status(self.bounds),
        }

    def _forget(self, chunk_id: str) -> None:
        keys = [_chunk_key(chunk_id), _lease_key(chunk_id), DUE, CREATED, EVENTS, USER_EVENTS]
        self._forget_script(keys=keys, args=[chunk_id])
