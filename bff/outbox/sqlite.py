"""The outbox in SQLite (WAL), shared safely by the processes of one machine."""

import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from bff.outbox import LEASE_SECONDS, Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS chunks_due ON chunks (due_at);
CREATE TABLE IF NOT EXISTS rejected (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    events TEXT NOT NULL,
    rejected_at REAL NOT NULL,
    error TEXT
);
"""

LEASE = """
UPDATE chunks SET lease_owner = :owner, lease_until = :until, attempts = attempts + 1
WHERE id = (
    SELECT id FROM chunks WHERE due_at <= :due_by AND lease_until < :now ORDER BY due_at LIMIT 1
)
RETURNING id, user_id, events, created_at, attempts
"""


class SqliteOutbox:
    """Chunks in one SQLite file; each statement is its own transaction."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()  # one connection, shared by the threads of a process
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a 202 means the chunk is on disk
            self._db.executescript(SCHEMA)

    def put(self, user_id: str, events: list[dict[str, Any]], *, now: float, error: str) -> str:
        chunk_id = uuid.uuid4().hex
        self._execute(
            "INSERT INTO chunks (id, user_id, events, created_at, due_at, last_error)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (chunk_id, user_id, json.dumps(events), now, now, error),
        )
        return chunk_id

    def lease(
        self, owner: str, *, now: float, due_by: float, seconds: float = LEASE_SECONDS
    ) -> Chunk | None:
        parameters = {"owner": owner, "until": now + seconds, "now": now, "due_by": due_by}
        rows = self._execute(LEASE, parameters)
        if not rows:
            return None
        chunk_id, user_id, events, created_at, attempts = rows[0]
        return Chunk(chunk_id, user_id, json.loads(events), created_at, attempts)

    def delivered(self, chunk_id: str) -> None:
        self._execute("DELETE FROM chunks WHERE id = ?", (chunk_id,))

    def retry_later(self, chunk_id: str, *, at: float, error: str) -> None:
        self._execute(
            "UPDATE chunks SET due_at = ?, lease_owner = NULL, lease_until = 0, last_error = ?"
            " WHERE id = ?",
            (at, error, chunk_id),
        )

    def reject(self, chunk_id: str, *, now: float, error: str) -> None:
        self._execute(
            "INSERT INTO rejected (id, user_id, events, rejected_at, error)"
            " SELECT id, user_id, events, ?, ? FROM chunks WHERE id = ?",
            (now, error, chunk_id),
        )
        self.delivered(chunk_id)

    def status(self, *, now: float) -> dict[str, Any]:
        ((depth, oldest, attempts, events),) = self._execute(
            "SELECT COUNT(*), MIN(created_at), COALESCE(SUM(attempts), 0),"
            " COALESCE(SUM(json_array_length(events)), 0) FROM chunks"
        )
        last_error = self._execute("SELECT last_error FROM chunks ORDER BY due_at DESC LIMIT 1")
        ((rejected,),) = self._execute("SELECT COUNT(*) FROM rejected")
        return {
            "backend": "sqlite",
            "depth": depth,
            "events": events,
            "oldestAgeSeconds": round(now - oldest, 1) if oldest is not None else None,
            "attempts": attempts,
            "lastError": last_error[0][0] if last_error else None,
            "rejectedChunks": rejected,
        }

    def _execute(self, sql: str, parameters: Any = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()
