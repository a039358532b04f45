"""The outbox contract, the same for SQLite and Redis: put, lease, retry later, reject, dead
letters, status."""

import sqlite3
import threading
import time

import pytest
import redis

from bff.attributions.outbox.redis import CREATED, DEAD, DUE, RedisOutbox
from bff.attributions.outbox.sqlite import LEASE, SqliteOutbox
from bff.attributions.outbox.store import Backlog, Bounds, DeadLetter
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


def _dead_letter(outbox, user_id: str, events: list, *, now: float, error: str = "503 down") -> str:
    """Store a chunk, lease it, and give it up as a dead letter at `now`; return its ID."""
    chunk_id = outbox.put(user_id, events, now=now - 10, error="503")
    assert outbox.lease("a", now=now, due_by=float("inf"), seconds=60).id == chunk_id
    outbox.dead(chunk_id, now=now, error=error)
    return chunk_id


def test_a_dead_letter_is_kept_never_leased_and_listed_oldest_death_first(make_outbox):
    first, second = make_outbox(), make_outbox()
    later = _dead_letter(first, "u1", EVENTS, now=1_000, error="503 later")
    dead = _dead_letter(first, "u1", EVENTS * 2, now=1_001, error="500 down\nsecond line")
    queued = first.put("u2", EVENTS, now=1_002, error="503")
    assert [letter.id for letter in second.dead_letters(limit=1)] == [later]
    assert second.dead_letters(limit=10)[1] == DeadLetter(
        id=dead,
        events=2,
        created_at=991,
        died_at=1_001,
        attempts=1,
        last_error="500 down\nsecond line",
    )
    assert second.next_due() == 1_002
    assert second.lease("b", now=5_000, due_by=float("inf"), seconds=60).id == queued
    assert second.lease("b", now=5_000, due_by=float("inf"), seconds=60) is None  # not the dead
    status = second.status(now=1_002)
    assert (status["depth"], status["events"], status["attempts"]) == (1, 1, 1)
    assert (status["oldestAgeSeconds"], status["deadLetters"]) == (0, 2)


def test_dead_letters_count_against_the_bounds_but_not_in_the_backlog(make_outbox):
    accepting, scraping = make_outbox(), make_outbox()
    assert scraping.backlog(now=1_000) == Backlog(events=0, oldest_age_seconds=0, dead_letters=0)
    _dead_letter(accepting, "u1", EVENTS * 3, now=1_000)  # stored at 990
    accepting.put("u1", EVENTS, now=995, error="503")
    assert scraping.queued_events("u1") == (4, 4)  # they hold accepted events
    assert scraping.backlog(now=1_000) == Backlog(1, 5, 1)  # only what is still to be tried


def test_replay_queues_dead_letters_due_now_with_their_attempts_from_zero(make_outbox):
    outbox = make_outbox()
    first = _dead_letter(outbox, "u1", EVENTS, now=1_000)
    second = _dead_letter(outbox, "u1", EVENTS * 2, now=1_000)
    queued = outbox.put("u2", EVENTS, now=1_000, error="503")
    assert outbox.replay([first, queued, "never"], now=2_000) == 1
    assert [letter.id for letter in outbox.dead_letters(limit=10)] == [second]
    assert outbox.backlog(now=2_000) == Backlog(2, 1_010, 1)  # stored at 990 still
    assert outbox.lease("b", now=2_000, due_by=2_000, seconds=60).id == queued  # due earlier
    replayed = outbox.lease("b", now=2_000, due_by=2_000, seconds=60)
    assert (replayed.id, replayed.attempts, replayed.created_at) == (first, 1, 990)
    for chunk_id in (queued, first):
        outbox.delivered(chunk_id)
    assert outbox.replay(None, now=3_000) == 1
    assert outbox.lease("c", now=3_000, due_by=3_000, seconds=60).id == second
    assert outbox.status(now=3_000)["deadLetters"] == 0
    assert outbox.queued_events("u1") == (2, 2)


def test_purge_removes_only_dead_letters_and_frees_their_room(make_outbox):
    outbox = make_outbox()
    dead = _dead_letter(outbox, "u1", EVENTS * 3, now=1_000)
    other = _dead_letter(outbox, "u2", EVENTS, now=1_001)
    queued = outbox.put("u1", EVENTS, now=1_000, error="503")
    assert outbox.purge([dead, queued, "never"]) == 1
    assert outbox.queued_events("u1") == (1, 2)
    assert outbox.purge(None) == 1
    assert outbox.purge([other]) == 0
    assert outbox.dead_letters(limit=10) == []
    assert outbox.replay([dead], now=2_000) == 0
    assert outbox.queued_events("u2") == (0, 1)
    assert outbox.lease("b", now=2_000, due_by=2_000, seconds=60).id == queued
    assert outbox.backlog(now=2_000) == Backlog(1, 1_000, 0)


