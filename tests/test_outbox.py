"""The outbox contract, the same for SQLite and Redis: put, lease, retry later, reject, status."""

import time

import pytest

from bff.outbox.redis import RedisOutbox
from bff.outbox.sqlite import SqliteOutbox

EVENTS = [{"type": "offerAttribution", "attributes": {"entityId": "o1"}}]


@pytest.fixture(params=["sqlite", "redis"])
def make_outbox(request, tmp_path):
    """`make_outbox()` opens the test's outbox; call it twice for two processes' views of it."""
    if request.param == "sqlite":
        return lambda: SqliteOutbox(tmp_path / "outbox.sqlite3")
    url = request.getfixturevalue("clean_redis")
    return lambda: RedisOutbox(url)


def test_a_chunk_is_leased_to_one_worker_at_a_time(make_outbox):
    """Leases are real time (Redis expires them itself), so this test waits one out."""
    first, second = make_outbox(), make_outbox()
    now = time.time()
    chunk_id = first.put("u1", EVENTS, now=now, error="503")
    chunk = first.lease("a", now=now, due_by=now, seconds=0.5)
    assert (chunk.id, chunk.user_id, chunk.events, chunk.attempts) == (chunk_id, "u1", EVENTS, 1)
    assert second.lease("b", now=time.time(), due_by=time.time(), seconds=0.5) is None  # "a" has it
    time.sleep(0.6)  # the holder died: its lease runs out and another worker takes the chunk
    again = second.lease("b", now=time.time(), due_by=time.time(), seconds=0.5)
    assert again.id == chunk_id and again.attempts == 2


def test_retry_later_and_delivered(make_outbox):
    outbox = make_outbox()
    chunk_id = outbox.put("u1", EVENTS, now=100, error="503")
    outbox.lease("a", now=100, due_by=100, seconds=10)
    outbox.retry_later(chunk_id, at=130, error="429 busy")
    assert outbox.lease("a", now=120, due_by=120, seconds=10) is None  # backing off
    assert outbox.lease("a", now=120, due_by=float("inf"), seconds=10).id == chunk_id  # drain
    status = outbox.status(now=125)
    assert status["depth"] == 1 and status["events"] == 1 and status["attempts"] == 2
    assert status["oldestAgeSeconds"] == 25.0 and "429" in status["lastError"]
    outbox.delivered(chunk_id)
    assert outbox.status(now=125)["depth"] == 0
    assert outbox.lease("a", now=999, due_by=999, seconds=10) is None


def test_rejected_chunks_are_kept_aside(make_outbox):
    outbox = make_outbox()
    chunk_id = outbox.put("u1", EVENTS, now=100, error="503")
    outbox.lease("a", now=100, due_by=100, seconds=10)
    outbox.reject(chunk_id, now=101, error="400 no such offer")
    status = outbox.status(now=102)
    assert (status["depth"], status["rejectedChunks"]) == (0, 1)
