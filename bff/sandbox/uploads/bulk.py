"""Bulk transaction uploads: the sessions upload URLs were issued for, the files PUT to them, and
the one worker thread that processes those files in arrival order."""

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bff.sandbox.documents.resources import iso
from bff.sandbox.uploads.ingest import FILE_TYPES, FileFailed, Outcome
from bff.sandbox.uploads.webhooks import ISSUER_NAME, Target
from bff.sandbox.validation import BodyErrors, data_array, non_empty_string

FILE_PROCESSING_RESULT = "fileProcessingResult"
UPLOADS_BUCKET = "kard-uploads"
RESULTS_BUCKET = "kard-results"
MAX_URLS = 10
MAX_FILENAME = 1024  # S3's key limit

RECEIVED, PROCESSING, PROCESSED, FAILED = "received", "processing", "processed", "failed"

_log = logging.getLogger(__name__)
_IDLE_SECONDS = 5.0  # the worker thread ends after this long without work
_KSUID_EPOCH = 1_400_000_000
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def new_upload_id(now: float) -> str:
    """Return a KSUID: 27 base62 characters, a timestamp then 128 random bits."""
    value = int.from_bytes(
        int(now - _KSUID_EPOCH).to_bytes(4, "big") + secrets.token_bytes(16), "big"
    )
    digits = []
    while value:
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits)).rjust(27, "0")


def validated_file_requests(body: Any) -> list[tuple[str, str]]:
    """Return the (file type, filename) of a valid Create Upload URL body; 400 otherwise."""
    data = data_array(body, maximum=MAX_URLS)
    errors = BodyErrors()
    for index, item in enumerate(data):
        attributes = errors.resource(item, f"/data/{index}", FILE_TYPES)
        if attributes is None:
            continue
        errors.require(
            attributes.get("filename"),
            f"/data/{index}/attributes/filename",
            _filename,
            f"must be a file name of at most {MAX_FILENAME} characters",
        )
    errors.raise_any()
    return [(item["type"], item["attributes"]["filename"]) for item in data]


def _filename(value: Any) -> bool:
    return (
        non_empty_string(value)
        and len(value) <= MAX_FILENAME
        and value.isprintable()
        and not value.startswith("/")
    )


@dataclass(frozen=True)
class UploadSession:
    """An upload URL Kard issued: for which organization, file type and file name."""

    id: str
    organization_id: str
    file_type: str
    filename: str


@dataclass(eq=False)
class ReceivedFile:
    """A file PUT to an upload URL, and how its processing went."""

    session: UploadSession
    body: Path
    size: int
    received_at: datetime
    root_url: str  # the simulator's root as the uploader reached it, for the results URL
    fallback: Target | None = None  # the host app's own webhook endpoint, when mounted in one
    state: str = RECEIVED
    outcome: Outcome = field(default_factory=Outcome)
    results_url: str | None = None
    processed_at: datetime | None = None
    failure: str | None = None
    forgotten: bool = False  # set by a reset: stop storing its records, send no webhook

    def check_current(self) -> None:
        """Raise FileFailed once a reset has forgotten the file (its processing stops)."""
        if self.forgotten:
            raise FileFailed("forgotten by a reset")

    def to_json(self) -> dict[str, Any]:
        """Render the file for the HTTP control surface."""
        return {
            "id": self.session.id,
            "type": self.session.file_type,
            "fileName": self.session.filename,
            "organizationId": self.session.organization_id,
            "status": self.state,
            "size": self.size,
            "lines": self.outcome.lines,
            "accepted": self.outcome.accepted,
            "duplicates": self.outcome.duplicates,
            "errors": self.outcome.errors,
            "receivedAt": iso(self.received_at),
            "processedAt": iso(self.processed_at) if self.processed_at else None,
            "resultsUrl": self.results_url,
            "failure": self.failure,
        }


def results_resource(session: UploadSession, result_id: str) -> dict[str, Any]:
    """Return the `data` of a file's results document."""
    attributes = {"fileType": session.file_type, "fileName": session.filename, "fileId": session.id}
    return {"type": FILE_PROCESSING_RESULT, "id": result_id, "attributes": attributes}


def notification(
    file: ReceivedFile, result_id: str, processed_at: datetime, download_url: str
) -> dict[str, Any]:
    """Return the fileProcessingResult notification of a processed file."""
    attributes = {
        "fileName": file.session.filename,
        "sentAt": iso(file.received_at),
        "lastModified": iso(processed_at),
        "downloadUrl": download_url,
    }
    return {
        "data": {"type": FILE_PROCESSING_RESULT, "id": result_id, "attributes": attributes},
        "meta": {"issuerId": file.session.organization_id, "issuerName": ISSUER_NAME},
    }


class Uploads:
    """Thread-safe upload sessions and received files, and the worker that processes the files.

    `process(file)` does the work (records, results, webhook); it raises to mark a file failed.
    """

    def __init__(self, process: Callable[[ReceivedFile], None]) -> None:
        self._process = process
        self._changed = threading.Condition()
        self._sessions: dict[str, UploadSession] = {}
        self._files: list[ReceivedFile] = []
        self._queue: queue.SimpleQueue[ReceivedFile] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def open_session(
        self, organization_id: str, file_type: str, filename: str, now: float
    ) -> UploadSession:
        """Issue a new upload session."""
        session = UploadSession(new_upload_id(now), organization_id, file_type, filename)
        with self._changed:
            self._sessions[session.id] = session
        return session

    def session(self, upload_id: str) -> UploadSession | None:
        """Return an upload session by ID."""
        with self._changed:
            return self._sessions.get(upload_id)

    def receive(self, file: ReceivedFile) -> None:
        """Queue a received file for processing."""
        with self._changed:
            self._files.append(file)
            self._queue.put(file)
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="kard-simulator-uploads", daemon=True
                )
                self._worker.start()

    @property
    def files(self) -> list[ReceivedFile]:
        """Return the received files, oldest first."""
        with self._changed:
            return list(self._files)

    def wait(self, timeout: float) -> None:
        """Return once no received file waits for processing; TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while any(f.state in (RECEIVED, PROCESSING) for f in self._files):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"uploads still processing after {timeout} s")
                self._changed.wait(left)

    def clear(self) -> None:
        """Forget every session and file (a file being processed finishes unseen)."""
        with self._changed:
            for file in self._files:
                file.forgotten = True
            self._sessions.clear()
            self._files.clear()
            self._changed.notify_all()

    def _work(self) -> None:
        while True:
            try:
                file = self._queue.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                with self._changed:
                    # `receive` queues under this lock, so nothing can slip in unseen.
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            with self._changed:
                if file.forgotten:
                    file.body.unlink(missing_ok=True)
                    continue
                file.state = PROCESSING
            try:
                self._process(file)
                state = PROCESSED
            except FileFailed as error:
                file.failure, state = str(error), FAILED
            except Exception as error:  # a bug fails the file, never the worker
                _log.exception("Processing %s failed", file.session.id)
                file.failure, state = f"internal error: {error}", FAILED
            finally:
                file.body.unlink(missing_ok=True)
            with self._changed:
                file.state = state
                self._changed.notify_all()
