"""Kard's storage: PUT a transactions file to a presigned S3 URL, GET a results file from one.

No Kard credentials go with these requests: the URL's signature is the authorization, and its
query is a credential, so only the host is logged. Bodies stream, both ways, in constant memory.
"""

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

from bff.errors import PresignedUrlExpired
from bff.kard.failures import STORAGE_ERRORS, log_level, translate_transport_errors

log = logging.getLogger(__name__)

Progress = Callable[[int], None]

UPLOAD_CHUNK_BYTES = 1 << 20
# S3 answers an expired presigned URL with 403 and this XML error.
_EXPIRED = re.compile(rb"<Code>AccessDenied</Code>\s*<Message>[^<]*expired", re.IGNORECASE)


class KardStorage:
    """PUT and GET presigned storage URLs, over `transport` (else httpx's, which streams)."""

    def __init__(self, *, timeout: float, transport: httpx.BaseTransport | None = None):
        self._timeout = timeout
        self._transport = transport
        # Built on first use, since most processes never upload a file.
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection pool, if one was opened."""
        if self._http is not None:
            self._http.close()

    def put(
        self, url: str, file: Path, content_type: str, progress: Progress | None = None
    ) -> None:
        """PUT a file to a presigned storage URL, streamed from disk with its Content-Length.

        Raises `PresignedUrlExpired` when the URL has expired; `progress` is told each chunk's size.
        """
        with file.open("rb") as body:
            size = os.fstat(body.fileno()).st_size
            headers = {"Content-Type": content_type, "Content-Length": str(size)}
            content = _chunks(body, progress)
            with self._request("PUT", url, content=content, headers=headers) as response:
                response.read()
        _result(response, "upload")

    def download(self, url: str, out: IO[bytes]) -> None:
        """Stream the body behind a presigned storage URL (a results file) into `out`."""
        with self._request("GET", url) as response:
            if response.is_success:
                for chunk in response.iter_bytes(UPLOAD_CHUNK_BYTES):
                    out.write(chunk)
            else:
                response.read()
        _result(response, "download")

    @contextmanager
    def _request(self, method: str, url: str, **options: Any) -> Iterator[httpx.Response]:
        """A request to Kard's storage, its body streamed: transport failures, also while the
        body is read, become `bff.errors` types."""
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    timeout=self._timeout,
                    transport=self._transport,
                    headers={"User-Agent": "kard-bff"},
                )
        started = time.perf_counter()
        with (
            translate_transport_errors(self._timeout),
            self._http.stream(method, url, **options) as response,
        ):
            log.log(
                log_level(response.status_code),
                "kard storage %s %s -> %s in %.0f ms",
                method,
                httpx.URL(url).host,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
            yield response


def _chunks(body: IO[bytes], progress: Progress | None) -> Iterator[bytes]:
    while chunk := body.read(UPLOAD_CHUNK_BYTES):
        yield chunk
        if progress is not None:
            progress(len(chunk))


def _result(response: httpx.Response, what: str) -> None:
    """Return when storage said yes; otherwise raise, with an expired URL told apart."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 403 and _EXPIRED.search(response.content):
        raise PresignedUrlExpired(f"The presigned {what} URL has expired.")
    raise STORAGE_ERRORS.error(response, what=what)
