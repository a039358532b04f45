"""Servers for tests over real HTTP: a WSGI app in a thread, or a `kard-bff` command."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from werkzeug.serving import make_server

from bench.harness import free_port

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def serve(app, port: int = 0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at `port` (default: a free one); yield its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def kard_bff(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run one `kard-bff` command to its end in its own process; its output as text. It runs
    where the tests run (a temp directory: see conftest), so a command left on the default
    `BFF_STATE_DIR` keeps its state there, not in the checkout."""
    return subprocess.run(
        [sys.executable, "-m", "bff.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class ServerProcess:
    """A `kard-bff` server (`serve`, `sandbox`) run as its own process, for end-to-end tests."""

    def __init__(
        self,
        args: list[str],
        *,
        env: dict[str, str],
        health_path: str = "/healthz",
        module: str = "bff.cli",  # or another server taking --port: `flask`
        log: Path | None = None,  # its output goes there, for a server that logs a lot
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = ""
        self._args = [*args, "--port", str(self.port)]
        self._env = env
        self._health_path = health_path
        self._module = module
        self.log = log
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> "ServerProcess":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, env: dict[str, str] | None = None) -> None:
        """Start the server (with `env` instead of its environment, kept for the next start)
        and wait until it answers on its own port."""
        assert not self.running, "already running"
        if env is not None:
            self._env = env
        output = subprocess.PIPE if self.log is None else self.log.open("a")
        self._process = subprocess.Popen(
            [sys.executable, "-m", self._module, *self._args],
            cwd=ROOT,
            env=self._env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: gunicorn's workers go with it
        )
        if self.log is not None:
            output.close()  # the child holds its own copy
        try:
            self._wait_until_serving()
        except BaseException:
            self.kill()  # one that never served is not left running
            raise

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (SIGTERM to its process group, SIGKILL past `timeout`: nothing of it
        outlives the test) and keep its output."""
        self._end(signal.SIGTERM, timeout)
        self._signal(signal.SIGKILL)  # a worker its server left behind, if any
        if self.log is not None:
            self.output = self.log_text()

    def interrupt(self, timeout: float = 30.0) -> int:
        """Stop the server as Ctrl-C does (SIGINT to its process group, SIGKILL past
        `timeout`), and keep its output; its exit status."""
        return self._end(signal.SIGINT, timeout)

    def _end(self, signum: int, timeout: float) -> int:
        assert self._process is not None
        self._signal(signum)
        try:
            self.output, _ = self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return self._process.returncode

    def log_text(self) -> str:
        """What the server wrote to its `log` so far (every start's, one after the other)."""
        assert self.log is not None
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the server and its workers at once, as a crash would."""
        self._signal(signal.SIGKILL)
        assert self._process is not None
        self._process.wait(timeout=30)

    def _signal(self, signum: int) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signum)

    def _wait_until_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                output = self._process.communicate()[0] if self.log is None else self.log_text()
                raise AssertionError(f"server exited: {output}")
            try:
                httpx.get(self.url + self._health_path, timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"nothing served {self.url} within {timeout} s")


def require_tool(available: bool, name: str, package: str) -> None:
    """Skip the test when a Debian tool that `make test` installs is missing; fail it in CI."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} is missing; make test installs the {package} package")
    pytest.skip(f"{name} is not installed (make test installs the {package} package)")


class RedisServer:
    """A real `redis-server` on a loopback port, which a test may stop and start again (same
    port, same data directory)."""

    def __init__(self, directory: Path, *, args: tuple[str, ...] = ("--save", "")):
        binary = shutil.which("redis-server")
        require_tool(binary is not None, "redis-server", "redis-server")
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._command = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        self._command += ["--dir", str(directory), *args]
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "RedisServer":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, timeout: float = 20.0) -> None:
        """Start the server and wait until it answers."""
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (SIGTERM: it saves what its persistence settings say it must)."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=20)
            self._process = None
