"""Benchmark `POST /webhooks/kard`: how fast kard-bff takes Kard's notifications, next to the
least a receiver must do.

What is measured, in one run, at concurrency 1 and 32 (wrk, ~2 s warm-up then ~10 s measured),
every request a new notification (its own `data.id`, signed with the key), so each one is
verified, parsed, checked against its type's table and stored once:

- **minimal receiver** (`bench/minimal_webhook.py`): Flask under the same gunicorn settings,
  checking the HMAC over the raw body and answering 200; nothing parsed, nothing stored.
- **kard-bff, SQLite inbox**: `kard-bff serve` (gunicorn gthread, 2 workers x 8 threads, access
  log on), its inbox `webhooks.sqlite3` in the state directory.
- **kard-bff, Redis inbox**: the same with `REDIS_URL` (a local `redis-server`, no persistence),
  as several instances share it.

No hook or forward URL is set, so the rows measure taking a notification, not handing it on
(that runs on a background thread after the answer). For each row: requests/second, p50 and p99
latency, and the server's CPU milliseconds per request (its process tree; Redis's own CPU is not
counted). Everything shares this host's cores: compare rows of the same run. Run with
`make bench`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import orjson
import redis

from bench.harness import (
    BIN,
    DURATION_S,
    GUNICORN_OPTIONS,
    RESULTS,
    Result,
    Target,
    free_port,
    measure_once,
    run_main,
    save_report,
    start,
    start_kard_bff,
    stop_all,
    wait_ready,
    wrk_stats,
)

KEY = "bench-webhook-key"
PATH = "/webhooks/kard"
CONCURRENCIES = (1, 32)
NOTIFICATIONS_PER_RUN = 60_000  # more than any run sends: no notification is sent twice
# wrk sends each thread its own share of the file's pre-signed notifications, in turn.
WRK_SCRIPT = """
local requests, sent = {}, 0
local threads_started = 0
function setup(thread)
  thread:set("id", threads_started)
  threads_started = threads_started + 1
