"""The fleet under failure: an instance SIGKILLed under attribution load, Redis stopped under
mixed load. Nothing the fleet accepted is lost, nothing answers 500, and it recovers by itself."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.fleet.harness import signed_notification

ATTRIBUTIONS = r"/attributions$"
BATCHES, BATCH = 20, 1_000


def _events(batch: int, count: int = BATCH) -> list[dict]:
    return [
        {
            "type": "offerAttribution",
            "attributes": {
                "entityId": f"offer-{batch:03d}-{n:04d}",
                "eventCode": "IMPRESSION",
                "medium": "BROWSE",
                "eventDate": "2026-12-01T10:00:00Z",
            },
        }
        for n in range(count)
    ]


def _received(kard) -> Counter:
    """Every event the simulator took (its 2xx attribution calls), by entity ID."""
    return Counter(
        event["attributes"]["entityId"]
        for call in kard.calls(ATTRIBUTIONS)
        if 200 <= call["status"] < 300
        for event in call["json"]["data"]
    )


def _wait_for(kard, accepted: set[str], timeout: float = 180.0) -> Counter:
    deadline = time.monotonic() + timeout
    while True:
        received = _received(kard)
        missing = accepted - set(received)
        if not missing:
            return received
        assert time.monotonic() < deadline, f"{len(missing)} accepted events never reached Kard"
        time.sleep(1)


def test_an_instance_killed_under_attribution_load_loses_no_accepted_event(kard, record_property):
    kard.control("POST", "faults", json={"status": 503, "every": 2, "path": ATTRIBUTIONS})
    accepted: set[str] = set()
    statuses: Counter = Counter()
    lock = threading.Lock()

    def post(batch: int) -> None:
        events = _events(batch)
        try:
            answer = httpx.post(
                f"{kard.url}/api/v1/attributions",
                json={"data": events},
                headers=kard.headers(f"load-user-{batch}"),
                timeout=60,
            )
            status = answer.status_code
        except httpx.TransportError:
            status = "no answer"
        with lock:
            statuses[status] += 1
            if status == 202:
                assert answer.json()["data"]["accepted"] == BATCH
                accepted.update(e["attributes"]["entityId"] for e in events)

    victim = kard.instances[1]
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(post, batch) for batch in range(BATCHES)]
        while not statuses:  # the victim is amid a batch, its worker amid the outbox
            time.sleep(0.01)
        victim.kill()
        for future in futures:
            future.result()
    assert 500 not in statuses
    assert statuses[202] >= BATCHES // 2, statuses

    kard.control("DELETE", "faults")
    victim.start()  # back, and its dead workers' leases run out
    received = _wait_for(kard, accepted)
    duplicates = sum(count - 1 for count in received.values())
    summary = (
        f"{len(accepted):,} of {BATCHES * BATCH:,} events accepted (202), answers"
        f" {dict(statuses)}; all reached Kard; {duplicates:,} duplicates delivered"
    )
    print(summary)
    record_property("fleet_crash_summary", summary)
    record_property("duplicates_delivered", duplicates)


def test_redis_stopped_under_load_fails_nothing_and_the_fleet_recovers(kard, receiver):
    stop = threading.Event()
    answers: list[tuple[str, int, str | None, str]] = []  # (kind, status, Retry-After, phase)
    accepted: set[str] = set()
    delivered_notifications: set[str] = set()
    phase = ["before"]
    lock = threading.Lock()
    counter = iter(range(1_000_000))

    def load(kind: str) -> None:
        headers = kard.headers(f"redis-load-{kind}")
        while not stop.is_set():
            n = next(counter)
            if kind == "offers":
                answer = httpx.get(f"{kard.url}/api/v1/offers", headers=headers, timeout=30)
            elif kind == "attributions":
                events = _events(5000 + n, 10)
                answer = httpx.post(
                    f"{kard.url}/api/v1/attributions",
                    json={"data": events},
                    headers=headers,
                    timeout=30,
                )
                if answer.status_code == 202:
                    with lock:
                        accepted.update(e["attributes"]["entityId"] for e in events)
            else:
                body, signed = signed_notification(f"redis-load-{n}")
                answer = httpx.post(f"{kard.url}/webhooks/kard", content=body, headers=signed)
                if answer.status_code == 200:
                    with lock:
                        delivered_notifications.add(f"redis-load-{n}")
            with lock:
                answers.append(
                    (kind, answer.status_code, answer.headers.get("Retry-After"), phase[0])
                )
            time.sleep(0.05)

    threads = [
        threading.Thread(target=load, args=(kind,))
        for kind in ("offers", "attributions", "webhooks")
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        kard.redis.stop()
        phase[0] = "down"
        time.sleep(4)
        for instance in kard.instances:
            ready = httpx.get(f"{instance.url}/readyz")
            assert ready.status_code == 503
            assert "Redis" in ready.json()["errors"][0]["detail"]
        kard.redis.start()
        phase[0] = "back"
        time.sleep(5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert not [a for a in answers if a[1] >= 500 and a[1] != 503], answers
    down = [a for a in answers if a[3] == "down"]
    for kind in ("attributions", "webhooks"):
        statuses = {a[1] for a in down if a[0] == kind}
        assert 503 in statuses, (kind, statuses)
        assert all(a[2] and a[2].isdigit() for a in down if a[0] == kind and a[1] == 503)
    assert {a[1] for a in down if a[0] == "offers"} == {200}
    back = [a for a in answers if a[3] == "back"][-9:]
    assert {(a[0], a[1]) for a in back} <= {
        ("offers", 200),
        ("attributions", 202),
        ("webhooks", 200),
    }
    for instance in kard.instances:
        assert httpx.get(f"{instance.url}/readyz").status_code == 200
    _wait_for(kard, accepted, timeout=60)
    deadline = time.monotonic() + 30
    while not delivered_notifications <= set(receiver.ids) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert delivered_notifications <= set(receiver.ids)
