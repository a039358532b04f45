"""An httpx transport over libcurl (pycurl), for Kard's API: httpx stays the interface (and the
test seam), libcurl does the HTTP/1.1 in C.

Measured against the bench's upstream (a 29 KB offers page): urllib3's pool spent about 600 µs
of CPU per call, most of it in http.client's header parsing and urllib3's URL checks; libcurl
spends about 120 µs. Each thread keeps one curl handle, and with it its kept-alive connections,
so no lock is taken per call; a forked child starts with none.

Each answer is read whole, as Kard's JSON is (storage's streamed files go through httpx's own
transport). Redirects are never followed, no proxy is used (the Kard client picks httpx's own
transport when the environment names one) and nothing is retried here: the Kard client decides
what is safe to retry. Bodies are passed through undecoded, so httpx decodes them as it would its
own. libcurl's errors become the httpx exceptions httpcore would have raised. TLS trusts what
httpx trusts: `SSL_CERT_FILE`, else `SSL_CERT_DIR`, else certifi.
"""

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import certifi
import httpx
import pycurl

# A header curl would add on its own, each sent empty so it is not: a body's form Content-Type,
# and `Expect: 100-continue`, which costs a round trip on large bodies.
_NO_EXPECT = b"Expect:"
_NO_FORM_TYPE = b"Content-Type:"
RECEIVE_BUFFER_BYTES = 256 * 1024  # what one write hands over: a Kard page in one piece
# The request's headers that curl writes itself from the body it is given.
_CURL_WRITES = frozenset({b"transfer-encoding", b"content-length"})

_CONNECT_FAILURES = frozenset(
    {
        pycurl.E_COULDNT_RESOLVE_HOST,
        pycurl.E_COULDNT_CONNECT,
        pycurl.E_SSL_CONNECT_ERROR,
        pycurl.E_PEER_FAILED_VERIFICATION,
    }
)
# CURLE_WEIRD_SERVER_REPLY (8, an answer that is not HTTP) keeps its old FTP name in pycurl.
_BROKEN_ANSWERS = frozenset(
    {pycurl.E_PARTIAL_FILE, pycurl.E_GOT_NOTHING, pycurl.E_FTP_WEIRD_SERVER_REPLY}
)


class CurlTransport(httpx.BaseTransport):
    """Send httpx requests through libcurl: one handle, and its connections, per thread."""

    def __init__(self) -> None:
        self._trust = _trusted_certificates()
        self._handles: list[pycurl.Curl] = []
        self._handles_lock = threading.Lock()
        self._local = threading.local()
        _TRANSPORTS.add(self)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        curl = self._handle()
        curl.reset()
        received: list[bytes] = []
        curl.setopt(pycurl.URL, str(request.url))
        curl.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)  # not HTTP/2 over TLS
        curl.setopt(pycurl.PATH_AS_IS, 1)  # httpx has normalized the path already
        curl.setopt(pycurl.NOSIGNAL, 1)  # timeouts without SIGALRM: the caller is a thread
        curl.setopt(pycurl.PROXY, "")  # never a proxy from the environment
        # The heads come in the same stream as the body, in the same writes: each write takes the
        # interpreter lock again, which contended threads pay for in switches.
        curl.setopt(pycurl.HEADER, 1)
        curl.setopt(pycurl.BUFFERSIZE, RECEIVE_BUFFER_BYTES)
        curl.setopt(pycurl.WRITEFUNCTION, received.append)
        curl.setopt(pycurl.HTTPHEADER, self._header_lines(request))
        for option, value in self._trust:
            curl.setopt(option, value)
        _set_method(curl, request.method, request.read())
        connect_ms, total_ms = _timeouts_ms(request.extensions.get("timeout"))
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, connect_ms)
        curl.setopt(pycurl.TIMEOUT_MS, total_ms)
        with _httpx_errors(request, curl):
            curl.perform()
        status, version, reason, headers, body = _parse_answer(b"".join(received))
        return httpx.Response(
            status,
            headers=headers,
            content=body,
            extensions={"http_version": version, "reason_phrase": reason},
        )

    def close(self) -> None:
        with self._handles_lock:
            handles, self._handles = self._handles, []
            self._local = threading.local()
        for curl in handles:
            curl.close()

    def _handle(self) -> pycurl.Curl:
        curl = getattr(self._local, "curl", None)
        if curl is None:
            curl = self._local.curl = pycurl.Curl()
            with self._handles_lock:
                self._handles.append(curl)
        return curl

    def _forget_handles(self) -> None:
        # The parent's connections are the parent's: a child opens its own, and keeps the
        # parent's handles unclosed, as closing one could write to the parent's connection.
        _INHERITED.extend(self._handles)
        self._handles, self._local = [], threading.local()
        self._handles_lock = threading.Lock()

    @staticmethod
    def _header_lines(request: httpx.Request) -> list[bytes]:
        lines = [
            name + b": " + value
            for name, value in request.headers.raw
            if name.lower() not in _CURL_WRITES
        ]
        if "content-type" not in request.headers:
            lines.append(_NO_FORM_TYPE)
        lines.append(_NO_EXPECT)
        return lines