end
function init(args)
  local threads = tonumber(args[2])
  local number = 0
  for line in io.lines(args[1]) do
    if number % threads == id then
      local signature, body = line:match("^([^\\t]+)\\t(.*)$")
      local headers = {["Content-Type"] = "application/json", ["notify-signature"] = signature}
      requests[#requests + 1] = wrk.format("POST", nil, headers, body)
    end
    number = number + 1
  end
end
function request()
  sent = sent % #requests + 1
  return requests[sent]
end
"""


@dataclass(frozen=True)
class Receiver(Target):
    """One receiver under test (the notifications come from wrk's script, not `headers`)."""

    deduplicates: bool = False  # a notification sent twice would take its shorter, duplicate path


def notification(number: str) -> bytes:
    """An earnedRewardApproved notification as the Notification Webhook reference shows it."""
    document = {
        "data": {
            "type": "earnedRewardApproved",
            "id": f"bench-{number}",
            "attributes": {
                "message": "You earned $5 at Old Navy",
                "name": "Old Navy",
                "attributionUrl": "https://attribution.getkard.com/n/abc",
            },
            "relationships": {
                "user": {"data": {"type": "user", "id": "user-1"}},
                "transaction": {"data": {"type": "transaction", "id": f"txn-{number}"}},
            },
        },
        "meta": {"issuerId": "org-bench", "issuerName": "Bench Issuer"},
    }
    return orjson.dumps(document)


def signature(body: bytes) -> str:
    return base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()


def write_notifications(path: Path, run: str) -> None:
    """NOTIFICATIONS_PER_RUN new notifications, each `signature<TAB>body` on its own line."""
    with path.open("wb") as out:
        for number in range(NOTIFICATIONS_PER_RUN):
            body = notification(f"{run}-{number}")
            out.write(signature(body).encode() + b"\t" + body + b"\n")


# The receivers.


def start_minimal(directory: Path) -> Receiver:
    port = free_port()
    command = [str(BIN / "python"), "-m", "gunicorn", *GUNICORN_OPTIONS, "--access-logfile", "-"]
    command += ["--bind", f"127.0.0.1:{port}", "bench.minimal_webhook:app"]
    log = directory / "minimal-webhook.log"
    process = start(command, log=log, env=dict(os.environ, BENCH_WEBHOOK_KEY=KEY))
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/healthz", process, log)
    return Receiver("minimal receiver", f"{base}{PATH}", {}, process.pid)


def start_kard_bff_inbox(directory: Path, name: str, redis_url: str | None) -> Receiver:
    """`kard-bff serve` as the offers bench runs it, with a webhook key; Kard is never called."""
    extra = {"KARD_WEBHOOK_KEY": KEY} | ({"REDIS_URL": redis_url} if redis_url else {})
    process, base = start_kard_bff(directory, "http://127.0.0.1:9", name=name, extra=extra)
    return Receiver(f"kard-bff, {name} inbox", f"{base}{PATH}", {}, process.pid, deduplicates=True)


def start_redis(directory: Path) -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is missing: `make test` installs it")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir"]
    log = directory / "redis.log"
    process = start([*command, str(directory)], log=log)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return url
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{log.read_text()}") from None
            time.sleep(0.05)


@contextmanager
def receivers(directory: Path) -> Iterator[list[Receiver]]:
    try:
        yield [
            start_minimal(directory),
            start_kard_bff_inbox(directory, "sqlite", None),
            start_kard_bff_inbox(directory, "redis", start_redis(directory)),
        ]
    finally:
        stop_all()


# Load.


def check_answer(target: Receiver) -> None:
    """One notification, by hand: it must be taken (kard-bff: once, not as a duplicate)."""
    body = notification("check")
    answer = httpx.post(
        target.url,
        content=body,
        headers={"Content-Type": "application/json", "notify-signature": signature(body)},
    )
    if answer.status_code != 200:
        raise RuntimeError(f"{target.name} answered {answer.status_code}: {answer.text}")


def run_wrk(target: Receiver, concurrency: int, seconds: int, directory: Path, run: str) -> dict:
    """Load `target` with wrk for `seconds`, every request a notification new to it."""
    notifications = directory / f"notifications-{run}.txt"
    write_notifications(notifications, run)
    threads = min(concurrency, 2)
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s", "-s", str(directory / "notifications.lua"), target.url]
    command += ["--", str(notifications), str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    notifications.unlink()
    stats = wrk_stats(target, done)
    if target.deduplicates and stats["requests"] >= NOTIFICATIONS_PER_RUN:
        raise RuntimeError(f"{target.name}: notifications were sent twice; make more per run")
    return stats


def measure(target: Receiver, concurrency: int, directory: Path) -> Result:
    """One notification by hand, then the warm-up and the measured run, each with new ones."""
    check_answer(target)
    runs = itertools.count()

    def wrk(target: Receiver, concurrency: int, seconds: int) -> dict:
        return run_wrk(
            target, concurrency, seconds, directory, f"{concurrency}-{target.pid}-{next(runs)}"
        )

    return measure_once(target, concurrency, DURATION_S, wrk=wrk)


def format_table(results: list[Result]) -> list[str]:
    header = (
        f"{'receiver':<26} {'c':>3} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(
            f"{result.target:<26} {result.concurrency:>3} {result.rps:>9,.0f} "
            f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.cpu_ms_per_request:>11.2f}"
        )
    return lines


def main() -> int:
    """Measure every receiver at each concurrency, print the table and save it."""
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory(prefix="kard-bff-bench-webhooks-") as tmp:
        directory = Path(tmp)
        (directory / "notifications.lua").write_text(WRK_SCRIPT)
        with receivers(directory) as targets:
            print("measuring (each row: warm-up, then the measured run)", flush=True)
            results = [
                measure(target, concurrency, directory)
                for target in targets
                for concurrency in CONCURRENCIES
            ]
    report = [
        "",
        f"POST {PATH}, every request a new signed earnedRewardApproved notification "
        f"({len(notification('0'))} bytes); gunicorn gthread 2 workers x 8 threads; "
        f"host: {os.cpu_count()} CPUs",
        "",
        *format_table(results),
    ]
    save_report("webhooks", stamp, report)
    return 0


if __name__ == "__main__":
    run_main(main)
