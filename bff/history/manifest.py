"""The uploads this machine made: which original file each uploaded name and upload ID came from.

A small JSON file in the state directory, so `kard-bff history results` can find the original
file of a results document by its `fileId` (the upload ID) or its `fileName`.
"""

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "history-uploads.json"
KEPT_ENTRIES = 1000


@dataclass(frozen=True)
class Entry:
    """One uploaded file: the name Kard knows it by, its upload ID, the original, and when."""

    file_name: str
    upload_id: str
    source: str  # absolute path of the original JSONL file
    uploaded_at: str  # ISO 8601, UTC


class Manifest:
    """The upload manifest in `state_dir`."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / FILE_NAME

    def entries(self) -> list[Entry]:
        """Every remembered upload, oldest first; none when the file is missing or unreadable."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [Entry(**item) for item in raw["uploads"]]
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def add(self, entry: Entry) -> None:
        """Remember an upload, keeping the newest KEPT_ENTRIES; replace the file atomically."""
        entries = [*self.entries(), entry][-KEPT_ENTRIES:]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"uploads": [asdict(item) for item in entries]}
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{FILE_NAME}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(document, out, indent=2)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise

    def find(self, *, upload_id: str | None = None, file_name: str | None = None) -> Entry | None:
        """The upload with this ID, else the newest with this file name."""
        entries = self.entries()
        for entry in entries:
            if upload_id and entry.upload_id == upload_id:
                return entry
        for entry in reversed(entries):
            if file_name and entry.file_name == file_name:
                return entry
        return None
