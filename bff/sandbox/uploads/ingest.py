"""Process an uploaded transaction file as Kard does: line by line, in constant memory.

Each valid historical record is stored (a transaction sent again is a no-op); each invalid line
becomes one error of the results document, whose detail quotes the line.
"""

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from bff.kard.schema import Problem
from bff.kard.transactions import record_errors
from bff.kard.vocabulary import STATES

HISTORICAL_FILE = "historicalTransactionsFile"
INCOMING_FILE = "incomingTransactionsFile"
FILE_TYPES = (HISTORICAL_FILE, INCOMING_FILE)
SANDBOX_CURRENCY = "USD"
MAX_LINE_BYTES = 1 << 20  # a longer line is reported (quoted in part), not held in memory
_QUOTED_BYTES = 1000
_BATCH = 5000
_GZIP_MAGIC = b"\x1f\x8b"

Store = Callable[[list[tuple[str, str, str]]], int]  # rows in, how many were new out


class FileFailed(Exception):
    """The file as a whole could not be processed (a corrupt gzip stream, say)."""


@dataclass
class Outcome:
    """What processing a file found."""

    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    errors: int = 0


def kard_problems(record: Any, flagged: list[Problem], now: datetime) -> list[Problem]:
    """Return what Kard rejects in a record beyond its schema: a currency other than the
    sandbox's, an unknown merchant state, an authorization in the future. Fields already
    `flagged` by the schema check are not checked again."""
    attributes = record.get("attributes") if isinstance(record, dict) else None
    if not isinstance(attributes, dict):
        return []
    seen = [pointer for pointer, _ in flagged]

    def fresh(pointer: str) -> bool:
        return not seen or not any(pointer == p or pointer.startswith(p + "/") for p in seen)

    problems: list[Problem] = []
    currency = attributes.get("currency", SANDBOX_CURRENCY)  # a record without one is not ours
    if fresh("/attributes/currency") and currency != SANDBOX_CURRENCY:
        problems.append(
            ("/attributes/currency", "must be USD, the only currency the sandbox supports")
        )
    merchant = attributes.get("merchant")
    state = merchant.get("addrState") if isinstance(merchant, dict) else None
    if state is not None and fresh("/attributes/merchant/addrState") and state not in STATES:
        problems.append(("/attributes/merchant/addrState", "must be a US state code, like PA"))
    authorized = attributes.get("authorizationDate")
    if (
        authorized is not None
        and fresh("/attributes/authorizationDate")
        and datetime.fromisoformat(authorized) > now
    ):
        problems.append(("/attributes/authorizationDate", "must not be in the future"))
    return problems


def ingest(
    source: Path,
    file_type: str,
    results: IO[bytes],
    data: dict[str, Any],
    store: Store,
    now: datetime,
    outcome: Outcome,
) -> None:
    """Process `source` (plain or gzip JSONL), storing valid records through `store`, writing
    the results document (the `data` resource and the errors) to `results`, and counting what
    it found in `outcome` as it goes."""
    batch: list[tuple[str, str, str]] = []

    def flush() -> None:
        new = store(batch)
        outcome.accepted += new
        outcome.duplicates += len(batch) - new
        batch.clear()

    results.write(b'{"data":' + orjson.dumps(data) + b',"errors":[')
    for raw in _lines(source):
        text = raw.strip()
        if not text:
            continue
        outcome.lines += 1
        error = _check_line(text, file_type, now, batch)
        if error is not None:
            results.write((b"," if outcome.errors else b"") + orjson.dumps(error))
            outcome.errors += 1
        if len(batch) >= _BATCH:
            flush()
    if batch:
        flush()
    results.write(b"]}")


def _check_line(
    text: bytes, file_type: str, now: datetime, batch: list[tuple[str, str, str]]
) -> dict[str, Any] | None:
    """Check one line; queue a valid historical record, or return the line's error object."""
    if len(text) > MAX_LINE_BYTES:
        return _error([("", f"line is longer than {MAX_LINE_BYTES} bytes")], text, None)
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _error([("", "is not valid JSON")], text, None)
    if file_type == HISTORICAL_FILE:
        problems = record_errors(record)
        problems += kard_problems(record, problems, now)
    else:
        problems = [] if isinstance(record, dict) else [("", "must be a JSON object")]
    record_id = record.get("id") if isinstance(record, dict) else None
    if problems:
        return _error(problems, text, record_id if isinstance(record_id, str) else None)
    if file_type == HISTORICAL_FILE:
        attributes = record["attributes"]
        batch.append((attributes["userId"], attributes["transactionId"], text.decode()))
    return None


def _error(problems: list[Problem], text: bytes, record_id: str | None) -> dict[str, Any]:
    """Build the results file's error object for a line."""
    quoted = text if len(text) <= MAX_LINE_BYTES else text[:_QUOTED_BYTES] + b"..."
    said = "; ".join(f"{_dotted(pointer)} {message}" for pointer, message in problems)
    detail = f"Invalid request: {said} | {quoted.decode('utf-8', 'replace')}"
    error: dict[str, Any] = {"status": "400", "title": "Invalid Request", "detail": detail}
    if record_id is not None:
        error["id"] = record_id
    return error


def _dotted(pointer: str) -> str:
    """Write a JSON pointer as Kard's results do: /attributes/currency is .attributes.currency."""
    return pointer.replace("/", ".") or "."


def _lines(source: Path) -> Iterator[bytes]:
    """Yield the lines of a plain or gzip file; an over-long line is cut to MAX_LINE_BYTES + 1."""
    with source.open("rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream: IO[bytes] = io.BufferedReader(gzip.GzipFile(fileobj=raw)) if gzipped else raw
        try:
            while line := stream.readline(MAX_LINE_BYTES + 1):
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    _skip_rest_of_line(stream)
                yield line
        except (OSError, EOFError, zlib.error) as error:
            raise FileFailed(f"the gzip stream is corrupt: {error}") from error


def _skip_rest_of_line(stream: IO[bytes]) -> None:
    while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
        pass
