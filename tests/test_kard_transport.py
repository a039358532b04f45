"""The libcurl transport behind httpx, over real sockets: bodies, timeouts, refused connections,
keep-alive, redirects, proxies, and the errors the Kard client translates."""

import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.harness import free_port
from bff.errors import KardUnreachable
from bff.kard import KardClient
from bff.kard.transport import CurlTransport
from bff.redact import redact_logs
from bff.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from tests.kard_documents import impression

BIG = bytes(range(256)) * 20_000  # 5 MB


class Upstream(ThreadingHTTPServer):
    """An HTTP/1.1 test server that counts connections and keeps what it was sent."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        if self.path.endswith("/v2/auth/token"):
            self._send(200, b'{"access_token": "t", "expires_in": 3600}')
        elif self.path == "/redirect":
            self._send(302, b"", [("Location", "/target")])
        elif self.path == "/big":
            self._send(200, BIG)
        elif self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only ten b")
            self.close_connection = True
        else:
            echo = {"method": self.command, "path": self.path, "length": len(body)}
            if body and len(body) < 1000 and body[:1] == b"{":
                echo["body"] = orjson.loads(body)
            self._send(200, orjson.dumps(echo), [("Content-Type", "application/json")])

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def do_HEAD(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers), b""))
        self.send_response(204)
        self.end_headers()

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        self.send_header("Set-Cookie", f"balancer={self.path}; Path=/")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(autouse=True)
def _enrolled(simulator):
    """Kard answers for the users it has enrolled: these tests' users are."""
    for user_id in ("user-1", "user-2"):
        simulator.enroll(user_id)


@contextmanager
def upstream() -> Iterator[tuple[Upstream, str]]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def silent_server() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def http():
    with httpx.Client(transport=CurlTransport(), timeout=5.0) as client:
        yield client


def test_get_and_post_json_round_trip(http):
    with upstream() as (server, url):
        got = http.get(url + "/a/b%2Fc?x=1&y=%20")
        posted = http.post(url + "/items", json={"data": [1, "two"]})
    assert got.status_code == 200
    assert got.json() == {"method": "GET", "path": "/a/b%2Fc?x=1&y=%20", "length": 0}
    assert posted.json()["body"] == {"data": [1, "two"]}
    _, _, headers, _ = server.requests[1]
    assert headers["Content-Type"] == "application/json"


def test_the_kard_client_uses_it_against_the_simulator(simulator, kard_url):
    client = _client(kard_url)
    try:
        assert isinstance(client._api, CurlTransport)
        offers = client.offers("user-1", [("page[size]", "2")])
        event = impression()
        created = client.create_attributions("user-1", [event])
    finally:
        client.close()
    assert offers.status == 200 and len(offers.body["data"]) == 2
    assert 200 <= created.status < 300


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("DELETE", b""),
        ("PATCH", b'{"a": 1}'),
        ("PUT", b"\x00raw\x00"),
        ("POST", b""),
        ("GET", b"x"),
    ],
)
def test_every_method_goes_with_exactly_its_body(http, method, body):
    with upstream() as (server, url):
        answer = http.request(method, url + "/things/1", content=body)
    echo = answer.json()
    assert (echo["method"], echo["path"], echo["length"]) == (method, "/things/1", len(body))
    sent_method, _, headers, sent = server.requests[0]
    assert (sent_method, sent) == (method, body)
    # Nothing curl adds on its own: no form Content-Type, no `Expect: 100-continue`.
    assert "Content-Type" not in headers and "Expect" not in headers


def test_head_has_no_body(http):
    with upstream() as (server, url):
        answer = http.head(url + "/x")
    assert answer.status_code == 204 and answer.content == b""
    assert server.requests[0][0] == "HEAD"


