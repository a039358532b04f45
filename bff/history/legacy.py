"""The deprecated per-user flow: Create Upload, Add Upload Part (500 at a time), Update Upload.

Kard keeps it working until the end of 2027; new integrations use the bulk flow (`bulk.py`).
Every line must be a `historicalTransaction` of the one user the upload session belongs to.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bff.errors import UpstreamRejected
from bff.history.jsonl import Check, Problem, Progress, Scan, records, scan
from bff.kard.client import KardClient
from bff.kard.transactions import MAX_PART_ITEMS, part_item_errors

SUPPORTED_UNTIL = "the end of 2027"
_ITEM_POINTER = re.compile(r"^/data/(\d+)(/.*)?$")


@dataclass
class Sent:
    """What Kard did with a file's valid lines: the upload session, parts, refused items."""

    upload_id: str
    parts: int = 0
    items: int = 0
    refused: list[Problem] = field(default_factory=list)  # line 0: Kard named no known item


def check(source: Path, user_id: str, *, progress: Progress | None = None) -> Scan:
    """Check every line as an Add Upload Part item of `user_id`."""
    return scan(source, _checker(user_id), progress=progress)


def send(client: KardClient, source: Path, user_id: str) -> Sent:
    """Open an upload session, send the file's valid lines in parts of 500, and complete it."""
    sent = Sent(client.create_legacy_upload(user_id))
    for part in _parts(source, _checker(user_id)):
        try:
            answer = client.add_upload_part(user_id, sent.upload_id, [item for _, item in part])
        except UpstreamRejected as refusal:
            if refusal.status != 400:
                raise
            # Kard refused every item of the part: its errors name them, as a 207's would.
            answer = {"errors": refusal.errors}
        sent.parts += 1
        sent.items += len(part)
        sent.refused += refused_items(answer, part)
    client.complete_upload(user_id, sent.upload_id)
    return sent


def refused_items(answer: dict[str, Any], part: list[tuple[int, Any]]) -> list[Problem]:
    """Map a 207's errors to the lines of the part's items: by the item's index in the pointer
    (`/data/3/...`) when Kard gives one, else by the item `id` Kard names."""
    lines_by_id: dict[str, list[int]] = {}
    for line, item in part:
        lines_by_id.setdefault(item.get("id"), []).append(line)
    problems = []
    for error in answer.get("errors") or []:
        if not isinstance(error, dict):
            continue
        source = error.get("source")
        pointer = source.get("pointer") if isinstance(source, dict) else None
        match = _ITEM_POINTER.match(pointer) if isinstance(pointer, str) else None
        item_id = error.get("id")
        if match and int(match.group(1)) < len(part):
            lines = [part[int(match.group(1))][0]]
        else:
            lines = lines_by_id.get(item_id, []) if isinstance(item_id, str) else []
        message = str(error.get("detail") or error.get("title") or "refused")
        at = (match.group(2) or "") if match else ""
        problems += [Problem(line, at, message) for line in lines or [0]]
    return problems


def _checker(user_id: str) -> Check:
    def check_item(item: Any) -> list[tuple[str, str]]:
        problems = part_item_errors(item)
        attributes = item.get("attributes") if isinstance(item, dict) else None
        owner = attributes.get("userId") if isinstance(attributes, dict) else None
        if isinstance(owner, str) and owner != user_id:
            problems.append(("/attributes/userId", f"must be {user_id}, the user of --legacy"))
        return problems

    return check_item


def _parts(source: Path, check_item: Check) -> Iterator[list[tuple[int, Any]]]:
    """The valid lines as (line number, item), in lists of at most 500."""
    part: list[tuple[int, Any]] = []
    with source.open("rb") as file:
        for number, _, record, found in records(file):
            if found or check_item(record):
                continue
            part.append((number, record))
            if len(part) == MAX_PART_ITEMS:
                yield part
                part = []
    if part:
        yield part
