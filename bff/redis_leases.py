"""Handing back a lease in Redis, the same for the outbox's chunks and the inbox's notifications.

An item is a hash, its due time a score in a sorted set, and its lease an expiring key holding the
owner's name. `RELEASE` (keys: lease, item, due set; arguments: owner, item ID, now) drops the
lease only if it is still the owner's, takes the leased attempt back off the item's `attempts`,
and makes the item due by now; an item already settled is left alone.
"""

RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'attempts', -1)
local due = redis.call('ZSCORE', KEYS[3], ARGV[2])
if due and tonumber(due) > tonumber(ARGV[3]) then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2]) end
return 1
"""
