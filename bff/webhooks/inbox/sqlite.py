"""The webhook inbox in SQLite (WAL) under `BFF_STATE_DIR`, shared by the processes of one host."""

import sqlite3
import threading
from pathlib import Path
from typing import Any

from bff.sqlite_files import connect
from bff.webhooks.inbox.store import PRUNE_EVERY_SECONDS, RETENTION_SECONDS, Pending

SCHEMA = """
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
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS notifications_pending ON notifications (due_at) WHERE handled_at IS NULL;
CREATE INDEX IF NOT EXISTS notifications_received ON notifications (received_at);
"""

# Files written before leases were handed back name no lease owner yet.
ADD_LEASE_OWNER = "ALTER TABLE notifications ADD COLUMN lease_owner TEXT"

LEASE = """
UPDATE notifications SET lease_owner = :owner, lease_until = :until, attempts = attempts + 1
WHERE id = (
    SELECT id FROM notifications
    WHERE handled_at IS NULL AND due_at <= :now AND lease_until < :now
    ORDER BY due_at LIMIT 1
)
RETURNING id, type, body, attempts
"""
RELEASE = """
UPDATE notifications SET lease_owner = NULL, lease_until = 0, attempts = attempts - 1,
    due_at = MIN(due_at, :now)
WHERE id = :id AND lease_owner = :owner AND handled_at IS NULL
"""


def _set_up(db: sqlite3.Connection) -> None:
    """Create or migrate the table."""
    db.executescript(SCHEMA)
    if "lease_owner" not in {row[1] for row in db.execute("PRAGMA table_info(notifications)")}:
        db.execute(ADD_LEASE_OWNER)


class SqliteInbox:
    """Notifications in one SQLite file; each statement is its own transaction."""

    def __init__(self, path: Path):
        self._db = connect(path, _set_up)
        self._lock = threading.Lock()  # one connection, shared by the threads of a process
        self._pruned_at = float("-inf")

    def add(
        self, notification_id: str, kind: str, body: bytes, *, now: float, pending: bool
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
                " due_at) VALUES (?, ?, ?, ?, ?, ?)",
                (notification_id, kind, body, now, None if pending else now, now),
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

    def release(self, notification_id: str, owner: str, *, now: float) -> None:
        self._execute(RELEASE, {"id": notification_id, "owner": owner, "now": now})

    def status(self, *, now: float) -> dict[str, Any]:
        ((pending, oldest),) = self._execute(
            "SELECT COUNT(*), MIN(received_at) FROM notifications WHERE handled_at IS NULL"
        )
        last_error = self._execute(
            "SELECT last_error FROM notifications WHERE handled_at IS NULL"
            " ORDER BY due_at DESC LIMIT 1"
        )
        return {
            "backend": "sqlite",
            "pending": pending,
            "oldestAgeSeconds": round(now - oldest, 1) if oldest is not None else None,
            "lastError": last_error[0][0] if last_error else None,
        }

    def _execute(self, sql: str, parameters: Any = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()
