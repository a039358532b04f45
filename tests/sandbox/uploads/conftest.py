"""A client of the session's simulator carrying an issuer access token (the documented flow)."""

from collections.abc import Iterator

import httpx
import pytest

from tests.sandbox.uploads.helpers import authorized


@pytest.fixture
def api(kard_url: str) -> Iterator[httpx.Client]:
    with authorized(kard_url) as client:
        yield client