_TRANSPORTS: "weakref.WeakSet[CurlTransport]" = weakref.WeakSet()
_INHERITED: list[pycurl.Curl] = []


def _after_fork_in_child() -> None:
    for transport in list(_TRANSPORTS):
        transport._forget_handles()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _set_method(curl: pycurl.Curl, method: str, body: bytes) -> None:
    if method == "HEAD":
        curl.setopt(pycurl.NOBODY, 1)
    elif method != "GET" or body:
        if method != "POST":
            curl.setopt(pycurl.CUSTOMREQUEST, method)
        if body or method in ("POST", "PUT", "PATCH"):
            curl.setopt(pycurl.POSTFIELDSIZE_LARGE, len(body))
            curl.setopt(pycurl.POSTFIELDS, body)  # pycurl keeps the bytes until the next reset


def _timeouts_ms(timeouts: dict[str, float | None] | None) -> tuple[int, int]:
    """libcurl's connect timeout and whole-call timeout from httpx's: the call may take its
    connect time and then its read time (0: no limit)."""
    timeouts = timeouts or {}
    connect, read = timeouts.get("connect"), timeouts.get("read")
    connect_ms = round(connect * 1000) if connect else 0
    total_ms = connect_ms + round(read * 1000) if read else 0
    return connect_ms, total_ms


def _parse_answer(answer: bytes) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]], bytes]:
    """The status, HTTP version, reason, headers and body of an answer as curl received it,
    heads included: the last head is the answer's (a `100 Continue` can come first)."""
    start = 0
    while True:
        end = answer.find(b"\r\n\r\n", start)
        if end < 0:
            raise httpx.RemoteProtocolError("The answer's head did not end.")
        status_line, *lines = answer[start:end].split(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        status_text, _, reason = rest.partition(b" ")
        start = end + 4
        if not status_text.startswith(b"1"):
            break
    headers = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if colon:
            headers.append((name.strip(), value.strip()))
    return int(status_text), version, reason, headers, answer[start:]


def _trusted_certificates() -> list[tuple[int, str]]:
    """Where TLS certificates are trusted from, as httpx.create_ssl_context reads it."""
    if os.environ.get("SSL_CERT_FILE"):
        return [(pycurl.CAINFO, os.environ["SSL_CERT_FILE"])]
    if os.environ.get("SSL_CERT_DIR"):
        return [(pycurl.CAPATH, os.environ["SSL_CERT_DIR"])]
    return [(pycurl.CAINFO, certifi.where())]


@contextmanager
def _httpx_errors(request: httpx.Request, curl: pycurl.Curl) -> Iterator[None]:
    """Raise libcurl's errors as the httpx exceptions the Kard client translates."""
    try:
        yield
    except pycurl.error as exc:
        code, message = exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else ""
        if code in _CONNECT_FAILURES:
            raise httpx.ConnectError(message, request=request) from exc
        if code == pycurl.E_OPERATION_TIMEDOUT:
            connected = curl.getinfo(pycurl.CONNECT_TIME) > 0
            timeout = httpx.ReadTimeout if connected else httpx.ConnectTimeout
            raise timeout(message, request=request) from exc
        if code in _BROKEN_ANSWERS:
            raise httpx.RemoteProtocolError(message, request=request) from exc
        if code == pycurl.E_SEND_ERROR:
            raise httpx.WriteError(message, request=request) from exc
        if code == pycurl.E_RECV_ERROR:
            raise httpx.ReadError(message, request=request) from exc
        raise httpx.TransportError(message, request=request) from exc
