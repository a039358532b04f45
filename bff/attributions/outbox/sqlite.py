"""The outbox in SQLite (WAL), shared safely by the processes of one machine.

A chunk is queued while it has no time of death, a dead letter once it has one and until it is
replayed (queued again) or purged (deleted, its events off the counts).
"""

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bff.attributions.outbox.store import (
    LEASE_SECONDS,
    Backlog,
    Bounds,
    Chunk,
    DeadLetter,
    bounds_status,
)
from bff.sqlite_files import CHOSEN, connect, json_ids

QUEUED = "dead_at IS NULL"
DEAD = "dead_at IS NOT NULL"

CREATE_CHUNKS = """
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    events TEXT NOT NULL,
    event_count INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    dead_at REAL
)
"""
# Files written before the outbox was bounded have no event counts yet, and files written before
# dead letters no time of death.
ADD_COLUMNS = {
    "event_count": (
        "ALTER TABLE chunks ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0",
        "UPDATE chunks SET event_count = json_array_length(events)",
    ),
    "dead_at": ("ALTER TABLE chunks ADD COLUMN dead_at REAL",),
}
# `totals` keeps the number of events held, dead letters' included, so the bound is checked
# without a scan; the triggers update it in the statement that adds or removes a chunk (deleting
# twice counts once). The due and created indexes hold the queued chunks only, so neither a lease
# nor a scrape walks past dead letters; earlier files had them with every chunk in.
SCHEMA = (
    "DROP INDEX IF EXISTS chunks_due",
    "DROP INDEX IF EXISTS chunks_created",
    f"CREATE INDEX IF NOT EXISTS chunks_queued_due ON chunks (due_at) WHERE {QUEUED}",
    f"CREATE INDEX IF NOT EXISTS chunks_queued_created ON chunks (created_at) WHERE {QUEUED}",
    f"CREATE INDEX IF NOT EXISTS chunks_dead ON chunks (dead_at) WHERE {DEAD}",
    "CREATE INDEX IF NOT EXISTS chunks_user ON chunks (user_id, event_count)",
    """CREATE TABLE IF NOT EXISTS rejected (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        events TEXT NOT NULL,
        rejected_at REAL NOT NULL,
        error TEXT
    )""",
    "CREATE TABLE IF NOT EXISTS totals (events INTEGER NOT NULL)",
    "INSERT INTO totals (events) SELECT COALESCE(SUM(event_count), 0) FROM chunks"
    " WHERE NOT EXISTS (SELECT 1 FROM totals)",
    "CREATE TRIGGER IF NOT EXISTS chunk_added AFTER INSERT ON chunks"
    " BEGIN UPDATE totals SET events = events + NEW.event_count; END",
    "CREATE TRIGGER IF NOT EXISTS chunk_removed AFTER DELETE ON chunks"
    " BEGIN UPDATE totals SET events = events - OLD.event_count; END",
)

LEASE = f"""
UPDATE chunks SET lease_owner = :owner, lease_until = :until, attempts = attempts + 1
WHERE id = (
    SELECT id FROM chunks WHERE {QUEUED} AND due_at <= :due_by AND lease_until < :now
    ORDER BY due_at LIMIT 1
)
RETURNING id, user_id, events, created_at, attempts
"""
RELEASE = f"""
UPDATE chunks SET lease_owner = NULL, lease_until = 0, attempts = attempts - 1,
    due_at = MIN(due_at, :now)
WHERE id = :id AND lease_owner = :owner AND {QUEUED}
"""
DIE = f"""
UPDATE chunks SET dead_at = :now, last_error = :error, lease_owner = NULL, lease_until = 0
WHERE id = :id AND {QUEUED}
"""
DEAD_LETTERS = f"""
SELECT id, event_count, created_at, dead_at, attempts, last_error FROM chunks
WHERE {DEAD} ORDER BY dead_at LIMIT :limit
"""
REPLAY = f"UPDATE chunks SET dead_at = NULL, attempts = 0, due_at = :now WHERE {DEAD} AND {CHOSEN}"
PURGE = f"DELETE FROM chunks WHERE {DEAD} AND {CHOSEN}"
# What the queued chunks hold: the dead letters' events taken off the total.
QUEUED_EVENTS = f"""
(SELECT events FROM totals) - (SELECT COALESCE(SUM(event_count), 0) FROM chunks WHERE {DEAD})
"""
KEEP_NEWEST_REJECTED = """
DELETE FROM rejected
WHERE rowid IN (SELECT rowid FROM rejected ORDER BY rowid DESC LIMIT -1 OFFSET ?)
"""


