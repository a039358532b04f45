"""Serving a WSGI app over granian's RSGI interface, so a request body has a deadline.

Granian's WSGI interface calls the app as soon as the headers are in, and a read of
`wsgi.input` then blocks a Python thread with no time limit: clients that trickle a body, or
stop sending one, can hold every thread of a worker. Here the event loop reads the whole body
first, with a deadline and a size cap, and a thread is taken only for a request that has arrived
whole:

- a body not in within `body_timeout` seconds is answered 408, in the contract's JSON error
  shape, and its connection is closed;
- a body is read up to the app's limit for its path: a Content-Length over it is not read at all
  (the app refuses it on the header), and a chunked body is read one byte past it (the app finds
  it over its limit, as under any WSGI server);
- the app then runs in a pool of `threads` threads, with the environ a WSGI server gives (PEP
  3333), but none of the process environment in it;
- its answer goes back in one piece, or, past `STREAM_AFTER_BYTES`, as a stream whose next chunks
  are read in the pool.
"""

import asyncio
import collections
import contextlib
import functools
import io
import logging
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson
from granian.rsgi import ProtocolClosed

from bff import access_log
from bff.errors import error_object
from bff.middleware import REQUEST_ID_HEADER, request_id_for

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# A body up to this size is read into memory; a larger one (the sandbox's uploads) to a file.
IN_MEMORY_BODY_BYTES = 1_000_000
# An answer up to this size is sent in one piece; past it, the rest is streamed.
STREAM_AFTER_BYTES = 1 << 20

_DISCONNECTED_BODY = orjson.dumps(
    {
        "errors": [
            error_object(400, "Bad Request", "The request body ended before its Content-Length.")
        ]
    }
)
_PROTOCOLS = {"1": "HTTP/1.0", "1.0": "HTTP/1.0", "1.1": "HTTP/1.1", "2": "HTTP/2"}
_BASE_ENVIRON = {
    "GATEWAY_INTERFACE": "CGI/1.1",
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": "kard-bff (granian RSGI)",
    "wsgi.version": (1, 0),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    # The whole body is in wsgi.input, however it was framed: Werkzeug reads a chunked one too.
    "wsgi.input_terminated": True,
}


class RsgiBridge:
    """An RSGI app that reads each request's body on the event loop, with a deadline, then runs
    a WSGI app on it in a pool of threads."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        threads: int,
        body_timeout: float,
        body_limit: Callable[[str], int],
    ):
        self._app = app
        self._body_timeout = body_timeout
        self._body_limit = body_limit
        self._pool = _Pool(threads)
        self._loop: asyncio.AbstractEventLoop | None = None
        detail = f"The request body did not arrive within {body_timeout:g} s."
        self._timeout_body = orjson.dumps(
            {"errors": [error_object(408, "Request Timeout", detail)]}
        )

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Once the server has stopped: let the requests still in the pool finish."""
        self._pool.shutdown()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        headers = scope.headers
        if "content-length" in headers or "transfer-encoding" in headers:
            started = time.perf_counter()
            try:
                body = await asyncio.wait_for(self._read_body(scope, proto), self._body_timeout)
            except TimeoutError:
                self._refuse(scope, proto, 408, self._timeout_body, started)
                return
            except ProtocolClosed:  # the client stopped sending (Werkzeug's ClientDisconnected)
                self._refuse(scope, proto, 400, _DISCONNECTED_BODY, started)
                return
        else:
            body = io.BytesIO()
        loop = self._loop or asyncio.get_running_loop()
        environ = self._environ(scope, body)
        status, response_headers, content, rest = await self._pool.run(loop, self._call, environ)
        if rest is None:
            proto.response_bytes(status, response_headers, content)
            return
        try:
            transport = proto.response_stream(status, response_headers)
            await transport.send_bytes(content)
            while chunk := await self._pool.run(loop, _next_chunk, rest):
                await transport.send_bytes(chunk)
        finally:
            _close(rest)

    async def _read_body(self, scope: Any, proto: Any) -> IO[bytes]:
        limit = self._body_limit(scope.path)
        length = scope.headers.get("content-length")
        if length is not None:
            size = int(length)  # granian has refused a request whose Content-Length is not one
            if size > limit or size == 0:
                return io.BytesIO()  # the app answers from the header; nothing is read
            if size <= IN_MEMORY_BODY_BYTES:
                return io.BytesIO(await proto())
        # Handed to the app as wsgi.input; closed with the request.
        body: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BODY_BYTES)  # noqa: SIM115
        received = 0
        async for chunk in proto:
            body.write(chunk)
            received += len(chunk)
            if received > limit:
                break  # enough for the app to tell it is over its limit
        body.seek(0)
        return body

    def _refuse(self, scope: Any, proto: Any, status: int, body: bytes, started: float) -> None:
        """Answer a request whose body did not come, in the app's error shape, close its
        connection, and log it."""
        given = scope.headers.get(REQUEST_ID_HEADER.lower(), "")
        headers = [
            ("content-type", "application/json"),
            ("cache-control", "no-store"),
            ("x-content-type-options", "nosniff"),
            (REQUEST_ID_HEADER.lower(), request_id_for(given)),
            ("connection", "close"),
        ]
        with contextlib.suppress(ProtocolClosed):
            proto.response_bytes(status, headers, body)
        if access_log.log.isEnabledFor(logging.INFO):
            elapsed_ms = (time.perf_counter() - started) * 1000
            access_log.write(self._environ(scope, io.BytesIO()), str(status), elapsed_ms)

    def _environ(self, scope: Any, body: IO[bytes]) -> dict[str, Any]:
        server_name, _, server_port = scope.server.rpartition(":")
        path = scope.path  # granian has decoded it as UTF-8; WSGI wants its bytes as Latin-1
        if not path.isascii():
            path = path.encode("utf-8").decode("latin-1")
        environ = {
            **_BASE_ENVIRON,
            "REQUEST_METHOD": scope.method,
            "PATH_INFO": path,
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": _PROTOCOLS.get(scope.http_version, "HTTP/1.1"),
            "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": body,
        }
        for name, value in scope.headers.items():
            key = _environ_key(name)
            if key in environ:  # a repeated header: its values joined, as WSGI servers do
                environ[key] = f"{environ[key]},{value}"
            else:
                environ[key] = value
        return environ

    def _call(self, environ: dict[str, Any]) -> "tuple[int, list, bytes, _Rest | None]":
        """Run the app (in a pool thread): its status, headers, and its answer whole, or, for a
        long answer, its first part and the rest, to be streamed.

        The event loop sends it: under load, granian's `response_bytes` called from a pool
        thread held the interpreter lock for a tenth of a worker's Python time, and c=32
        throughput was 8 to 19% lower than sending from the loop (c=1 latency is a little
        better from the pool thread)."""
        started = _StartResponse()
        result = self._app(environ, started)
        if type(result) is list:
            return started.status, started.headers, b"".join([*started.written, *result]), None
        chunks = started.written
        size = 0
        iterator = iter(result)
        try:
            for chunk in iterator:
                chunks.append(chunk)
                size += len(chunk)
                if size > STREAM_AFTER_BYTES:
                    return (
                        started.status,
                        started.headers,
                        b"".join(chunks),
                        _Rest(result, iterator),
                    )
        except BaseException:
            _close(result)
            raise
        _close(result)
        return started.status, started.headers, b"".join(chunks), None


