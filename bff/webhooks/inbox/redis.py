"""The webhook inbox in Redis, shared by every BFF instance that points at the same server."""

from typing import Any

import redis

from bff.redis_leases import RELEASE
from bff.webhooks.inbox import RETENTION_SECONDS, Pending

PREFIX = "kard-bff:webhooks:"
DUE = PREFIX + "due"  # sorted set: pending notification ID -> when it is due
LAST_ERROR = PREFIX + "last-error"
LEASE_CANDIDATES = 20

# Remember the ID and queue the notification in one step, so a crash cannot leave an ID
# remembered whose notification was never stored.
ADD = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
if ARGV[5] == '1' then
    redis.call('HSET', KEYS[2], 'type', ARGV[2], 'body', ARGV[3], 'received_at', ARGV[4],
               'attempts', 0)
    redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
end
return 1
"""


def _seen_key(notification_id: str) -> str:
    return f"{PREFIX}seen:{notification_id}"


def _pending_key(notification_id: str) -> str:
    return f"{PREFIX}pending:{notification_id}"


def _lease_key(notification_id: str) -> str:
    return f"{PREFIX}lease:{notification_id}"


class RedisInbox:
    """Seen IDs as expiring keys, pending notifications as hashes, due times in a sorted set."""

    def __init__(self, url: str):
        self._redis = redis.Redis.from_url(url)
        self._add = self._redis.register_script(ADD)
        self._release = self._redis.register_script(RELEASE)

    def add(
        self, notification_id: str, kind: str, body: bytes, *, now: float, pending: bool
    ) -> bool:
        keys = [_seen_key(notification_id), _pending_key(notification_id), DUE]
        args = [RETENTION_SECONDS, kind, body, now, "1" if pending else "0", notification_id]
        return bool(self._add(keys=keys, args=args))

    def lease(self, owner: str, *, now: float, seconds: float) -> Pending | None:
        for raw_id in self._redis.zrangebyscore(DUE, "-inf", now, 0, LEASE_CANDIDATES):
            notification_id = raw_id.decode()
            lease = _lease_key(notification_id)
            if not self._redis.set(lease, owner, nx=True, px=int(seconds * 1000)):
                continue  # another worker holds it
            fields = self._redis.hgetall(_pending_key(notification_id))
            if not fields:  # handed on between the look-up and the lease
                self._redis.zrem(DUE, notification_id)
                continue
            attempts = self._redis.hincrby(_pending_key(notification_id), "attempts", 1)
            return Pending(notification_id, fields[b"type"].decode(), fields[b"body"], attempts)
        return None

    def handled(self, notification_id: str, *, now: float) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(_pending_key(notification_id), _lease_key(notification_id))
            pipe.zrem(DUE, notification_id)
            pipe.execute()

    def retry_later(self, notification_id: str, *, at: float, error: str) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(DUE, {notification_id: at})
            pipe.set(LAST_ERROR, error)
            pipe.delete(_lease_key(notification_id))
            pipe.execute()

    def release(self, notification_id: str, owner: str, *, now: float) -> None:
        keys = [_lease_key(notification_id), _pending_key(notification_id), DUE]
        self._release(keys=keys, args=[owner, notification_id, now])

    def status(self, *, now: float) -> dict[str, Any]:
        pending = self._redis.zcard(DUE)
        oldest = None
        for raw_id in self._redis.zrange(DUE, 0, -1):
            received = self._redis.hget(_pending_key(raw_id.decode()), "received_at")
            if received is not None:
                oldest = min(oldest or float("inf"), float(received))
        last_error = self._redis.get(LAST_ERROR) if pending else None
        return {
            "backend": "redis",
            "pending": pending,
            "oldestAgeSeconds": round(now - oldest, 1) if oldest is not None else None,
            "lastError": last_error.decode() if last_error else None,
        }
