"""The historical transactions Kard accepted, per user, kept on disk so millions of them fit."""

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS historical (
    user_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (user_id, transaction_id)
)
"""


class HistoricalStore:
    """Thread-safe store of accepted records; a transaction sent again is a successful no-op.

    The database opens on first use, in the process that uses it (a server may fork after the
    simulator is built), in a file of that process's own.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def add(
        self, rows: Iterable[tuple[str, str, str]], check: Callable[[], None] | None = None
    ) -> int:
        """Store (user ID, transaction ID, record JSON) rows; return how many were new.

        `check` runs under the store's lock first and may raise to refuse the rows (so a
        `clear` cannot slip between the caller's last look and the write).
        """
        with self._lock:
            if check is not None:
                check()
            db = self._open()
            before = db.total_changes
            db.execute("BEGIN")
            db.executemany("INSERT OR IGNORE INTO historical VALUES (?, ?, ?)", rows)
            db.execute("COMMIT")
            return db.total_changes - before

    def records(self, user_id: str) -> list[dict[str, Any]]:
        """Return the user's records in the order they were first accepted."""
        with self._lock:
            if self._db is None:
                return []
            rows = self._db.execute(
                "SELECT record FROM historical WHERE user_id = ? ORDER BY rowid", (user_id,)
            ).fetchall()
        return [json.loads(record) for (record,) in rows]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            if self._db is not None:
                self._db.execute("DELETE FROM historical")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            path = self._directory / f"historical-{os.getpid()}.sqlite3"
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            # Scratch data of one process: durability buys nothing here.
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute(_SCHEMA)
        return self._db
