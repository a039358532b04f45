"""Read a bulk upload's results file and map each error to its line in the original file.

Kard's results document (the guide's Step 5)::

    {"data": {"type": "fileProcessingResult", "id": "...",
              "attributes": {"fileType": "historicalTransactionsFile", "fileName": "...",
                             "fileId": "..."}},
     "errors": [{"status": "400", "title": "...", "id": "<record id>",
                 "detail": "Invalid request: <path> <message> | <the line's JSON text>"}]}

An error is mapped by its record `id` (or the `id` of the record echoed in `detail`); when that
names no line, or several, the echoed text picks the line it equals.

A file Kard refused line by line has a results document as large as the file itself, so the
document is streamed (downloaded to a temporary file, parsed one error at a time with ijson), and
of each error only its message, record ID and a digest of the echoed line are kept.
"""

import hashlib
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson
import orjson

from bff.history.jsonl import records
from bff.history.manifest import Manifest

Download = Callable[[str, IO[bytes]], None]
_ECHO_SEPARATOR = " | "
_NAMED = {"data.attributes.fileName": "file_name", "data.attributes.fileId": "file_id"}


class ResultsUnreadable(Exception):
    """The results document could not be read, or is not one."""


@dataclass(frozen=True)
class Results:
    """A results document: which file, and what of each error is needed to find its line."""

    file_name: str | None
    file_id: str | None
    errors: list["_Wanted"]


@dataclass(frozen=True, slots=True)
class LineError:
    """One error of the results, at its line of the original (None: not found there)."""

    line: int | None
    message: str


def is_url(source: str) -> bool:
    """Whether `source` names a results file by URL rather than by path."""
    return source.startswith(("https://", "http://"))


def load(source: str, download: Download) -> Results:
    """Read the results document at a URL (streamed to a temporary file by `download`) or a
    local path."""
    if is_url(source):
        with tempfile.TemporaryFile(prefix="kard-bff-results-") as file:
            download(source, file)
            file.seek(0)
            return parse(file)
    try:
        with Path(source).open("rb") as file:
            return parse(file)
    except OSError as error:
        raise ResultsUnreadable(f"{source}: {error.strerror or error}") from error


def parse(document: bytes | IO[bytes]) -> Results:
    """Check and unpack a results document, one error at a time."""
    outline = _Outline()
    wanted = []
    try:
        for error in ijson.items(outline.watch(ijson.parse(document)), "errors.item"):
            if not isinstance(error, dict):
                raise ResultsUnreadable("not a results document: an error is not an object")
            wanted.append(_Wanted.of(error))
    except ijson.JSONError as error:
        raise ResultsUnreadable(f"not JSON ({str(error).splitlines()[0]})") from error
    if not outline.has_errors:
        raise ResultsUnreadable("not a results document: no list of errors")
    return Results(outline.named.get("file_name"), outline.named.get("file_id"), wanted)


class _Outline:
    """What a results document says besides its errors, noted as its parse events go by."""

    def __init__(self) -> None:
        self.has_errors = False
        self.named: dict[str, str] = {}

    def watch(self, events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[str, str, Any]]:
        for prefix, event, value in events:
            if prefix == "errors" and event == "start_array":
                self.has_errors = True
            elif event == "string" and prefix in _NAMED and value:
                self.named[_NAMED[prefix]] = value
            yield prefix, event, value


def original(results: Results, manifest: Manifest) -> Path | None:
    """The original file of these results, as remembered when it was uploaded."""
    entry = manifest.find(upload_id=results.file_id, file_name=results.file_name)
    return Path(entry.source) if entry else None


def split_detail(detail: str) -> tuple[str, str | None]:
    """Split a detail into its message and the line's JSON text Kard echoed after ' | '."""
    start = detail.find(_ECHO_SEPARATOR)
    first = start
    while start != -1:
        echo = detail[start + len(_ECHO_SEPARATOR) :].strip()
        if echo.startswith("{") and _parses(echo):
            return detail[:start].rstrip(), echo
        start = detail.find(_ECHO_SEPARATOR, start + 1)
    if first == -1:
        return detail, None
    # An echo that is not JSON: the line itself was not (Kard quotes it all the same).
    return detail[:first].rstrip(), detail[first + len(_ECHO_SEPARATOR) :].strip()


def map_to_lines(results: Results, source: Path | None) -> list[LineError]:
    """Each error with its line in `source` (None when unmapped), in line order."""
    wanted = results.errors
    if source is None:
        return [LineError(None, want.message) for want in wanted]
    ids = {want.id for want in wanted if want.id is not None}
    echoes = {want.echo for want in wanted if want.echo is not None}
    by_id, by_text = _LineIndex(), _LineIndex()
    with source.open("rb") as file:
        for number, line, record, _ in records(file):
            text = _digest(line.strip()) if echoes else None
            if text in echoes:
                by_text.add(text, number)
            record_id = record.get("id") if isinstance(record, dict) else None
            if isinstance(record_id, str) and record_id in ids:
                by_id.add(record_id, number)
    mapped = [want.resolve(by_id, by_text) for want in wanted]
    mapped.sort(key=lambda error: (error.line is None, error.line or 0))
    return mapped


class _LineIndex:
    """The lines each key is on: one int for the usual single line, a list only for several
    (a million errors' worth of one-item lists would cost ~100 MB)."""

    def __init__(self) -> None:
        self._lines: dict[Any, int | list[int]] = {}

    def add(self, key: Any, line: int) -> None:
        found = self._lines.setdefault(key, line)
        if isinstance(found, list):
            found.append(line)
        elif found != line:
            self._lines[key] = [found, line]

    def get(self, key: Any) -> list[int]:
        found = self._lines.get(key) if key is not None else None
        if found is None:
            return []
        return found if isinstance(found, list) else [found]


@dataclass(frozen=True, slots=True)
class _Wanted:
    """One error: its message, the record ID it names, and a digest of the line it echoes."""

    message: str
    id: str | None
    echo: bytes | None

    @classmethod
    def of(cls, error: dict[str, Any]) -> "_Wanted":
        detail = _text(error.get("detail")) or _text(error.get("title")) or "error"
        message, echo = split_detail(detail)
        record_id = _text(error.get("id"))
        if record_id is None and echo is not None:
            try:
                echoed = orjson.loads(echo)
            except orjson.JSONDecodeError:
                echoed = None
            record_id = _text(echoed.get("id")) if isinstance(echoed, dict) else None
        # Many errors share a message: keep one copy of it.
        digest = _digest(echo.encode()) if echo is not None else None
        return cls(sys.intern(message), record_id, digest)

    def resolve(self, by_id: "_LineIndex", by_text: "_LineIndex") -> LineError:
        id_lines, text_lines = by_id.get(self.id), by_text.get(self.echo)
        both = [line for line in id_lines if line in text_lines]
        lines = both or id_lines or text_lines
        return LineError(lines[0] if lines else None, self.message)


def _digest(text: bytes) -> bytes:
    return hashlib.blake2b(text, digest_size=16).digest()


def _parses(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
