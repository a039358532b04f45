"""The outbox in Redis, shared by every BFF instance that points at the same server.

A queued chunk is in the due and created sets; a dead letter is in the dead set instead, its
events still in the counts the bounds are checked against (and in the dead letters' own count,
which the backlog takes off them), until it is replayed (queued again) or purged (forgotten).
"""

import json
import uuid
from typing import Any

from bff.attributions.outbox.store import (
    LEASE_SECONDS,
    Backlog,
    Bounds,
    Chunk,
    DeadLetter,
    bounds_status,
)
from bff.fleet.connection import redis_client
from bff.redis_leases import RedisLeases

PREFIX = "kard-bff:outbox:"
DUE = PREFIX + "due"  # sorted set: queued chunk ID -> when it is due
CREATED = PREFIX + "created"  # sorted set: queued chunk ID -> when it was stored
DEAD = PREFIX + "dead"  # sorted set: dead letter ID -> when it died
REJECTED = PREFIX + "rejected"  # list of refused chunks, as JSON, oldest first
LAST_ERROR = PREFIX + "last-error"
EVENTS = PREFIX + "events"  # how many events the chunks hold
USER_EVENTS = PREFIX + "user-events"  # hash: user ID -> how many events the user's chunks hold
DEAD_EVENTS = PREFIX + "dead-events"  # how many of the events are in dead letters

# Remove a chunk, queued or dead, and take its events off the counts, atomically; a chunk
# already gone counts nothing, so forgetting twice is harmless. (Chunks stored before the counts
# were kept have no event_count and were never counted.)
FORGET = """
local user_id, count = unpack(redis.call('HMGET', KEYS[1], 'user_id', 'event_count'))
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
local was_dead = redis.call('ZREM', KEYS[7], ARGV[1]) == 1
if count then
    redis.call('DECRBY', KEYS[5], count)
    if redis.call('HINCRBY', KEYS[6], user_id, -count) <= 0 then
        redis.call('HDEL', KEYS[6], user_id)
    end
    if was_dead then redis.call('DECRBY', KEYS[8], count) end
end
"""
# Each move between queued and dead is one step, so a crash cannot leave a chunk both due and
# dead, or neither, nor the dead letters' count off; one that is not where the move starts stays.
DIE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[4], 'last_error', ARGV[3])
redis.call('DEL', KEYS[5])
redis.call('INCRBY', KEYS[6], redis.call('HGET', KEYS[4], 'event_count') or 0)
return 1
"""
REPLAY = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[4], 'attempts', 0)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], redis.call('HGET', KEYS[4], 'created_at'), ARGV[1])
redis.call('DECRBY', KEYS[5], redis.call('HGET', KEYS[4], 'event_count') or 0)
return 1
"""
PURGE = f"""
if not redis.call('ZSCORE', KEYS[7], ARGV[1]) then return 0 end
{FORGET}
return 1
"""


def _chunk_key(chunk_id: str) -> str:
    return f"{PREFIX}chunk:{chunk_id}"


def _lease_key(chunk_id: str) -> str:
    return f"{PREFIX}lease:{chunk_id}"


def _forget_keys(chunk_id: str) -> list[str]:
    """The keys `FORGET`, and so `PURGE`, names."""
    return [
        *(_chunk_key(chunk_id), _lease_key(chunk_id), DUE, CREATED),
        *(EVENTS, USER_EVENTS, DEAD, DEAD_EVENTS),
    ]


class RedisOutbox:
    """Chunks as hashes, due times in a sorted set, leases as expiring keys (SET NX PX)."""

    def __init__(self, url: str, bounds: Bounds):
        self.bounds = bounds
        self._redis = redis_client(url, decode_responses=True)
        self._forget_script = self._redis.register_script(FORGET)
        self._die = self._redis.register_script(DIE)
        self._replay = self._redis.register_script(REPLAY)
        self._purge = self._redis.register_script(PURGE)
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

    def dead(self, chunk_id: str, *, now: float, error: str) -> None:
        keys = [DUE, CREATED, DEAD, _chunk_key(chunk_id), _lease_key(chunk_id), DEAD_EVENTS]
        self._die(keys=keys, args=[chunk_id, now, error])

    def dead_letters(self, *, limit: int) -> list[DeadLetter]:
        deaths = self._redis.zrange(DEAD, 0, limit - 1, withscores=True)
        with self._redis.pipeline(transaction=False) as pipe:
            for chunk_id, _ in deaths:
                pipe.hmget(_chunk_key(chunk_id), "events", "created_at", "attempts", "last_error")
            found = pipe.execute()
        return [
            DeadLetter(
                chunk_id, len(json.loads(events)), float(created), died_at, int(tries), error or ""
            )
            for (chunk_id, died_at), (events, created, tries, error) in zip(
                deaths, found, strict=True
            )
            if events is not None  # its hash is gone: nothing of it is left to show
        ]

    def replay(self, ids: list[str] | None, *, now: float) -> int:
        return sum(
            self._replay(
                keys=[DEAD, DUE, CREATED, _chunk_key(chunk_id), DEAD_EVENTS], args=[chunk_id, now]
            )
            for chunk_id in self._chosen(ids)
        )

    def purge(self, ids: list[str] | None) -> int:
        return sum(
            self._purge(keys=_forget_keys(chunk_id), args=[chunk_id])
            for chunk_id in self._chosen(ids)
        )

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
            pipe.get(DEAD_EVENTS)
            pipe.zrange(CREATED, 0, 0, withscores=True)
            pipe.zcard(DEAD)
            events, dead_events, oldest, dead = pipe.execute()
        waiting = int(events or 0) - int(dead_events or 0)
        return Backlog(waiting, now - oldest[0][1] if oldest else 0.0, dead)

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
            "deadLetters": self._redis.zcard(DEAD),
            **bounds_status(self.bounds),
        }

    def _forget(self, chunk_id: str) -> None:
        self._forget_script(keys=_forget_keys(chunk_id), args=[chunk_id])

    def _chosen(self, ids: list[str] | None) -> list[str]:
        """`ids`, or every dead letter's."""
        return ids if ids is not None else self._redis.zrange(DEAD, 0, -1)
