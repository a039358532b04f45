"""The outbox in Redis, shared by every BFF instance that points at the same server."""

import json
import uuid
from typing import Any

import redis

from bff.outbox import LEASE_SECONDS, Chunk

PREFIX = "kard-bff:outbox:"
DUE = PREFIX + "due"  # sorted set: chunk ID -> when it is due
CREATED = PREFIX + "created"  # sorted set: chunk ID -> when it was stored
REJECTED = PREFIX + "rejected"  # list of refused chunks, as JSON
LAST_ERROR = PREFIX + "last-error"
LEASE_CANDIDATES = 20


def _chunk_key(chunk_id: str) -> str:
    return f"{PREFIX}chunk:{chunk_id}"


def _lease_key(chunk_id: str) -> str:
    return f"{PREFIX}lease:{chunk_id}"


class RedisOutbox:
    """Chunks as hashes, due times in a sorted set, leases as expiring keys (SET NX PX)."""

    def __init__(self, url: str):
        self._redis = redis.Redis.from_url(url, decode_responses=True)

    def put(self, user_id: str, events: list[dict[str, Any]], *, now: float, error: str) -> str:
        chunk_id = uuid.uuid4().hex
        fields = {"user_id": user_id, "events": json.dumps(events), "created_at": now}
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(_chunk_key(chunk_id), mapping={**fields, "attempts": 0})
            pipe.zadd(DUE, {chunk_id: now})
            pipe.zadd(CREATED, {chunk_id: now})
            pipe.set(LAST_ERROR, error)
            pipe.execute()
        return chunk_id

    def lease(
        self, owner: str, *, now: float, due_by: float, seconds: float = LEASE_SECONDS
    ) -> Chunk | None:
        for chunk_id in self._redis.zrangebyscore(DUE, "-inf", due_by, 0, LEASE_CANDIDATES):
            if not self._redis.set(_lease_key(chunk_id), owner, nx=True, px=int(seconds * 1000)):
                continue  # another worker holds it
            fields = self._redis.hgetall(_chunk_key(chunk_id))
            if not fields:  # delivered between the look-up and the lease
                self._forget(chunk_id)
                continue
            attempts = self._redis.hincrby(_chunk_key(chunk_id), "attempts", 1)
            events = json.loads(fields["events"])
            return Chunk(chunk_id, fields["user_id"], events, float(fields["created_at"]), attempts)
        return None

    def delivered(self, chunk_id: str) -> None:
        self._forget(chunk_id)

    def retry_later(self, chunk_id: str, *, at: float, error: str) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(DUE, {chunk_id: at})
            pipe.set(LAST_ERROR, error)
            pipe.delete(_lease_key(chunk_id))
            pipe.execute()

    def reject(self, chunk_id: str, *, now: float, error: str) -> None:
        fields = self._redis.hgetall(_chunk_key(chunk_id))
        record = {"id": chunk_id, **fields, "rejected_at": now, "error": error}
        self._redis.rpush(REJECTED, json.dumps(record))
        self._forget(chunk_id)

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
        }

    def _forget(self, chunk_id: str) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(_chunk_key(chunk_id), _lease_key(chunk_id))
            pipe.zrem(DUE, chunk_id)
            pipe.zrem(CREATED, chunk_id)
            pipe.execute()
