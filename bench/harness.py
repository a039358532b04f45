"""What every benchmark here shares: child processes on free loopback ports, CPU accounting
from /proc, wrk runs, and the report each run keeps. The tests take their free ports from here
too (they may import the benchmarks; nothing imports the tests).

Every child runs in its own session, so it and its children stop as one process group. CPU
milliseconds per request are utime+stime of a server's whole process tree over a measured run,
divided by the requests wrk completed. A benchmark runs as `python -m bench.<name>`, through
`run_main(main)`.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
# Short runs on a shared machine; BENCH_SECONDS shortens them further for a quick look.
DURATION_S = int(os.environ.get("BENCH_SECONDS", "10"))
WARMUP_S = 2
MEASURE_TRIES = 3
IMBALANCE_PCT = 75  # a c>1 row where one of the 2 workers did more than this % of the work
JWT_SECRET = "bench-secret-that-is-at-least-32-bytes-long"  # kard-bff's hs256 session key
CLIENT_SECRET = "bench-secret"  # kard-bff's Kard client secret, whence its keys
GUNICORN_OPTIONS = ("--worker-class", "gthread", "--workers", "2", "--threads", "8")
CLK_TCK = os.sysconf("SC_CLK_TCK")

_processes: list[subprocess.Popen] = []


# Processes.


def start(command: list[str], *, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a long-lived child with its output in `log`; it is stopped by `stop_all`."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _processes.append(process)
    return process


def stop_all() -> None:
    """Stop every child this run started (its process group): SIGINT, then SIGKILL."""
    while _processes:
        process = _processes.pop()
        if process.poll() is not None:
            continue
        _signal_group(process, signal.SIGINT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def run_main(main: Callable[[], int]) -> NoReturn:
    """Run a benchmark's `main` as its command: SIGTERM and Ctrl-C stop its children too."""
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)


def _raise_on_sigterm(signum: int, frame: object) -> None:
    """A SIGTERM handler that unwinds like an exception, so `finally` stops the children."""
    raise SystemExit(128 + signum)