def test_only_a_queued_chunk_dies_and_a_late_delivery_still_counts(make_outbox):
    outbox = make_outbox()
    delivered = outbox.put("u1", EVENTS, now=1_000, error="503")
    outbox.lease("a", now=1_000, due_by=1_000, seconds=60)
    outbox.delivered(delivered)
    outbox.dead(delivered, now=1_002, error="late")  # delivered already: stays gone
    dead = _dead_letter(outbox, "u1", EVENTS * 2, now=1_000)
    outbox.dead(dead, now=2_000, error="again")  # dead already: dies once
    outbox.release(dead, "a", now=2_000)  # its lease went with its death
    assert outbox.next_due() is None
    outbox.delivered(dead)  # a send that outlived its lease went through after all
    assert outbox.dead_letters(limit=10) == []
    assert outbox.queued_events("u1") == (0, 0)
    assert outbox.backlog(now=2_001) == Backlog(0, 0, 0)


def test_in_redis_a_chunk_is_always_either_queued_or_dead(clean_redis):
    """Dying and replaying are each one step: a reader never sees a chunk both queued and dead,
    or neither, nor the backlog's events off."""
    outbox = RedisOutbox(clean_redis, BOUNDS)
    chunk_id = outbox.put("u1", EVENTS * 3, now=0, error="503")
    client = redis.Redis.from_url(clean_redis)
    seen, backlogs, done = set(), set(), threading.Event()

    def watch():
        while not done.is_set():
            with client.pipeline(transaction=True) as pipe:
                for key in (DUE, CREATED, DEAD):
                    pipe.zscore(key, chunk_id)
                seen.add(tuple(score is not None for score in pipe.execute()))
            backlog = outbox.backlog(now=0)
            backlogs.add((backlog.events, backlog.dead_letters))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for round_ in range(300):
            outbox.dead(chunk_id, now=round_, error="down")
            assert outbox.replay([chunk_id], now=round_) == 1
    finally:
        done.set()
        watcher.join()
    assert seen == {(True, True, False), (False, False, True)}
    assert backlogs == {(3, 0), (0, 1)}


def test_in_redis_a_chunk_that_died_after_the_look_up_is_not_leased(clean_redis, monkeypatch):
    outbox = RedisOutbox(clean_redis, BOUNDS)
    chunk_id = outbox.put("u1", EVENTS, now=0, error="503")
    client = outbox._redis
    looked_up = client.zrangebyscore

    def dying_after_the_look_up(*args, **kwargs):
        found = looked_up(*args, **kwargs)
        outbox.dead(chunk_id, now=1, error="500 down")  # another worker's lease ends in death
        return found

    monkeypatch.setattr(client, "zrangebyscore", dying_after_the_look_up)
    assert outbox.lease("b", now=1, due_by=1, seconds=60) is None
    monkeypatch.undo()
    assert [letter.id for letter in outbox.dead_letters(limit=10)] == [chunk_id]
    assert not client.exists(f"kard-bff:outbox:lease:{chunk_id}")


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


def test_an_outbox_file_from_before_dead_letters_is_migrated_and_leases_by_its_index(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
    old.close()
    SqliteOutbox(path, BOUNDS)
    with sqlite3.connect(path) as db:  # back to a file from the bounds, before dead letters
        db.executescript(
            "DROP INDEX chunks_queued_due; DROP INDEX chunks_queued_created;"
            "DROP INDEX chunks_dead; ALTER TABLE chunks DROP COLUMN dead_at;"
            "CREATE INDEX chunks_due ON chunks (due_at);"
            "CREATE INDEX chunks_created ON chunks (created_at);"
        )
    db.close()
    outbox = SqliteOutbox(path, BOUNDS)
    assert outbox.lease("a", now=200, due_by=200, seconds=60).id in {"c1", "c2"}
    outbox.dead("c1", now=200, error="500 down")
    assert [letter.id for letter in outbox.dead_letters(limit=10)] == ["c1"]
    assert outbox.backlog(now=200) == Backlog(2, 100, 1)
    assert outbox.queued_events("u1") == (3, 5)
    with sqlite3.connect(path) as db:
        indexes = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
        parameters = {"owner": "", "until": 0, "now": 0, "due_by": 0}
        plan = " ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {LEASE}", parameters))
    db.close()
    assert not {"chunks_due", "chunks_created"} & indexes
    assert "USING INDEX chunks_queued_due" in plan


@pytest.mark.parametrize("name", ["BFF_OUTBOX_MAX_USER_EVENTS", "BFF_OUTBOX_MAX_EVENTS"])
@pytest.mark.parametrize("value", ["0", "-5", "1.5", "1e6", "many"])
def test_the_bounds_are_positive_whole_numbers(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_the_bounds_default_to_ten_thousand_per_user_and_a_million_in_all():
    settings = load_settings({})
    assert (settings.outbox_max_user_events, settings.outbox_max_events) == (10_000, 1_000_000)


@pytest.mark.parametrize("name", ["BFF_OUTBOX_MAX_ATTEMPTS", "BFF_OUTBOX_MAX_AGE"])
@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_the_dead_letter_bounds_are_positive(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_a_chunk_dies_after_500_attempts_or_three_days_by_default():
    settings = load_settings({})
    assert (settings.outbox_max_attempts, settings.outbox_max_age) == (500, 259_200)
