"""The durable attribution outbox: chunks Kard could not take yet, kept until it does.

SQLite (WAL) under `BFF_STATE_DIR` by default, Redis with `REDIS_URL`. Any number of processes
may share one outbox: a worker leases a chunk before sending it, so no two send the same chunk at
the same time. A process that stops hands back the leases it holds; one that died leaves them to
expire, and the chunk is sent again. Delivery is at least once.

The outbox is bounded (`Bounds`): the BFF refuses a batch that might not fit before sending any
of it, so a put never has to fail and nothing accepted is dropped. Rejected chunks, kept aside for
inspection, are bounded too: only the newest are kept.
"""

from pathlib import Path

from bff.attributions.outbox.redis import RedisOutbox
from bff.attributions.outbox.sqlite import SqliteOutbox
from bff.attributions.outbox.store import Bounds, Outbox


def open_outbox(state_dir: Path, redis_url: str | None, bounds: Bounds) -> Outbox:
    """The configured outbox: Redis when `REDIS_URL` is set, else SQLite in the state folder."""
    if redis_url:
        return RedisOutbox(redis_url, bounds)
    return SqliteOutbox(state_dir / "outbox.sqlite3", bounds)