class _Pool:
    """Threads that run calls for the event loop. A finished call wakes the loop only when no
    wake-up is pending already, so under load one wake-up hands back many results."""

    def __init__(self, threads: int):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._finished: collections.deque = collections.deque()
        self._wake_pending = False
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"request-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def run(self, loop: asyncio.AbstractEventLoop, call: Callable, *args: Any) -> asyncio.Future:
        """`call(*args)` in a pool thread, as a future of `loop`."""
        future = loop.create_future()
        self._jobs.put((loop, future, call, args))
        return future

    def shutdown(self) -> None:
        """Let the calls queued and running finish, then end the threads."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, call, args = job
            try:
                outcome = (future, call(*args), None)
            except BaseException as error:
                outcome = (future, None, error)
            del job, call, args
            self._finished.append(outcome)
            del outcome
            with self._lock:
                if self._wake_pending:
                    continue
                self._wake_pending = True
            with contextlib.suppress(RuntimeError):  # the loop has closed: no one waits
                loop.call_soon_threadsafe(self._hand_back)

    def _hand_back(self) -> None:
        with self._lock:
            self._wake_pending = False
        finished = self._finished
        while finished:
            future, result, error = finished.popleft()
            if future.cancelled():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)


class _StartResponse:
    __slots__ = ("headers", "status", "written")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []

    def __call__(self, status: str, headers: list, exc_info: Any = None) -> Callable[[bytes], None]:
        self.status = int(status[:3])
        self.headers = headers
        return self.written.append


class _Rest:
    """The rest of a streamed answer, and the app's iterable to close at its end."""

    __slots__ = ("iterator", "result")

    def __init__(self, result: Iterable[bytes], iterator: Iterator[bytes]):
        self.result = result
        self.iterator = iterator


def _next_chunk(rest: _Rest) -> bytes:
    """The next non-empty chunk of a streamed answer; b"" at its end."""
    for chunk in rest.iterator:
        if chunk:
            return chunk
    return b""


def _close(result: Any) -> None:
    if isinstance(result, _Rest):
        result = result.result
    close = getattr(result, "close", None)
    if close is not None:
        close()


@functools.lru_cache(maxsize=256)
def _environ_key(header: str) -> str:
    if header == "content-type":
        return "CONTENT_TYPE"
    if header == "content-length":
        return "CONTENT_LENGTH"
    return "HTTP_" + header.upper().replace("-", "_")
