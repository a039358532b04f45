"""`kard-bff serve` in production: slow and idle clients never stop others from being served."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import orjson
import pytest

from bench.harness import free_port
from tests.servers import ROOT, ServerProcess

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 2.0
IDLE = 200
TRICKLING = 50
# Never complete: a request line, then a header longer than the timeout lets a byte a second send.
TRICKLED = b"GET /healthz HTTP/1.1\r\nHost: bff\r\nX-Slow: " + b"a" * 1000


class Trickler:
    """Sockets that each send one byte a second of a request; notes when the server closes each."""

    def __init__(self, port: int, count: int):
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        self.opened = time.monotonic()
        self.closed_after: list[float] = []
        self.answers: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()

    def _run(self) -> None:
        sent = 0
        while self.sockets and not self._stop.is_set():
            for sock in list(self.sockets):
                if self._closed(sock):
                    self.closed_after.append(time.monotonic() - self.opened)
                    self.sockets.remove(sock)
                    sock.close()
                else:
                    sock.send(TRICKLED[sent : sent + 1])
            sent += 1
            self._stop.wait(1.0)

    def _closed(self, sock: socket.socket) -> bool:
        sock.setblocking(False)
        try:
            data = sock.recv(65_536)
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            sock.setblocking(True)
        if data:
            self.answers.append(data)
        return True


def _env(kard_url: str, tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "KARD_API_URL": kard_url,
        "BFF_STATE_DIR": str(tmp_path),
        "BFF_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "BFF_BODY_TIMEOUT": str(BODY_TIMEOUT),
    }


@pytest.fixture
def bff(kard_url, tmp_path):
    with ServerProcess(["serve"], env=_env(kard_url, tmp_path)) as server:
        yield server


def _timed_get(url: str, **options) -> tuple[int, float]:
    started = time.monotonic()
    status = httpx.get(url, timeout=5.0, **options).status_code
    return status, time.monotonic() - started


def test_idle_and_trickling_clients_never_stop_others_and_are_cut_off(bff):
    token = httpx.post(f"{bff.url}/dev/session", json={"userId": "u-1"}).json()["token"]
    as_user = {"Authorization": f"Bearer {token}"}
    idle = [socket.create_connection(("127.0.0.1", bff.port)) for _ in range(IDLE)]
    for sock in idle[::2]:
        sock.send(b"G")  # half say nothing at all, half one byte, then wait
    trickler = Trickler(bff.port, TRICKLING)
    try:
        while time.monotonic() - trickler.opened < HEADER_TIMEOUT - 0.5:
            health = _timed_get(f"{bff.url}/healthz")
            offers = _timed_get(f"{bff.url}/api/v1/offers", headers=as_user)
            assert health[0] == 200 and health[1] < 1.0, health
            assert offers[0] == 200 and offers[1] < 1.0, offers
            time.sleep(0.2)
        deadline = trickler.opened + HEADER_TIMEOUT + 5
        while trickler.sockets and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not trickler.sockets, "trickling clients still connected"
        assert min(trickler.closed_after) >= HEADER_TIMEOUT - 0.5, trickler.closed_after
        assert max(trickler.closed_after) <= HEADER_TIMEOUT + 1.5, trickler.closed_after
        assert trickler.answers == [], "a cut-off client gets no half-made answer"
        for sock in idle:
            sock.settimeout(2.0)
            assert sock.recv(1) == b""  # cut off too
    finally:
        trickler.stop()
        for sock in idle:
            sock.close()


# More slow bodies of each kind than `kard-bff serve` has threads (8): each would hold one.
SLOW_BODIES = 10
BODY_HEAD = (
    b"POST /dev/session HTTP/1.1\r\nHost: bff\r\nContent-Type: application/json\r\n"
    b"Content-Length: 5000\r\nX-Request-ID: slow-body\r\n\r\n{"
)


class SlowBodies:
    """Requests whose headers come whole but whose body does not: `trickling` ones send a byte
    every 0.2 s, `silent` ones nothing more. Notes each answer, and when its connection closed."""

    def __init__(self, port: int, trickling: int, silent: int):
        self.trickling = [socket.create_connection(("127.0.0.1", port)) for _ in range(trickling)]
        self.silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(silent)]
        for sock in self.trickling + self.silent:
            sock.sendall(BODY_HEAD)
            sock.setblocking(False)
        self.opened = time.monotonic()
        self.answers: dict[socket.socket, bytes] = {s: b"" for s in self.trickling + self.silent}
        self.closed_after: dict[socket.socket, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> None:
        self._thread.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.answers:
            sock.close()

    def _run(self) -> None:
        while len(self.closed_after) < len(self.answers) and not self._stop.is_set():
            for sock in self.answers:
                if sock in self.closed_after:
                    continue
                try:
                    data = sock.recv(65_536)
                except BlockingIOError:
                    if sock in self.trickling:
                        with contextlib.suppress(OSError):
                            sock.send(b" ")
                    continue
                except OSError:
                    data = b""
                self.answers[sock] += data
                if not data:
                    self.closed_after[sock] = time.monotonic() - self.opened
            self._stop.wait(0.2)


def test_slow_and_silent_bodies_get_a_408_at_the_body_timeout_and_hold_no_thread(bff):
    slow = SlowBodies(bff.port, trickling=SLOW_BODIES, silent=SLOW_BODIES)
    try:
        time.sleep(0.3)  # every slow request has its headers in
        while time.monotonic() - slow.opened < BODY_TIMEOUT - 0.3:
            health = _timed_get(f"{bff.url}/healthz")
            assert health[0] == 200 and health[1] < 1.0, health
            time.sleep(0.2)
        answered = httpx.post(f"{bff.url}/dev/session", json={"userId": "u-1"}, timeout=1.0)
        assert answered.status_code == 200 and answered.json()["token"]
        slow.wait(timeout=BODY_TIMEOUT + 3)
        assert len(slow.closed_after) == len(slow.answers), "slow bodies still connected"
        assert min(slow.closed_after.values()) >= BODY_TIMEOUT - 0.3, slow.closed_after
        assert max(slow.closed_after.values()) <= BODY_TIMEOUT + 1.0, slow.closed_after
        for answer in slow.answers.values():
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408 "), answer
            assert b"\r\nx-request-id: slow-body\r\n" in head.lower(), answer
            error = orjson.loads(body)["errors"][0]
            assert error["status"] == "408" and error["title"] == "Request Timeout", error
    finally:
        slow.stop()


def test_sigterm_does_not_wait_past_the_body_timeout_for_a_silent_body(kard_url, tmp_path):
    with ServerProcess(["serve"], env=_env(kard_url, tmp_path)) as server:
        silent = SlowBodies(server.port, trickling=0, silent=1)
        time.sleep(0.3)  # its headers are in when SIGTERM comes
    stopped_after = time.monotonic() - silent.opened  # leaving the block waited for the exit
    silent.stop()
    assert stopped_after < BODY_TIMEOUT + 1.5, stopped_after
    assert "Granian shutdown completed" in server.output


BOOTS = 20
WORKERS = 8


def _boot(env: dict[str, str], log_path) -> str:
    """Start `kard-bff serve --workers 8` until every worker has started and /healthz answers,
    then stop it with SIGTERM; return what it printed."""
    port = free_port()
    command = ["serve", "--port", str(port), "--workers", str(WORKERS)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bff.cli", *command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        started: set[str] = set()
        while len(started) < WORKERS and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            started = set(re.findall(r"Started worker-(\d+)", log_path.read_text()))
        assert len(started) == WORKERS, log_path.read_text()
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    output = log_path.read_text()
    assert process.returncode == 0, output
    return output


def test_eight_workers_boot_on_a_fresh_state_directory_twenty_times_in_a_row(tmp_path):
    env = {**os.environ, "KARD_ENV": "sandbox"}
    for boot in range(BOOTS):
        env["BFF_STATE_DIR"] = str(tmp_path / f"state-{boot}")
        output = _boot(env, tmp_path / f"boot-{boot}.log")
        assert "Traceback" not in output and "locked" not in output, output


def test_sigterm_lets_a_request_in_flight_finish(simulator, kard_url, tmp_path):
    env = {**os.environ, "KARD_API_URL": kard_url, "BFF_STATE_DIR": str(tmp_path)}
    simulator.faults.inject(delay=1.5, path=r"/offers$")  # Kard answers slowly
    answers: list[int] = []
    with ServerProcess(["serve"], env=env) as server:
        token = httpx.post(f"{server.url}/dev/session", json={"userId": "u-1"}).json()["token"]
        request = threading.Thread(
            target=lambda: answers.append(
                httpx.get(
                    f"{server.url}/api/v1/offers",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                ).status_code
            )
        )
        request.start()
        time.sleep(0.5)  # the request is in flight when SIGTERM comes
    request.join()
    assert answers == [200]
    assert "Granian shutdown completed" in server.output
