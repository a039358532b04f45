"""Clients of the session's simulator (tests/conftest.py), served over real HTTP."""

from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture
def client(kard_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kard_url, timeout=10) as client:
        yield client


@pytest.fixture
def api(client: httpx.Client) -> httpx.Client:
    """A client carrying a valid issuer access token."""
    token = client.post("/v2/auth/token", json={"client_id": "id", "client_secret": "s"})
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client
