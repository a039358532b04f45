"""The deprecated per-user historical upload: Create Upload, Add Upload Part, Update Upload."""

import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bff.kard.schema import Problem
from bff.kard.transactions import MAX_PART_ITEMS, part_item_errors
from bff.sandbox.errors import KardError, item_errors, multi_status
from bff.sandbox.uploads.ingest import Store, kard_problems
from bff.sandbox.validation import BodyErrors, data_array, non_empty_string

START, PART, COMPLETE = (
    "historicalTransactionStart",
    "historicalTransaction",
    "historicalTransactionComplete",
)


@dataclass
class LegacyUpload:
    """One user's upload session."""

    id: str
    organization_id: str
    user_id: str
    completed: bool = False


class LegacyUploads:
    """Thread-safe per-user upload sessions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._uploads: dict[str, LegacyUpload] = {}

    def create(self, organization_id: str, user_id: str) -> LegacyUpload:
        """Open a new upload session for the user."""
        upload = LegacyUpload(str(uuid.uuid4()), organization_id, user_id)
        with self._lock:
            self._uploads[upload.id] = upload
        return upload

    def open(self, organization_id: str, user_id: str, upload_id: str) -> LegacyUpload:
        """Return the user's open session; 404 if it is not theirs, 409 once it is complete."""
        with self._lock:
            upload = self._uploads.get(upload_id)
        if upload is None or (upload.organization_id, upload.user_id) != (organization_id, user_id):
            raise KardError(404, f"Upload {upload_id} was not found for this user")
        if upload.completed:
            raise KardError(409, f"Upload {upload_id} is already complete")
        return upload

    def complete(self, upload: LegacyUpload) -> None:
        """Mark a session complete; 409 if it already was (two racing completions)."""
        with self._lock:
            if upload.completed:
                raise KardError(409, f"Upload {upload.id} is already complete")
            upload.completed = True

    def clear(self) -> None:
        """Forget every session."""
        with self._lock:
            self._uploads.clear()


def validated_start(body: Any) -> None:
    """Raise a 400 unless the body is a valid Create Upload body."""
    _check_single(body, START, require_id=False)


def validated_complete(body: Any) -> dict[str, Any]:
    """Return the `data` of a valid Update Upload body; raise a 400 otherwise."""
    _check_single(body, COMPLETE, require_id=True)
    return body["data"]


def _check_single(body: Any, resource_type: str, *, require_id: bool) -> None:
    data = body.get("data") if isinstance(body, dict) else None
    errors = BodyErrors()
    errors.resource(data, "/data", (resource_type,))
    if isinstance(data, dict) and require_id:
        errors.require(data.get("id"), "/data/id", non_empty_string, "must be a non-empty string")
    errors.raise_any()


def part_response(
    body: Any,
    upload: LegacyUpload,
    now: datetime,
    store: Store,
) -> tuple[dict[str, Any], int]:
    """Check an Add Upload Part body, store its valid items; answer 200, 207 or raise a 400."""
    items = data_array(body, maximum=MAX_PART_ITEMS)
    errors: list[dict[str, Any]] = []
    rows: list[tuple[str, str, str]] = []
    for index, item in enumerate(items):
        problems = _item_problems(item, upload.user_id, now)
        errors += item_errors(index, item, problems)
        if not problems:
            attributes = item["attributes"]
            rows.append((upload.user_id, attributes["transactionId"], json.dumps(item)))
    data = [{"type": PART, "id": upload.id, "attributes": {}}]
    answer = multi_status(data, errors, accepted=bool(rows), status=200)
    store(rows)
    return answer


def _item_problems(item: Any, user_id: str, now: datetime) -> list[Problem]:
    problems = part_item_errors(item)
    problems += kard_problems(item, problems, now)
    attributes = item.get("attributes") if isinstance(item, dict) else None
    owner = attributes.get("userId") if isinstance(attributes, dict) else None
    if non_empty_string(owner) and owner != user_id:
        problems.append(("/attributes/userId", f"must be the user of the path, {user_id}"))
    return problems
