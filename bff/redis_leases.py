"""Leases in Redis, the same for the outbox's chunks and the inbox's notifications.

An item is a hash, its due time a score in a sorted set, and its lease an expiring key holding the
owner's name (SET NX PX). `RELEASE` (keys: lease, item, due set; arguments: owner, item ID, now)
drops the lease only if it is still the owner's, takes the leased attempt back off the item's
`attempts`, and makes the item due by now; an item already settled is left alone.
"""

from collections.abc import Callable
from typing import Any

import redis

LEASE_CANDIDATES = 20  # due items looked at per lease: past them, another worker is ahead

RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'attempts', -1)
local due = redis.call('ZSCORE', KEYS[3], ARGV[2])
if due and tonumber(due) > tonumber(ARGV[3]) then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2]) end
return 1
"""


class RedisLeases:
    """Lease, put off and hand back the items of one store: its due set, its last error, and
    the keys of an item's hash and of its lease. Works with and without `decode_responses`."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        due: str,
        last_error: str,
        item_key: Callable[[str], str],
        lease_key: Callable[[str], str],
    ):
        self._redis = client
        self._due = due
        self._last_error = last_error
        self._item_key = item_key
        self._lease_key = lease_key
        self._release = client.register_script(RELEASE)

    def lease(
        self, owner: str, *, due_by: float, seconds: float, gone: Callable[[str], Any]
    ) -> tuple[str, dict, int] | None:
        """Lease the most overdue item due by `due_by` that no one holds: its ID, its hash and
        its attempts (this one counted); None when there is none. `gone(item_id)` cleans up
        after an item settled between the look-up and the lease."""
        for raw_id in self._redis.zrangebyscore(self._due, "-inf", due_by, 0, LEASE_CANDIDATES):
            item_id = raw_id.decode() if isinstance(raw_id, bytes) else raw_id
            if not self._redis.set(
                self._lease_key(item_id), owner, nx=True, px=int(seconds * 1000)
            ):
                continue  # another worker holds it
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(self._item_key(item_id))
                pipe.zscore(self._due, item_id)
                fields, due = pipe.execute()
            if not fields:
                gone(item_id)
                continue
            if due is None:  # it died (a dead letter) between the look-up and the lease
                self._redis.delete(self._lease_key(item_id))
                continue
            return item_id, fields, self._redis.hincrby(self._item_key(item_id), "attempts", 1)
        return None

    def retry_later(self, item_id: str, *, at: float, error: str) -> None:
        """Drop the lease on an item that failed; it is due again at `at`."""
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._due, {item_id: at})
            pipe.set(self._last_error, error)
            pipe.delete(self._lease_key(item_id))
            pipe.execute()

    def release(self, item_id: str, owner: str, *, now: float) -> None:
        """Hand back an item `owner` leased and did not settle (see `RELEASE`)."""
        keys = [self._lease_key(item_id), self._item_key(item_id), self._due]
        self._release(keys=keys, args=[owner, item_id, now])
