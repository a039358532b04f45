"""The fleet topology (tests/fleet/harness.py), booted once for the fleet tests, with a receiver
for the notifications it hands on. Every test here is marked `fleet`: `pytest -m fleet` runs them
alone, `make test` with the rest."""

import threading

import pytest
from flask import Flask, request

from tests.fleet.harness import NGINX, Fleet
from tests.servers import require_tool, serve


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/fleet/" in str(item.fspath):
            item.add_marker(pytest.mark.fleet)


class Receiver:
    """The issuer's system that notifications are forwarded to: it keeps their IDs."""

    def __init__(self):
        self.ids: list[str] = []
        self._lock = threading.Lock()
        self.app = Flask(__name__)
        self.app.post("/")(self._receive)

    def _receive(self):
        with self._lock:
            self.ids.append(request.get_json()["data"]["id"])
        return "", 204


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    with serve(receiver.app) as url:
        receiver.url = url
        yield receiver


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, receiver):
    """Three instances of two workers behind nginx, one Redis, the simulator as Kard."""
    require_tool(NGINX.exists(), str(NGINX), "nginx")
    directory = tmp_path_factory.mktemp("fleet")
    with Fleet(directory, forward_url=f"{receiver.url}/") as fleet:
        yield fleet


@pytest.fixture
def kard(fleet):
    """The fleet, with Kard's state, faults and call log cleared before the test."""
    fleet.reset()
    return fleet
