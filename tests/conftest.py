"""Shared fixtures: the Kard simulator on a real port, Kard clients of it, BFF apps on each test's
own state directory (pointed at the simulator, or with the one embedded in them), a clock a test
moves, a CLI runner; and every answer a test client of a BFF app gets checked against the app's
OpenAPI document (tests/openapi_conformance.py)."""

import contextlib
import os
import tempfile
import time
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from bff import create_app, stop_workers
from bff.kard import KardClient
from bff.sandbox import Simulator, create_simulator_app
from bff.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from tests import openapi_conformance
from tests.servers import RedisServer, serve

# Hypothesis keeps its example database and a cache of constants in `.hypothesis` where pytest
# starts (the checkout), and it first looks while the test modules are collected: point it at a
# temp folder before then.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "kard-bff-hypothesis")
)


@pytest.fixture(autouse=True)
def _answers_match_the_openapi_document(request, monkeypatch):
    """Check every answer a test client of a BFF app gets against the app's OpenAPI document,
    but those for the paths a test exempts with `@pytest.mark.openapi_exempt(path, ...)`."""
    exempt = [path for mark in request.node.iter_markers("openapi_exempt") for path in mark.args]
    monkeypatch.setattr(Flask, "test_client_class", openapi_conformance.client_class(exempt))


def pytest_terminal_summary(terminalreporter):
    """Say how many test-client answers were checked against the OpenAPI document."""
    tally = openapi_conformance.TALLY
    if tally:
        checked = tally["operation"] + tally["error shape"]
        others = ", ".join(f"{count} {what}" for what, count in sorted(tally.items()))
        documents = len(openapi_conformance.DOCUMENTS)
        terminalreporter.write_line(
            f"OpenAPI conformance: {checked} answers checked against {documents} documents"
            f" ({others})"
        )


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
def make_kard():
    """`make_kard(**options)` serves a simulator of the test's own, `Simulator(**options)`, over
    real HTTP (for what the session's does not have, such as other credentials); it returns the
    simulator and its URL, and stops serving when the test ends."""
    with contextlib.ExitStack() as stack:

        def make(**options) -> tuple[Simulator, str]:
            simulator = Simulator(**options)
            return simulator, stack.enter_context(serve(create_simulator_app(simulator)))

        yield make


@pytest.fixture
def state_dir(tmp_path) -> Path:
    """This test's `BFF_STATE_DIR`: where its apps keep the dev key, the outbox and the inbox."""
    return tmp_path / "state"


@pytest.fixture
def make_app(state_dir):
    """`make_app(**config)` builds a sandbox BFF on this test's state directory, with `config`
    (environment-style names; an empty value unsets one) and `clock=` (the time its views and
    parts read; `time.time` by default). Its Kard is the simulator embedded in it unless
    `KARD_API_URL` names one. Its background threads stop when the test ends."""
    apps = []

    def make(*, clock=time.time, **config):
        app = create_app({"BFF_STATE_DIR": str(state_dir), **config}, clock=clock)
        apps.append(app)
        return app

    yield make
    for app in apps:  # no thread of this test acts during the next
        stop_workers(app)


@pytest.fixture
def app(make_app, kard_url):
    """A sandbox BFF whose Kard is the simulator on its port."""
    return make_app(KARD_API_URL=kard_url)


@pytest.fixture
def client(app):
    """A test client of the test's `app`."""
    return app.test_client()


@pytest.fixture
def make_client(kard_url):
    """`make_client(**options)` builds a Kard client of the simulator on its port (retries do not
    sleep), with `options` for the constructor; it is closed when the test ends."""
    clients = []

    def make(**overrides) -> KardClient:
        options = {
            "api_url": kard_url,
            "token_url": f"{kard_url}/v2/auth/token",
            "client_id": SANDBOX_CLIENT_ID,
            "client_secret": SANDBOX_CLIENT_SECRET,
            "organization_id": "org-sandbox",
            "sleep": lambda seconds: None,
            **overrides,
        }
        client = KardClient(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def outside_sandbox(kard_url) -> dict[str, str]:
    """Settings of a BFF outside the sandbox (`KARD_ENV=test`, hs256 sessions) whose Kard is the
    simulator on its port: `make_app(**outside_sandbox)`."""
    return {
        "KARD_ENV": "test",
        "KARD_API_URL": kard_url,
        "KARD_AUTH_URL": f"{kard_url}/v2/auth/token",
        "KARD_CLIENT_ID": SANDBOX_CLIENT_ID,
        "KARD_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "KARD_ORGANIZATION_ID": "org-sandbox",
        "BFF_AUTH_MODE": "hs256",
        "BFF_JWT_SECRET": "x" * 32,
    }


class Clock:
    """A clock the test moves by hand; it starts at the real time."""

    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    """A clock for `make_app(clock=clock)`, or any part that takes one."""
    return Clock()


@pytest.fixture
def as_user(client):
    """`as_user(user_id)` gives request headers with a dev session token for that user, minted
    by the test's `client` (a sandbox app), or by the one given as `as_user(user_id, other)`."""

    def headers(user_id: str, by: FlaskClient = client) -> dict[str, str]:
        token = by.post("/dev/session", json={"userId": user_id}).get_json()["token"]
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
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, which it may stop and start again, persisted as
    docs/fleet.md asks: every write in the append-only file before Redis answers."""
    persisted = ("--save", "", "--appendonly", "yes", "--appendfsync", "always")
    with RedisServer(tmp_path / "redis", args=persisted) as server:
        yield server


@pytest.fixture
def clean_redis(redis_url):
    """The Redis server, emptied before the test."""
    redis.Redis.from_url(redis_url).flushall()
    return redis_url


@pytest.fixture(scope="session", autouse=True)
def _run_in_a_temp_dir(tmp_path_factory):
    """Run the tests in a temp directory: what lands relative to where they run (an app or
    command left on the default `BFF_STATE_DIR`) never lands in the checkout."""
    directory = tmp_path_factory.mktemp("cwd")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(directory)
        yield
