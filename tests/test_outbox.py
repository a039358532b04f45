"""The outbox contract, the same for SQLite and Redis: put, lease, retry later, reject, status."""

import sqlite3
import time

import pytest

from bff.attributions.outbox.redis import RedisOutbox
from bff.attributions.outbox.sqlite import SqliteOutbox
from bff.attributions.outbox.store import Bounds
from bff.settings import ConfigError, load_settings

EVENTS = [{"type": "offerAttribution", "attributes": {"entityId": "o1"}}]
BOUNDS = Bounds(user_events=10_000, events=1_000_000)


@pytest.fixture(params=["sqlite", "redis"])
def make_outbox(request, tmp_path):
    """`make_outbox()` opens the test's outbox; call it twice for two processes' views of it."""
    if request.param == "sqlite":
        return lambda bounds=BOUNDS: SqliteOutbox(tmp_path / "outbox.sqlite3", bounds)
    url = request.getfixturevalue("clean_redis")
    return lambda bounds=BOUNDS: RedisOutbox(url, bounds)


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


def test_a_released_chunk_is_due_at_once_for_anyone_and_its_attempt_is_not_counted(make_outbox):
    first, second = make_outbox(), make_outbox()
    now = time.time()
    chunk_id = first.put("u1", EVENTS, now=now, error="503")
    first.retry_later(chunk_id, at=now + 300, error="503")  # backing off
    assert first.lease("a", now=now, due_by=float("inf"), seconds=60).attempts == 1  # drain
    first.release(chunk_id, "b", now=now)  # "b" holds no lease on it: nothing changes
    assert second.lease("b", now=now, due_by=float("inf"), seconds=60) is None
    first.release(chunk_id, "a", now=now)  # "a" stops without sending it
    assert first.next_due() == now
    again = second.lease("b", now=now, due_by=now, seconds=60)
    assert (again.id, again.attempts) == (chunk_id, 1)


def test_releasing_a_settled_chunk_changes_nothing(make_outbox):
    outbox = make_outbox()
    now = time.time()
    retried = outbox.put("u1", EVENTS, now=now, error="503")
    delivered = outbox.put("u2", EVENTS, now=now + 1, error="503")
    for chunk_id in (retried, delivered):
        assert outbox.lease("a", now=now + 1, due_by=now + 1, seconds=60).id == chunk_id
    outbox.retry_later(retried, at=now + 300, error="503")
    outbox.delivered(delivered)
    outbox.release(retried, "a", now=now + 2)
    outbox.release(delivered, "a", now=now + 2)
    assert outbox.next_due() == now + 300  # still backing off
    status = outbox.status(now=now + 2)
    assert (status["depth"], status["events"], status["attempts"]) == (1, 1, 1)


def test_rejected_chunks_are_kept_aside(make_outbox):
    outbox = make_outbox()
    chunk_id = outbox.put("u1", EVENTS, now=100, error="503")
    outbox.lease("a", now=100, due_by=100, seconds=10)
    outbox.reject(chunk_id, now=101, error="400 no such offer")
    status = outbox.status(now=102)
    assert (status["depth"], status["rejectedChunks"]) == (0, 1)


def test_queued_events_are_counted_per_user_and_in_all(make_outbox):
    outbox = make_outbox()
    kept = outbox.put("u1", EVENTS * 3, now=100, error="503")
    refused = outbox.put("u1", EVENTS * 2, now=100, error="503")
    taken = outbox.put("u2", EVENTS * 4, now=100, error="503")
    assert (outbox.queued_events("u1"), outbox.queued_events("u2")) == ((5, 9), (4, 9))
    assert outbox.queued_events("nobody") == (0, 9)
    outbox.lease("a", now=100, due_by=100, seconds=10)
    outbox.retry_later(kept, at=130, error="503")
    assert outbox.queued_events("u1") == (5, 9)  # leases and retries change no count
    outbox.delivered(taken)
    outbox.delivered(taken)  # a chunk delivered twice (two workers, an expired lease)
    assert outbox.queued_events("u2") == (0, 5)
    outbox.reject(refused, now=101, error="400")
    outbox.reject(refused, now=101, error="400")
    assert outbox.queued_events("u1") == (3, 3)
    assert outbox.status(now=101)["events"] == 3
    outbox.delivered(kept)
    assert outbox.queued_events("u1") == (0, 0)


def test_the_next_due_time_is_the_earliest_chunk(make_outbox):
    outbox = make_outbox()
    assert outbox.next_due() is None
    first = outbox.put("u1", EVENTS, now=100, error="503")
    outbox.put("u2", EVENTS, now=120, error="503")
    outbox.retry_later(first, at=150, error="503")
    assert outbox.next_due() == 120


def test_only_the_newest_rejected_chunks_are_kept(make_outbox):
    outbox = make_outbox(Bounds(10_000, 1_000_000, rejected_chunks=2))
    for number in range(5):
        chunk_id = outbox.put("u1", EVENTS, now=100 + number, error="503")
        outbox.reject(chunk_id, now=100 + number, error=f"400 refusal {number}")
    status = outbox.status(now=110)
    assert (status["rejectedChunks"], status["maxRejectedChunks"]) == (2, 2)


def test_status_names_the_bounds(make_outbox):
    status = make_outbox(Bounds(user_events=7, events=70)).status(now=0)
    assert (status["maxUserEvents"], status["maxEvents"]) == (7, 70)


OLD_SCHEMA = """
CREATE TABLE chunks (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, events TEXT NOT NULL, created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, due_at REAL NOT NULL, lease_owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0, last_error TEXT
);
CREATE INDEX chunks_due ON chunks (due_at);
CREATE TABLE rejected (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, events TEXT NOT NULL, rejected_at REAL NOT NULL,
    error TEXT
);
INSERT INTO chunks (id, user_id, events, created_at, due_at) VALUES
    ('c1', 'u1', '[{"a": 1}, {"a": 2}, {"a": 3}]', 100, 100),
    ('c2', 'u2', '[{"a": 1}, {"a": 2}]', 100, 100);
"""


def test_an_outbox_file_from_before_the_event_counts_is_migrated(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
    outbox = SqliteOutbox(path, BOUNDS)
    assert (outbox.queued_events("u1"), outbox.queued_events("u2")) == ((3, 5), (2, 5))
    outbox.delivered("c1")
    outbox.put("u2", EVENTS, now=101, error="503")
    again = SqliteOutbox(path, BOUNDS)  # opened again, by another process or after a restart
    assert again.queued_events("u2") == (3, 3)
    assert again.status(now=101)["events"] == 3


@pytest.mark.parametrize("name", ["BFF_OUTBOX_MAX_USER_EVENTS", "BFF_OUTBOX_MAX_EVENTS"])
@pytest.mark.parametrize("value", ["0", "-5", "1.5", "1e6", "many"])
def test_the_bounds_are_positive_whole_numbers(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_the_bounds_default_to_ten_thousand_per_user_and_a_million_in_all():
    settings = load_settings({})
    assert (settings.outbox_max_user_events, settings.outbox_max_events) == (10_000, 1_000_000)
