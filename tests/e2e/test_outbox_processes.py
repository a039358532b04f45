"""The outbox across real processes: a SIGKILLed BFF loses nothing, two BFFs never double-send,
a SIGTERMed BFF leaves no chunk leased."""

import os
import time
from collections import Counter
from pathlib import Path

import httpx
import jwt
import pytest

from bff.attributions.outbox import open_outbox
from bff.attributions.outbox.store import Bounds
from tests.servers import ServerProcess

USER = "sandbox-demo-new-customer"
ATTRIBUTIONS = r"/attributions$"
JWT_SECRET = "an hs256 secret of thirty-two bytes"


@pytest.fixture(params=["sqlite", "redis"])
def bff_env(request, kard_url, tmp_path):
    """How a BFF process is configured: the test's simulator, and the outbox under test."""
    env = {**os.environ, "KARD_API_URL": kard_url, "KARD_TIMEOUT": "1"}
    # Sessions signed here: /dev/session enrolls through Kard, whose failures these tests inject.
    env |= {"BFF_AUTH_MODE": "hs256", "BFF_JWT_SECRET": JWT_SECRET}
    env["BFF_STATE_DIR"] = str(tmp_path / "state")
    if request.param == "redis":
        env["REDIS_URL"] = request.getfixturevalue("clean_redis")
    return env


def _events(first: int, count: int) -> list[dict]:
    return [
        {
            "type": "offerAttribution",
            "attributes": {
                "entityId": f"offer-{n:05d}",
                "eventCode": "IMPRESSION",
                "medium": "BROWSE",
                "eventDate": "2026-11-20T10:00:00Z",
            },
        }
        for n in range(first, first + count)
    ]


def _post_batch(server: ServerProcess, events: list[dict]) -> dict:
    token = jwt.encode({"sub": USER, "exp": time.time() + 600}, JWT_SECRET, algorithm="HS256")
    response = httpx.post(
        f"{server.url}/api/v1/attributions",
        json={"data": events},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return response.json()["data"]


def _wait_for_events(simulator, count: int, timeout: float = 60.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        received = [e["attributes"]["entityId"] for e in simulator.attribution_events(USER)]
        if len(received) >= count or time.monotonic() > deadline:
            return received
        time.sleep(0.2)


def test_a_sigkilled_bff_delivers_every_accepted_event_after_restart(simulator, bff_env):
    simulator.faults.inject(503, path=ATTRIBUTIONS)
    with ServerProcess(["serve"], env=bff_env) as first:
        answer = _post_batch(first, _events(0, 250))
        first.kill()  # right after the 202, while Kard is failing
    assert (answer["accepted"], answer["queued"]) == (250, 250)
    assert simulator.attribution_events(USER) == []

    simulator.faults.clear()
    with ServerProcess(["serve"], env=bff_env):  # started again on the same state
        received = _wait_for_events(simulator, 250)
    assert sorted(received) == sorted(e["attributes"]["entityId"] for e in _events(0, 250))


def test_two_processes_on_one_outbox_send_each_chunk_once(simulator, bff_env):
    simulator.faults.inject(503, path=ATTRIBUTIONS)
    with ServerProcess(["serve"], env=bff_env) as one, ServerProcess(["serve"], env=bff_env) as two:
        queued = 0
        for batch, server in enumerate([one, two, one, two]):
            queued += _post_batch(server, _events(batch * 150, 150))["queued"]
        assert queued == 600  # 8 chunks: 100 + 50 per batch
        time.sleep(1.0)  # both workers keep failing for a while
        simulator.faults.clear()
        received = _wait_for_events(simulator, 600)

    assert len(received) == 600
    assert max(Counter(received).values()) == 1  # no event arrived twice
    taken = [call for call in simulator.calls_to(ATTRIBUTIONS) if call.status == 202]
    assert sorted(len(call.json["data"]) for call in taken) == [50] * 4 + [100] * 4


def test_a_sigtermed_bff_finishes_the_send_in_progress_and_leaves_no_lease(simulator, bff_env):
    env = {**bff_env, "KARD_TIMEOUT": "5"}  # leases of 15 s
    outbox = open_outbox(Path(env["BFF_STATE_DIR"]), env.get("REDIS_URL"), Bounds(100, 100))
    chunk_id = outbox.put(USER, _events(0, 1), now=time.time(), error="queued by the test")
    simulator.faults.inject(503, delay=2.0, path=ATTRIBUTIONS)  # Kard is slow, then fails
    with ServerProcess(["serve"], env=env) as server:
        deadline = time.monotonic() + 10
        while outbox.status(now=time.time())["attempts"] == 0:  # not leased yet
            assert time.monotonic() < deadline, "the worker never leased the chunk"
            time.sleep(0.05)
    # SIGTERM came while the chunk was being sent: the send finished and its answer was noted,
    # and the chunk is free for the next worker, which need not wait out a lease.
    assert "Stopped worker-1" in server.output, server.output
    chunk = outbox.lease("next-worker", now=time.time(), due_by=float("inf"), seconds=5)
    assert chunk is not None and chunk.id == chunk_id, "the chunk is still leased"
    status = outbox.status(now=time.time())
    assert (status["depth"], status["attempts"]) == (1, 2), status  # the BFF's try, and this one
    assert status["lastError"].startswith("503"), status