def _set_up(db: sqlite3.Connection) -> None:
    """Create or migrate the tables, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    with db:  # commits, or rolls back on an error
        db.execute(CREATE_CHUNKS)
        columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
        for column, statements in ADD_COLUMNS.items():
            if column not in columns:
                for statement in statements:
                    db.execute(statement)
        for statement in SCHEMA:
            db.execute(statement)


class SqliteOutbox:
    """Chunks in one SQLite file; each statement is its own transaction unless said otherwise."""

    def __init__(self, path: Path, bounds: Bounds):
        self.bounds = bounds
        self._db = connect(path, _set_up)
        self._lock = threading.Lock()  # one connection, shared by the threads of a process

    def put(self, user_id: str, events: list[dict[str, Any]], *, now: float, error: str) -> str:
        chunk_id = uuid.uuid4().hex
        self._execute(
            "INSERT INTO chunks (id, user_id, events, event_count, created_at, due_at, last_error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (chunk_id, user_id, json.dumps(events), len(events), now, now, error),
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

    def dead(self, chunk_id: str, *, now: float, error: str) -> None:
        self._execute(DIE, {"id": chunk_id, "now": now, "error": error})

    def dead_letters(self, *, limit: int) -> list[DeadLetter]:
        return [DeadLetter(*row) for row in self._execute(DEAD_LETTERS, {"limit": limit})]

    def replay(self, ids: list[str] | None, *, now: float) -> int:
        return self._changed(REPLAY, {"ids": json_ids(ids), "now": now})

    def purge(self, ids: list[str] | None) -> int:
        return self._changed(PURGE, {"ids": json_ids(ids)})

    def release(self, chunk_id: str, owner: str, *, now: float) -> None:
        self._execute(RELEASE, {"id": chunk_id, "owner": owner, "now": now})

    def reject(self, chunk_id: str, *, now: float, error: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO rejected (id, user_id, events, rejected_at, error)"
                " SELECT id, user_id, events, ?, ? FROM chunks WHERE id = ?",
                (now, error, chunk_id),
            )
            db.execute("DELETE FROM chunks WHERE id = ?", (chunk_id,))
            db.execute(KEEP_NEWEST_REJECTED, (self.bounds.rejected_chunks,))

    def queued_events(self, user_id: str) -> tuple[int, int]:
        ((user_events, events),) = self._execute(
            "SELECT (SELECT COALESCE(SUM(event_count), 0) FROM chunks WHERE user_id = ?),"
            " (SELECT events FROM totals)",
            (user_id,),
        )
        return user_events, events

    def next_due(self) -> float | None:
        ((due,),) = self._execute(f"SELECT MIN(due_at) FROM chunks WHERE {QUEUED}")
        return due

    def backlog(self, *, now: float) -> Backlog:
        ((events, oldest, dead),) = self._execute(
            f"SELECT {QUEUED_EVENTS}, (SELECT MIN(created_at) FROM chunks WHERE {QUEUED}),"
            f" (SELECT COUNT(*) FROM chunks WHERE {DEAD})"
        )
        return Backlog(events, now - oldest if oldest is not None else 0.0, dead)

    def status(self, *, now: float) -> dict[str, Any]:
        ((depth, oldest, attempts, events),) = self._execute(
            f"SELECT COUNT(*), MIN(created_at), COALESCE(SUM(attempts), 0), {QUEUED_EVENTS}"
            f" FROM chunks WHERE {QUEUED}"
        )
        last_error = self._execute(
            f"SELECT last_error FROM chunks WHERE {QUEUED} ORDER BY due_at DESC LIMIT 1"
        )
        ((rejected, dead),) = self._execute(
            f"SELECT (SELECT COUNT(*) FROM rejected), (SELECT COUNT(*) FROM chunks WHERE {DEAD})"
        )
        return {
            "backend": "sqlite",
            "depth": depth,
            "events": events,
            "oldestAgeSeconds": round(now - oldest, 1) if oldest is not None else None,
            "attempts": attempts,
            "lastError": last_error[0][0] if last_error else None,
            "rejectedChunks": rejected,
            "deadLetters": dead,
            **bounds_status(self.bounds),
        }

    def _execute(self, sql: str, parameters: Any = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def _changed(self, sql: str, parameters: Any) -> int:
        """Run one change; return how many rows it changed."""
        with self._lock:
            return self._db.execute(sql, parameters).rowcount

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run several statements as one write transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
