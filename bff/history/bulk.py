"""The bulk flow: check and compress JSONL files, then PUT each to a presigned URL from Kard.

1. `prepare` checks every line of every file and writes the valid lines, gzip-compressed, to a
   temporary file, in one streaming pass per file (S3's presigned PUT needs a Content-Length, so
   the compressed size has to be known before sending).
2. `upload` asks Kard for presigned URLs, up to 10 files per request, PUTs each file, asks again
   for a file whose URL expired, and remembers each upload in the manifest.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bff.errors import PresignedUrlExpired
from bff.history.jsonl import Progress, Scan, scan_to_file
from bff.history.manifest import Entry, Manifest
from bff.kard.client import MAX_UPLOAD_URLS, KardClient
from bff.kard.transactions import record_errors
from bff.timestamps import utc_timestamp

GZIP_TYPE = "application/gzip"
PLAIN_TYPE = "application/octet-stream"


@dataclass
class Prepared:
    """One checked file, ready to upload: the name Kard gets, and what to send."""

    scan: Scan
    name: str
    path: Path
    content_type: str
    upload_id: str | None = None
    fresh_url: bool = False  # the first URL had expired; the file went to a second one


def prepare(
    sources: list[Path],
    work_dir: Path,
    *,
    compress: bool = True,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> list[Prepared]:
    """Check each source's lines and write its valid ones (gzip unless not `compress`)."""
    prepared = []
    for index, source in enumerate(sources):
        name = kard_name(source, compress)
        target = work_dir / f"{index}-{name}"
        result = scan_to_file(
            source,
            record_errors,
            target,
            compress=compress,
            skip_invalid=skip_invalid,
            progress=progress,
        )
        prepared.append(Prepared(result, name, target, GZIP_TYPE if compress else PLAIN_TYPE))
    return prepared


def upload(
    client: KardClient,
    files: list[Prepared],
    manifest: Manifest,
    *,
    progress: Progress | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """PUT every file with valid lines to its own presigned URL; set each file's upload ID."""
    sending = [file for file in files if file.scan.valid]
    # URLs live 15 minutes: ask for each batch's just before sending it.
    for start in range(0, len(sending), MAX_UPLOAD_URLS):
        batch = sending[start : start + MAX_UPLOAD_URLS]
        urls = client.create_upload_urls([file.name for file in batch])
        for file, url in zip(batch, urls, strict=True):
            try:
                client.storage.put(url["attributes"]["url"], file.path, file.content_type, progress)
            except PresignedUrlExpired:
                (url,) = client.create_upload_urls([file.name])
                file.fresh_url = True
                client.storage.put(url["attributes"]["url"], file.path, file.content_type, progress)
            file.upload_id = url["id"]
            manifest.add(
                Entry(file.name, url["id"], str(file.scan.source.resolve()), utc_timestamp(now()))
            )


def kard_name(source: Path, compress: bool) -> str:
    """The file name given to Kard: the source's, with `.gz` when compressed."""
    return source.name + ".gz" if compress else source.name
