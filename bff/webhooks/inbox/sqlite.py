"""The webhook inbox in SQLite (WAL) under `BFF_STATE_DIR`, shared by the processes of one host.

A notification is pending while it is neither handled nor dead, a dead letter once it died and
until it is replayed (pending again) or purged (its body dropped, its ID kept as seen, pruned with
the handled ones).
"""

import sqlite3
import threading
from pathlib import Path
from typing import Any

from bff.sqlite_files import CHOSEN, connect, json_ids
from bff.webhooks.inbox.store import (
    PRUNE_EVERY_SECONDS,
    RETENTION_SECONDS,
    DeadLetter,
    Handoffs,
    Pending,
)

PENDING = "handled_at IS NULL AND dead_at IS NULL"
DEAD = "handled_at IS NULL AND dead_at IS NOT NULL"

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL,
    handled_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    dead_at REAL,
    traceparent TEXT
)
"""
# Files written before leases were handed back name no lease owner yet, files written before
# dead letters have no time of death, and files written before tracing no trace.
ADD_COLUMNS = {
    "lease_owner": "ALTER TABLE notifications ADD COLUMN lease_owner TEXT",
    "dead_at": "ALTER TABLE notifications ADD COLUMN dead_at REAL",
    "traceparent": "ALTER TABLE notifications ADD COLUMN traceparent TEXT",
}
# The lease's index holds the pending notifications only, so no lease walks past dead letters;
# they have one of their own. Earlier files had the lease's index with the dead ones in it.
INDEXES = f"""
DROP INDEX IF EXISTS notifications_pending;
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (due_at) WHERE {PENDING};
CREATE INDEX IF NOT EXISTS notifications_dead ON notifications (dead_at) WHERE {DEAD};
CREATE INDEX IF NOT EXISTS notifications_received ON notifications (received_at);
"""

LEASE = f"""
UPDATE notifications SET lease_owner = :owner, lease_until = :until, attempts = attempts + 1
WHERE id = (
    SELECT id FROM notifications
    WHERE {PENDING} AND due_at <= :now AND lease_until < :now
    ORDER BY due_at LIMIT 1
)
RETURNING id, type, body, received_at, attempts, traceparent
"""
RELEASE = f"""
UPDATE notifications SET lease_owner = NULL, lease_until = 0, attempts = attempts - 1,
    due_at = MIN(due_at, :now)
WHERE id = :id AND lease_owner = :owner AND {PENDING}
"""
DIE = f"""
UPDATE notifications SET dead_at = :now, last_error = :error, lease_owner = NULL, lease_until = 0
WHERE id = :id AND {PENDING}
"""
DEAD_LETTERS = f"""
SELECT id, type, received_at, dead_at, attempts, last_error FROM notifications
WHERE {DEAD} ORDER BY dead_at LIMIT :limit
"""
REPLAY = f"""
UPDATE notifications SET dead_at = NULL, attempts = 0, due_at = :now WHERE {DEAD} AND {CHOSEN}
"""
# Handled at its death, as far as the pruning goes: the ID is remembered as long as any other.
PURGE = f"UPDATE notifications SET handled_at = dead_at, body = x'' WHERE {DEAD} AND {CHOSEN}"


def _set_up(db: sqlite3.Connection) -> None:
    """Create or migrate the table, then its indexes (which name the newer columns)."""
    db.execute(CREATE_TABLE)
    columns = {row[1] for row in db.execute("PRAGMA table_info(notifications)")}
    for column, add in ADD_COLUMNS.items():
        if column not in columns:
            db.execute(add)
    db.executescript(INDEXES)


class SqliteInbox:
    """Notifications in one SQLite file; each statement is its own transaction."""

    def __init__(self, path: Path):
        self._db = connect(path, _set_up)
        self._lock = threading.Lock()  # one connection, shared by the threads of a process
        self._pruned_at = float("-inf")

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
        with self._lock:
            if now - self._pruned_at >= PRUNE_EVERY_SECONDS:
                self._db.execute(
                    "DELETE FROM notifications WHERE received_at < ? AND handled_at IS NOT NULL",
                    (now - RETENTION_SECONDS,),
                )
                self._pruned_at = now
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO notifications (id, type, body, received_at, handled_at,"
                " due_at, traceparent) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (notification_id, kind, body, now, None if pending else now, now, traceparent),
            )
            return cursor.rowcount == 1

    def lease(self, owner: str, *, now: float, seconds: float) -> Pending | None:
        rows = self._execute(LEASE, {"owner": owner, "until": now + seconds, "now": now})
        return Pending(*rows[0]) if rows else None

    def handled(self, notification_id: str, *, now: float) -> None:
        self._execute(
            "UPDATE notifications SET handled_at = ?, last_error = NULL WHERE id = ?",
            (now, notification_id),
        )

    def retry_later(self, notification_id: str, *, at: float, error: str) -> None:
        self._execute(
            "UPDATE notifications SET due_at = ?, lease_owner = NULL, lease_until = 0,"
            " last_error = ? WHERE id = ?",
            (at, error, notification_id),
        )

    def dead(self, notification_id: str, *, now: float, error: str) -> None:
        self._execute(DIE, {"id": notification_id, "now": now, "error": error})

    def dead_letters(self, *, limit: int) -> list[DeadLetter]:
        return [DeadLetter(*row) for row in self._execute(DEAD_LETTERS, {"limit": limit})]

    def replay(self, ids: list[str] | None, *, now: float) -> int:
        return self._changed(REPLAY, {"ids": json_ids(ids), "now": now})

    def purge(self, ids: list[str] | None) -> int:
        return self._changed(PURGE, {"ids": json_ids(ids)})

    def release(self, notification_id: str, owner: str, *, now: float) -> None:
        self._execute(RELEASE, {"id": notification_id, "owner": owner, "now": now})

    def handoffs(self, *, now: float) -> Handoffs:
        ((pending, oldest, dead),) = self._execute(
            f"SELECT COUNT(*), MIN(received_at), (SELECT COUNT(*) FROM notifications WHERE {DEAD})"
            f" FROM notifications WHERE {PENDING}"
        )
        return Handoffs(pending, now - oldest if oldest is not None else 0.0, dead)

    def status(self, *, now: float) -> dict[str, Any]:
        ((pending, oldest),) = self._execute(
            f"SELECT COUNT(*), MIN(received_at) FROM notifications WHERE {PENDING}"
        )
        last_error = self._execute(
            f"SELECT last_error FROM notifications WHERE {PENDING} ORDER BY due_at DESC LIMIT 1"
        )
        ((dead,),) = self._execute(f"SELECT COUNT(*) FROM notifications WHERE {DEAD}")
        return {
            "backend": "sqlite",
            "pending": pending,
            "oldestAgeSeconds": round(now - oldest, 1) if oldest is not None else None,
            "lastError": last_error[0][0] if last_error else None,
            "deadLetters": dead,
        }

    def _execute(self, sql: str, parameters: Any = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def _changed(self, sql: str, parameters: Any) -> int:
        """Run one change; return how many rows it changed."""
        with self._lock:
            return self._db.execute(sql, parameters).rowcount
