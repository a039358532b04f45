"""Read a bulk upload's results file and map each error to its line in the original file.

Kard's results document (the guide's Step 5)::

    {"data": {"type": "fileProcessingResult", "id": "...",
              "attributes": {"fileType": "historicalTransactionsFile", "fileName": "...",
                             "fileId": "..."}},
     "errors": [{"status": "400", "title": "...", "id": "<record id>",
                 "detail": "Invalid request: <path> <message> | <the line's JSON text>"}]}

An error is mapped by its record `id` (or the `id` of the record echoed in `detail`); when that
names no line, or several, the echoed text picks the line it equals.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bff.history.jsonl import records
from bff.history.manifest import Manifest

_ECHO_SEPARATOR = " | "


class ResultsUnreadable(Exception):
    """The results document could not be read, or is not one."""


@dataclass(frozen=True)
class Results:
    """A results document: which file, and its errors as Kard sent them."""

    file_name: str | None
    file_id: str | None
    errors: list[dict[str, Any]]


@dataclass(frozen=True)
class LineError:
    """One error of the results, at its line of the original (None: not found there)."""

    line: int | None
    message: str


def is_url(source: str) -> bool:
    """Whether `source` names a results file by URL rather than by path."""
    return source.startswith(("https://", "http://"))


def load(source: str, download: Callable[[str], bytes]) -> Results:
    """Read the results document at a URL (with `download`) or a local path."""
    if is_url(source):
        raw = download(source)
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as error:
            raise ResultsUnreadable(f"{source}: {error.strerror or error}") from error
    return parse(raw)


def parse(raw: bytes) -> Results:
    """Check and unpack a results document."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ResultsUnreadable(f"not JSON ({error})") from error
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list) or not all(isinstance(error, dict) for error in errors):
        raise ResultsUnreadable("not a results document: no list of errors")
    data = document.get("data")
    attributes = data.get("attributes") if isinstance(data, dict) else None
    attributes = attributes if isinstance(attributes, dict) else {}
    return Results(_text(attributes.get("fileName")), _text(attributes.get("fileId")), errors)


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
    wanted = [_Wanted.of(error) for error in results.errors]
    if source is None:
        return [LineError(None, want.message) for want in wanted]
    ids = {want.id for want in wanted if want.id is not None}
    texts = {want.echo.encode() for want in wanted if want.echo is not None}
    lines_by_id: dict[str, list[int]] = {}
    lines_by_text: dict[bytes, list[int]] = {}
    with source.open("rb") as file:
        for number, line, record, _ in records(file):
            text = line.strip()
            if text in texts:
                lines_by_text.setdefault(text, []).append(number)
            record_id = record.get("id") if isinstance(record, dict) else None
            if isinstance(record_id, str) and record_id in ids:
                lines_by_id.setdefault(record_id, []).append(number)
    mapped = [want.resolve(lines_by_id, lines_by_text) for want in wanted]
    return sorted(mapped, key=lambda error: (error.line is None, error.line or 0))


@dataclass(frozen=True)
class _Wanted:
    message: str
    id: str | None
    echo: str | None

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
        return cls(message, record_id, echo)

    def resolve(
        self, lines_by_id: dict[str, list[int]], lines_by_text: dict[bytes, list[int]]
    ) -> LineError:
        by_id = lines_by_id.get(self.id, []) if self.id is not None else []
        by_text = lines_by_text.get(self.echo.encode(), []) if self.echo is not None else []
        both = [line for line in by_id if line in by_text]
        lines = both or by_id or by_text
        return LineError(lines[0] if lines else None, self.message)


def _parses(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
