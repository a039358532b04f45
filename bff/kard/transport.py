"""An httpx transport over urllib3's connection pool, for Kard's API: httpx stays the interface
(and the test seam), urllib3 does the HTTP/1.1.

Each answer is read whole, as Kard's JSON is (storage's streamed files go through httpx's own
transport). Redirects are never followed and nothing is retried here (the Kard client decides what
is safe to retry); bodies are passed through undecoded, so httpx decodes them as it would its own.
urllib3's errors become the httpx exceptions httpcore would have raised.
"""

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

# Idle connections kept per host: one per thread that called at once, up to the 100 connections
# httpx.Limits allowed (urllib3 warns on every connection it cannot keep, so not httpx's 20 idle).
KEEPALIVE_CONNECTIONS = 100
HTTP_VERSIONS = {10: b"HTTP/1.0", 11: b"HTTP/1.1"}


class Urllib3Transport(httpx.BaseTransport):
    """Send httpx requests through one thread-safe urllib3 pool manager."""

    def __init__(self, keepalive_connections: int = KEEPALIVE_CONNECTIONS):
        # httpx's SSL context (certifi, SSL_CERT_FILE): TLS trusts what it trusted before.
        self._pools = urllib3.PoolManager(
            maxsize=keepalive_connections, block=False, ssl_context=httpx.create_ssl_context()
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        with _httpx_errors(request):
            pool = self._pools.connection_from_host(url.host, url.port, url.scheme)
            response = pool.urlopen(
                request.method,
                url.raw_path.decode("ascii"),
                body=request.read() or None,
                headers=_headers(request),
                redirect=False,
                retries=False,
                assert_same_host=False,
                timeout=_timeout(request.extensions.get("timeout")),
                decode_content=False,
            )
        return httpx.Response(
            response.status,
            headers=list(response.headers.items()),
            content=response.data,
            extensions={
                "http_version": HTTP_VERSIONS.get(response.version, b"HTTP/1.1"),
                "reason_phrase": (response.reason or "").encode("ascii", "ignore"),
            },
        )

    def close(self) -> None:
        self._pools.clear()


def _headers(request: httpx.Request) -> urllib3.HTTPHeaderDict:
    """The request's headers as httpx spelled them, repeats kept."""
    headers = urllib3.HTTPHeaderDict()
    for name, value in request.headers.raw:
        headers.add(name.decode("latin-1"), value.decode("latin-1"))
    return headers


@functools.lru_cache(maxsize=64)
def _urllib3_timeout(connect: float | None, read: float | None) -> urllib3.Timeout:
    return urllib3.Timeout(connect=connect, read=read)


def _timeout(timeouts: dict[str, float | None] | None) -> urllib3.Timeout:
    """urllib3's timeout from httpx's (`connect` also bounds sending, as urllib3 applies it)."""
    timeouts = timeouts or {}
    return _urllib3_timeout(timeouts.get("connect"), timeouts.get("read"))


@contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    """Raise urllib3's errors as the httpx exceptions the Kard client translates."""
    try:
        yield
    except NewConnectionError as exc:  # a subclass of ConnectTimeoutError: test it first
        raise httpx.ConnectError(str(exc), request=request) from exc
    except ConnectTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc), request=request) from exc
    except ReadTimeoutError as exc:
        raise httpx.ReadTimeout(str(exc), request=request) from exc
    except ProtocolError as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request) from exc
    except DecodeError as exc:
        raise httpx.DecodingError(str(exc), request=request) from exc
    except HTTPError as exc:
        raise httpx.TransportError(str(exc), request=request) from exc
