"""Clients of the session's simulator (tests/conftest.py), served over real HTTP."""

from collections.abc import Iterator

import httpx
import pytest

from bff.sandbox import Simulator
from tests.sandbox.helpers import CREDENTIALS, USER


@pytest.fixture
def client(kard_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kard_url, timeout=10) as client:
        yield client


@pytest.fixture
def api(client: httpx.Client, simulator: Simulator) -> httpx.Client:
    """A client carrying a valid issuer access token; the tests' USER is enrolled."""
    simulator.enroll(USER)
    token = client.post("/v2/auth/token", json=CREDENTIALS)
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client