def test_each_thread_keeps_its_own_connection(http):
    with upstream() as (server, url):
        threads = [
            threading.Thread(target=lambda: [http.get(url + "/x") for _ in range(5)])
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(server.requests) == 20
    assert server.connections == 4


def test_connections_are_kept_alive_and_reused(http):
    with upstream() as (server, url):
        for _ in range(20):
            assert http.get(url + "/x").status_code == 200
        assert http.get(url + "/big").content == BIG
        assert http.get(url + "/x").status_code == 200
    assert server.connections == 1


def test_redirects_are_not_followed(http):
    with upstream() as (server, url):
        response = http.get(url + "/redirect")
    assert response.status_code == 302
    assert response.headers["Location"] == "/target"
    assert [path for _, path, _, _ in server.requests] == ["/redirect"]


def test_big_bodies_go_and_come_whole(http):
    with upstream() as (server, url):
        sent = http.post(url + "/upload", content=BIG)
        got = http.get(url + "/big")
    assert sent.json()["length"] == len(BIG)
    assert server.requests[0][3] == BIG
    assert got.content == BIG


def test_a_truncated_body_is_a_protocol_error(http):
    with upstream() as (_, url), pytest.raises(httpx.RemoteProtocolError):
        http.get(url + "/truncated")


def test_a_server_that_never_answers_times_out(http):
    with silent_server() as url, pytest.raises(httpx.ReadTimeout):
        http.get(url + "/x", timeout=0.3)


@contextmanager
def tls_upstream(directory: Path) -> Iterator[tuple[str, Path]]:
    """The test upstream over TLS, with a self-signed certificate for 127.0.0.1 (its file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    with upstream() as (server, url):
        server.socket = context.wrap_socket(server.socket, server_side=True)
        yield url.replace("http://", "https://"), cert_file


def test_tls_trusts_ssl_cert_file_and_nothing_else(tmp_path, monkeypatch):
    with tls_upstream(tmp_path) as (url, cert_file):
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        with (
            httpx.Client(transport=CurlTransport()) as untrusting,
            pytest.raises(httpx.ConnectError),
        ):
            untrusting.get(url + "/x")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
        with httpx.Client(transport=CurlTransport()) as trusting:
            answer = trusting.get(url + "/x")
    assert answer.json()["path"] == "/x"
    assert answer.http_version == "HTTP/1.1"


def test_a_refused_connection_is_a_connect_error(http):
    with pytest.raises(httpx.ConnectError):
        http.get(f"http://127.0.0.1:{free_port()}/x")


def _client(url: str, token_url: str | None = None, **options) -> KardClient:
    return KardClient(
        api_url=url,
        token_url=token_url or f"{url}/v2/auth/token",
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        organization_id="org-sandbox",
        **options,
    )


def test_kard_that_never_answers_is_a_504_in_the_app(make_app):
    with silent_server() as url:
        client = make_app(KARD_API_URL=url, KARD_TIMEOUT="0.3").test_client()
        # Minted by a sandbox on the same state (dev key): this one's /dev/session asks Kard.
        minted = make_app().test_client().post("/dev/session", json={"userId": "user-1"})
        token = minted.get_json()["token"]
        answer = client.get("/api/v1/offers", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 504
    assert answer.get_json()["errors"][0]["status"] == "504"


def test_refused_connections_are_retried_then_502(kard_url):
    sleeps: list[float] = []
    token_url = f"{kard_url}/v2/auth/token"
    client = _client(f"http://127.0.0.1:{free_port()}", token_url, sleep=sleeps.append)
    with pytest.raises(KardUnreachable) as caught:
        client.offers("user-1", [])
    assert caught.value.status == 502
    assert len(sleeps) == 2  # three attempts, as for any request that never left


def test_kard_calls_carry_the_clients_headers_and_never_a_cookie_kard_set():
    with upstream() as (server, url):
        client = _client(url)
        try:
            client.offers("user-1", [])
            client.offers("user-2", [])
        finally:
            client.close()
    first, second = (headers for _, path, headers, _ in server.requests if "/users/" in path)
    assert first["Authorization"] == second["Authorization"] == "Bearer t"
    assert first["Accept"] == "application/json" and first["User-Agent"] == "kard-bff"
    assert "Cookie" not in second  # no cookie from one user's answer goes with another's call


def test_no_debug_line_about_a_kard_call_carries_a_query_value(caplog):
    redact_logs()
    with upstream() as (_, url), caplog.at_level(logging.DEBUG):
        client = _client(url)
        try:
            client.user_action("user-1", "GET", ["offers"], [("secret", "S3CR3T"), ("sort", "x")])
        finally:
            client.close()
    assert "kard GET /v2/issuers/{org}/users/{user}/offers -> 200" in caplog.text
    assert "S3CR3T" not in caplog.text


@pytest.fixture
def proxy(monkeypatch):
    """A recording HTTP proxy named by HTTP_PROXY, and no other proxy setting."""
    for name in ("NO_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with upstream() as (server, url):
        monkeypatch.setenv("HTTP_PROXY", url)
        yield server


def test_a_proxy_in_the_environment_carries_every_call(proxy):
    client = _client("http://kard.invalid")
    try:
        answer = client.offers("user-1", [])
    finally:
        client.close()
    assert answer.body["method"] == "GET"
    assert [path for _, path, _, _ in proxy.requests] == [
        "http://kard.invalid/v2/auth/token",
        "http://kard.invalid/v2/issuers/org-sandbox/users/user-1/offers",
    ]


def test_no_proxy_exempts_kards_host(proxy, monkeypatch, simulator, kard_url):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    client = _client(kard_url)
    try:
        assert client.offers("user-1", []).status == 200
    finally:
        client.close()
    assert proxy.requests == []
