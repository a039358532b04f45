"""Shared fixtures: the Kard simulator on a real port, BFF apps pointed at it, a CLI runner."""

import os
import shutil
import subprocess
import time

import pytest
import redis
from click.testing import CliRunner

from bff.sandbox import Simulator, create_simulator_app
from tests.servers import free_port, serve


@pytest.fixture(scope="session")
def _simulator_server():
    simulator = Simulator()
    with serve(create_simulator_app(simulator)) as url:
        yield simulator, url


@pytest.fixture
def simulator(_simulator_server):
    """The Kard simulator, reset to a clean state (no faults, no calls, no user state)."""
    simulator, _ = _simulator_server
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture
def kard_url(_simulator_server, simulator) -> str:
    """Base URL of the simulator served over real HTTP (the Kard API root)."""
    return _simulator_server[1]


@pytest.fixture
def as_user(client):
    """`as_user(user_id)` gives request headers with a dev session token for that user
    (from the test module's `client`, a sandbox app)."""

    def headers(user_id: str) -> dict[str, str]:
        token = client.post("/dev/session", json={"userId": user_id}).get_json()["token"]
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def runner(monkeypatch):
    """A runner for `kard-bff` commands, with none of the BFF's settings from the environment."""
    for name in ("KARD_ENV", "KARD_API_URL", "BFF_AUTH_MODE", "BFF_THEMES_DIR"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server on a free loopback port (installed by `make test`)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing; make test installs it")
        pytest.skip("redis-server is not installed (make test installs it)")
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture
def clean_redis(redis_url):
    """The Redis server, emptied before the test."""
    redis.Redis.from_url(redis_url).flushall()
    return redis_url


@pytest.fixture(scope="session", autouse=True)
def _run_in_a_temp_dir(tmp_path_factory):
    """Run the tests in a temp directory: what lands relative to where they run (hypothesis's
    database, an app or command left on the default `BFF_STATE_DIR`) never lands in the checkout."""
    directory = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(directory)
        # Hypothesis took the directory pytest started in (the checkout) when it was imported.
        monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(directory / ".hypothesis"))
        yield
