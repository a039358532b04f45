"""Shared fixtures: the Kard simulator on a real port, and BFF apps pointed at it."""

import pytest

from bff.sandbox import Simulator, create_simulator_app
from tests.servers import serve


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