def save_report(name: str, stamp: str, lines: list[str]) -> None:
    """Print a run's report and keep it as bench/results/<name>-<stamp>.txt."""
    text = "\n".join(lines)
    print(text)
    (RESULTS / f"{name}-{stamp}.txt").write_text(text + "\n")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (free when asked: a server
    started on it at once gets it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(
    url: str,
    process: subprocess.Popen,
    log: Path,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> None:
    """Poll `url` until it answers 200; fail with the server's log if it exits or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{tail(log)}")
        with suppress(httpx.TransportError):
            if httpx.get(url, headers=headers, timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    """The end of a log file, for error messages."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def start_kard_bff(
    directory: Path, upstream: str, *, name: str = "kard-bff", extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """Run `kard-bff serve` (its production server, 2 workers x 8 threads) against `upstream`.

    `name` names its log and state folder in `directory`; `extra` adds to its settings.
    Returns the process and its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KARD_", "BFF_", "REDIS_"))}
    env |= {  # as an issuer runs it: no embedded simulator, Kard's token and API upstream
        "KARD_ENV": "production",
        "KARD_API_URL": upstream,
        "KARD_AUTH_URL": f"{upstream}/v2/auth/token",
        "KARD_CLIENT_ID": "bench-client",
        "KARD_CLIENT_SECRET": CLIENT_SECRET,
        "KARD_ORGANIZATION_ID": "org-sandbox",
        "BFF_AUTH_MODE": "hs256",
        "BFF_JWT_SECRET": JWT_SECRET,
        "BFF_STATE_DIR": str(directory / f"{name}-state"),
        **(extra or {}),
    }
    command = [str(BIN / "kard-bff"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "2", "--threads", "8"]
    log = directory / f"{name}.log"
    process = start(command, log=log, env=env)
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/healthz", process, log)
    return process, base


def start_redis(directory: Path) -> tuple[subprocess.Popen, str]:
    """Run `redis-server` on a free port, persisted as docs/fleet.md recommends (AOF, fsync
    every second); returns the process and its URL."""
    port = free_port()
    data = directory / "redis"
    data.mkdir()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data)]
    command += ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
    log = directory / "redis.log"
    process = start(command, log=log)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while not _redis_answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start:\n{tail(log)}")
        time.sleep(0.05)
    return process, url


def _redis_answers(port: int) -> bool:
    with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


# CPU accounting from /proc.


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """utime+stime of `pids`, in seconds (processes that are gone count as 0)."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name: [state, ppid, ...]."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def host_cpu() -> tuple[int, int, int]:
    """(total, idle+iowait, steal) jiffies of the whole host, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values[:8]), values[3] + values[4], values[7]


def loadavg() -> str:
    """The host's 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# Load generation with wrk.


@dataclass(frozen=True)
class Target:
    """One server under test: the URL wrk loads and the process tree charged for its CPU."""

    name: str
    url: str
    headers: dict[str, str]
    pid: int


@dataclass(frozen=True)
class Result:
    """One measured wrk run."""

    target: str
    concurrency: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    host_busy_pct: float
    cpu_by_process: tuple[float, ...]  # CPU seconds of each process of the server, root first

    @property
    def worker_shares(self) -> list[float]:
        """Each worker's share (%) of the workers' CPU, busiest first (the root is no worker)."""
        workers = sorted(self.cpu_by_process[1:], reverse=True)
        total = sum(workers)
        return [100 * cpu / total for cpu in workers] if total else []

    @property
    def imbalanced(self) -> bool:
        """Whether one worker did most of the work although there were connections for both."""
        shares = self.worker_shares
        return self.concurrency > 1 and len(shares) > 1 and shares[0] > IMBALANCE_PCT


def wrk_command(target: Target, concurrency: int, seconds: int) -> list[str]:
    """The wrk command line for one run."""
    command = ["wrk", f"-t{min(concurrency, 2)}", f"-c{concurrency}", f"-d{seconds}s"]
    command += ["--latency", "--timeout", "10s"]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    return [*command, target.url]


def run_wrk(target: Target, concurrency: int, seconds: int) -> dict:
    """Run wrk; return its parsed numbers; fail loudly on non-2xx answers."""
    done = subprocess.run(
        wrk_command(target, concurrency, seconds), capture_output=True, text=True, check=False
    )
    stats = wrk_stats(target, done)
    if stats["socket_errors"]:
        print(f"  warning: {target.name} c={concurrency}: {stats['socket_errors_text']}")
    return stats


def wrk_stats(target: Target, done: subprocess.CompletedProcess[str]) -> dict:
    """The parsed numbers of a finished wrk run; fail loudly if wrk failed or an answer was
    not 2xx."""
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    stats = parse_wrk(done.stdout)
    if stats["non_2xx"]:
        raise RuntimeError(f"{target.name}: {stats['non_2xx']} non-2xx answers:\n{done.stdout}")
    return stats


def parse_wrk(output: str) -> dict:
    """Requests/sec, the 50% and 99% latencies (ms), completed requests and errors."""

    def find(pattern: str) -> re.Match:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no {pattern!r} in wrk output:\n{output}")
        return match

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: .*", output)
    return {
        "rps": float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        "p50_ms": _milliseconds(find(r"^\s+50%\s+([\d.]+)(\w+)")),
        "p99_ms": _milliseconds(find(r"^\s+99%\s+([\d.]+)(\w+)")),
        "requests": int(find(r"^\s+(\d+) requests in").group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": bool(socket_errors),
        "socket_errors_text": socket_errors.group(0) if socket_errors else "",
    }


def _milliseconds(match: re.Match) -> float:
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[match.group(2)]
    return float(match.group(1)) * scale


def combined(runs: list[Result]) -> Result:
    """One row from runs of the same target and concurrency (rounds taken in turn with other
    targets, so a slower minute of a shared machine weighs on every row alike): requests and
    CPU summed, req/s averaged, the median run's latencies."""
    requests = sum(run.requests for run in runs)
    cpu_ms = sum(run.cpu_ms_per_request * run.requests for run in runs)
    middle = sorted(runs, key=lambda run: run.p50_ms)[len(runs) // 2]
    return Result(
        target=runs[0].target,
        concurrency=runs[0].concurrency,
        requests=requests,
        rps=sum(run.rps for run in runs) / len(runs),
        p50_ms=middle.p50_ms,
        p99_ms=middle.p99_ms,
        cpu_ms_per_request=cpu_ms / max(requests, 1),
        host_busy_pct=sum(run.host_busy_pct for run in runs) / len(runs),
        cpu_by_process=tuple(map(sum, zip(*(run.cpu_by_process for run in runs), strict=False))),
    )


def measure(target: Target, concurrency: int, seconds: int = DURATION_S) -> Result:
    """Warm up, then measure `target`; again when all of a c>1 run landed on one worker.

    A pre-fork server keeps each keep-alive connection on the worker that accepted it, and wrk
    opens all its connections at once, so now and then one worker takes the whole load; such a
    run measures one core, not the server. Every wrk run opens new connections: a new deal.
    """
    for _ in range(MEASURE_TRIES - 1):
        result = measure_once(target, concurrency, seconds)
        if not result.imbalanced:
            return result
        print("    one worker took the whole load; measuring again", flush=True)
    return measure_once(target, concurrency, seconds)


Wrk = Callable[[Target, int, int], dict]  # (target, concurrency, seconds) -> parsed numbers


def measure_once(target: Target, concurrency: int, seconds: int, wrk: Wrk = run_wrk) -> Result:
    """Warm up for WARMUP_S, then measure `target` for `seconds`; `wrk` runs the load."""
    wrk(target, concurrency, WARMUP_S)
    pids = process_tree(target.pid)
    cpu_before, host_before = [cpu_seconds([pid]) for pid in pids], host_cpu()
    stats = wrk(target, concurrency, seconds)
    cpu_after, host_after = [cpu_seconds([pid]) for pid in pids], host_cpu()
    cpu_by_process = tuple(a - b for a, b in zip(cpu_after, cpu_before, strict=True))
    total, idle, _ = (a - b for a, b in zip(host_after, host_before, strict=True))
    result = Result(
        target=target.name,
        concurrency=concurrency,
        requests=stats["requests"],
        rps=stats["rps"],
        p50_ms=stats["p50_ms"],
        p99_ms=stats["p99_ms"],
        cpu_ms_per_request=sum(cpu_by_process) * 1000 / max(stats["requests"], 1),
        host_busy_pct=100 * (total - idle) / max(total, 1),
        cpu_by_process=cpu_by_process,
    )
    print(f"  {target.name:<24} c={concurrency:<3} {result.rps:9.1f} rps", flush=True)
    return result
