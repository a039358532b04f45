"""The durable webhook inbox: every notification once by `data.id`, kept until it is handed on,
or, once the dispatcher gives up on it, kept as a dead letter until it is replayed or purged.

SQLite (WAL) in `BFF_STATE_DIR` by default, Redis with `REDIS_URL`; several processes may share
one. A worker leases a pending notification before handing it on, so no two hand on the same one
at once; a process that stops hands back the leases it holds, and one a dead process leaves
behind runs out, and the notification is tried again.
A notification's ID is remembered for `RETENTION_SECONDS`, far longer than Kard retries for.
"""

from pathlib import Path

from bff.webhooks.inbox.redis import RedisInbox
from bff.webhooks.inbox.sqlite import SqliteInbox
from bff.webhooks.inbox.store import Inbox


def open_inbox(state_dir: Path, redis_url: str | None) -> Inbox:
    """The configured inbox: Redis when `REDIS_URL` is set, else SQLite in the state folder."""
    if redis_url:
        return RedisInbox(redis_url)
    return SqliteInbox(state_dir / "webhooks.sqlite3")
