"""Read a JSONL file line by line, check each record, and stream the valid lines to a sink.

One pass, constant memory: a line is read, parsed with orjson, checked, and written (as its
original bytes) to a gzip or plain file, in ~1 MiB writes. Only the first problems are kept
(with a count), so a file of a million bad lines still fits in memory.
"""

import gzip
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

Check = Callable[[Any], list[tuple[str, str]]]
Progress = Callable[[int], None]

MAX_LINE_BYTES = 1 << 20  # a Kard record is about 1 KB; a longer line is not one of them
KEPT_PROBLEMS = 20  # per file: enough to see the pattern
GZIP_LEVEL = 6  # zlib's default: within a few % of level 9's size, several times faster
_WRITE_BYTES = 1 << 20


@dataclass(frozen=True)
class Problem:
    """One problem of one line: 1-based line number, JSON pointer ('' for the line), message."""

    line: int
    pointer: str
    message: str


@dataclass
class Scan:
    """What one pass over a file found and wrote."""

    source: Path
    lines: int = 0
    valid: int = 0
    invalid: int = 0  # lines with at least one problem
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first KEPT_PROBLEMS
    bytes_in: int = 0
    bytes_out: int = 0  # what the sink holds; 0 without a sink

    def add(self, line: int, found: list[tuple[str, str]]) -> None:
        """Count a line's problems, keeping the first few."""
        self.invalid += 1
        self.problem_count += len(found)
        room = KEPT_PROBLEMS - len(self.problems)
        self.problems += [Problem(line, pointer, message) for pointer, message in found[:room]]


def records(file: IO[bytes]) -> Iterator[tuple[int, bytes, Any, list[tuple[str, str]]]]:
    """Yield (line number, line bytes, parsed record or None, problems) for each line of `file`.

    The problems here are the line's own: not one JSON value, blank, or too long. A line's
    bytes keep their newline; a last line without one is given one.
    """
    number = 0
    while line := file.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := file.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield number, line, None, [("", f"line longer than {MAX_LINE_BYTES} bytes")]
            continue
        if not line.endswith(b"\n"):
            line += b"\n"
        if line.isspace():
            yield number, line, None, [("", "blank line: each line must be one JSON object")]
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield number, line, None, [("", f"invalid JSON at column {error.colno}: {error.msg}")]
            continue
        yield number, line, record, []


def scan(
    source: Path,
    check: Check,
    sink: IO[bytes] | None = None,
    *,
    skip_invalid: bool = True,
    progress: Progress | None = None,
) -> Scan:
    """Check every line of `source` with `check`, writing the valid lines to `sink`.

    With `skip_invalid`, invalid lines are left out of the sink; without it, writing stops at
    the first one (the file will be refused; checking goes on, to count every problem).
    """
    result = Scan(source)
    pending: list[bytes] = []
    pending_bytes = 0
    writing = sink is not None
    with source.open("rb") as file:
        for number, line, record, found in records(file):
            result.lines += 1
            if progress is not None:
                progress(len(line))
            if not found:
                found = check(record)
            if found:
                result.add(number, found)
                writing = writing and skip_invalid
                continue
            result.valid += 1
            if writing:
                pending.append(line)
                pending_bytes += len(line)
                if pending_bytes >= _WRITE_BYTES:
                    sink.write(b"".join(pending))
                    pending, pending_bytes = [], 0
        if writing and pending:
            sink.write(b"".join(pending))
        result.bytes_in = file.tell()
    return result


def scan_to_file(
    source: Path,
    check: Check,
    target: Path,
    *,
    compress: bool,
    skip_invalid: bool,
    progress: Progress | None = None,
) -> Scan:
    """Scan `source` into `target`: its valid lines, gzip-compressed when `compress`."""
    with target.open("wb") as raw:
        if compress:
            # No name or time in the header: the same lines always give the same bytes.
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0
            ) as sink:
                result = scan(source, check, sink, skip_invalid=skip_invalid, progress=progress)
        else:
            result = scan(source, check, raw, skip_invalid=skip_invalid, progress=progress)
    result.bytes_out = os.path.getsize(target)
    return result
