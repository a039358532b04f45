"""The webhook inbox in Redis, shared by every BFF instance that points at the same server."""

from typing import Any

from bff.fleet.connection import redis_client
from bff.redis_leases import RedisLeases
from bff.webhooks.inbox.store import RETENTION_SECONDS, DeadLetter, Handoffs, Pending

PREFIX = "kard-bff:webhooks:"
DUE = PREFIX + "due"  # sorted set: pending notification ID -> when it is due
DEAD = PREFIX + "dead"  # sorted set: dead letter ID -> when it died
LAST_ERROR = PREFIX + "last-error"
DEAD_LETTER_FIELDS = ("type", "received_at", "attempts", "last_error")

# Remember the ID and queue the notification in one step, so a crash cannot leave an ID
# remembered whose notification was never stored.
ADD = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
if ARGV[5] == '1' then
    redis.call('HSET', KEYS[2], 'type', ARGV[2], 'body', ARGV[3], 'received_at', ARGV[4],
               'attempts', 0, 'traceparent', ARGV[7])
    redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
end
return 1
"""
# Each move between the due set and the dead set is one step, so a crash cannot leave a
# notification both due and dead, or neither; one that is not where the move starts stays put.
DIE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], 'last_error', ARGV[3])
redis.call('DEL', KEYS[4])
return 1
"""
REPLAY = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], 'attempts', 0)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""
# The first receipt of the oldest pending notification, in one round trip however many wait
# (the hashes' keys are built from ARGV[1]: a single Redis, as the inbox needs).
OLDEST = """
local oldest = false
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local received = tonumber(redis.call('HGET', ARGV[1] .. id, 'received_at'))
    if received and (not oldest or received < oldest) then oldest = received end
end
return oldest and tostring(oldest) or false
"""
PURGE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
return 1
"""


def _seen_key(notification_id: str) -> str:
    return f"{PREFIX}seen:{notification_id}"


def _pending_key(notification_id: str) -> str:
    """The notification's hash, pending or dead."""
    return f"{PREFIX}pending:{notification_id}"


def _lease_key(notification_id: str) -> str:
    return f"{PREFIX}lease:{notification_id}"


class RedisInbox:
    """Seen IDs as expiring keys, notifications as hashes, due times and deaths in sorted sets."""

    def __init__(self, url: str):
        self._redis = redis_client(url)
        self._add = self._redis.register_script(ADD)
        self._die = self._redis.register_script(DIE)
        self._replay = self._redis.register_script(REPLAY)
        self._purge = self._redis.register_script(PURGE)
        self._oldest = self._redis.register_script(OLDEST)
        self._leases = RedisLeases(
            self._redis, due=DUE, last_error=LAST_ERROR, item_key=_pending_key, lease_key=_lease_key
        )

    def add(
        self,
        notification_id: str,
        kind: str,
        body: bytes,
        *,
        now: float,
        pending: bool,
        traceparent: str | None = None,
    ) -> bool:
        keys = [_seen_key(notification_id), _pending_key(notification_id), DUE]
        args = [RETENTION_SECONDS, kind, body, now, "1" if pending else "0", notification_id]
        args.append(traceparent or "")
        return bool(self._add(keys=keys, args=args))

    def lease(self, owner: str, *, now: float, seconds: float) -> Pending | None:
        # One handed on between the look-up and the lease leaves the due set.
        leased = self._leases.lease(owner, due_by=now, seconds=seconds, gone=self._not_due)
        if leased is None:
            return None
        notification_id, fields, attempts = leased
        kind, body, received_at = fields[b"type"].decode(), fields[b"body"], fields[b"received_at"]
        traceparent = fields.get(b"traceparent", b"").decode() or None
        return Pending(notification_id, kind, body, float(received_at), attempts, traceparent)

    def handled(self, notification_id: str, *, now: float) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(_pending_key(notification_id), _lease_key(notification_id))
            pipe.zrem(DUE, notification_id)
            pipe.zrem(DEAD, notification_id)  # a late success, past its lease, still counts
            pipe.execute()

    def retry_later(self, notification_id: str, *, at: float, error: str) -> None:
        self._leases.retry_later(notification_id, at=at, error=error)

    def dead(self, notification_id: str, *, now: float, error: str) -> None:
        keys = [DUE, DEAD, _pending_key(notification_id), _lease_key(notification_id)]
        self._die(keys=keys, args=[notification_id, now, error])

    def dead_letters(self, *, limit: int) -> list[DeadLetter]:
        deaths = self._redis.zrange(DEAD, 0, limit - 1, withscores=True)
        with self._redis.pipeline(transaction=False) as pipe:
            for raw_id, _ in deaths:
                pipe.hmget(_pending_key(raw_id.decode()), *DEAD_LETTER_FIELDS)
            found = pipe.execute()
        return [
            DeadLetter(
                raw_id.decode(), kind.decode(), float(received), died_at, int(tries), error.decode()
            )
            for (raw_id, died_at), (kind, received, tries, error) in zip(deaths, found, strict=True)
            if kind is not None  # its hash is gone: nothing of it is left to show
        ]

    def replay(self, ids: list[str] | None, *, now: float) -> int:
        return sum(
            self._replay(
                keys=[DEAD, DUE, _pending_key(notification_id)], args=[notification_id, now]
            )
            for notification_id in self._chosen(ids)
        )

    def purge(self, ids: list[str] | None) -> int:
        return sum(
            self._purge(keys=[DEAD, _pending_key(notification_id)], args=[notification_id])
            for notification_id in self._chosen(ids)
        )

    def release(self, notification_id: str, owner: str, *, now: float) -> None:
        self._leases.release(notification_id, owner, now=now)

    def handoffs(self, *, now: float) -> Handoffs:
        pending, dead = self._redis.zcard(DUE), self._redis.zcard(DEAD)
        oldest = self._oldest(keys=[DUE], args=[_pending_key("")])
        return Handoffs(pending, now - float(oldest) if oldest else 0.0, dead)

    def status(self, *, now: float) -> dict[str, Any]:
        handoffs = self.handoffs(now=now)
        last_error = self._redis.get(LAST_ERROR) if handoffs.pending else None
        return {
            "backend": "redis",
            "pending": handoffs.pending,
            "oldestAgeSeconds": round(handoffs.oldest_age_seconds, 1) if handoffs.pending else None,
            "lastError": last_error.decode() if last_error else None,
            "deadLetters": handoffs.dead_letters,
        }

    def _chosen(self, ids: list[str] | None) -> list[str]:
        """`ids`, or every dead letter's."""
        if ids is not None:
            return ids
        return [raw_id.decode() for raw_id in self._redis.zrange(DEAD, 0, -1)]

    def _not_due(self, notification_id: str) -> None:
        self._redis.zrem(DUE, notification_id)
