"""The webhook inbox in Redis, shared by every BFF instance that points at the same server."""

from typing import Any

from bff.fleet.connection import redis_client
from bff.redis_leases import RedisLeases
from bff.webhooks.inbox.store import RETENTION_SECONDS, Pending

PREFIX = "kard-bff:webhooks:"
DUE = PREFIX + "due"  # sorted set: pending notification ID -> when it is due
LAST_ERROR = PREFIX + "last-error"

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
        self._redis = redis_client(url)
        self._add = self._redis.register_script(ADD)
        self._leases = RedisLeases(
            self._redis, due=DUE, last_error=LAST_ERROR, item_key=_pending_key, lease_key=_lease_key
        )

    def add(
        self, notification_id: str, kind: str, body: bytes, *, now: float, pending: bool
    ) -> bool:
        keys = [_seen_key(notification_id), _pending_key(notification_id), DUE]
        args = [RETENTION_SECONDS, kind, body, now, "1" if pending else "0", notification_id]
        return bool(self._add(keys=keys, args=args))

    def lease(self, owner: str, *, now: float, seconds: float) -> Pending | None:
        # One handed on between the look-up and the lease leaves the due set.
        leased = self._leases.lease(owner, due_by=now, seconds=seconds, gone=self._not_due)
        if leased is None:
            return None
        notification_id, fields, attempts = leased
        return Pending(notification_id, fields[b"type"].decode(), fields[b"body"], attempts)

    def handled(self, notification_id: str, *, now: float) -> None:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(_pending_key(notification_id), _lease_key(notification_id))
            pipe.zrem(DUE, notification_id)
            pipe.execute()

    def retry_later(self, notification_id: str, *, at: float, error: str) -> None:
        self._leases.retry_later(notification_id, at=at, error=error)

    def release(self, notification_id: str, owner: str, *, now: float) -> None:
        self._leases.release(notification_id, owner, now=now)

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

    def _not_due(self, notification_id: str) -> None:
        self._redis.zrem(DUE, notification_id)
