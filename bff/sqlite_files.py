"""Opening a SQLite state file that any number of processes may open at the same moment."""

import fcntl
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

BUSY_TIMEOUT_SECONDS = 30
# The rows whose `id` is one of `:ids`, bound as `json_ids(ids)`: None chooses every row.
CHOSEN = "(:ids IS NULL OR id IN (SELECT value FROM json_each(:ids)))"


def connect(path: Path, set_up: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """Open `path` in WAL mode with every commit on disk, running `set_up` (the schema) on it.

    Workers started together would race to switch a new file to WAL: SQLite answers the loser
    "database is locked" at once, without waiting its busy timeout. So the switch and the schema
    run under an exclusive lock on a sibling `.lock` file, one opening process at a time.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f"{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        db = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # an accepting answer means it is on disk
        set_up(db)
    return db


def json_ids(ids: list[str] | None) -> str | None:
    """`ids` as `CHOSEN` takes them."""
    return None if ids is None else json.dumps(ids)
