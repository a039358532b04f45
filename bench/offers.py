"""Benchmark `GET /api/v1/offers` (a 20-offer page, all components) through kard-bff, next to
its two references.

What is measured, in one run, at concurrency 1 and 32 (wrk, ~2 s warm-up then ~10 s measured):

- **upstream direct (nginx)**: the request kard-bff sends to Kard, sent straight to a static
  nginx that answers with a recorded simulator answer (20 offers, all nine supportedComponents).
  This is the floor: what the network path and the load generator cost.
- **minimal proxy** (`bench/minimal_proxy.py`): a bare Flask proxy under the same gunicorn
  settings as kard-bff, doing only what any proxy must (pooled httpx, orjson, link and CTA
  rewrites). This is the target from the issue: on 2 cores ~2,000-2,500 rps and ~0.75 ms added
  at c=1; kard-bff should come within 15% of its requests per second.
- **kard-bff**: the real BFF under its production server (`kard-bff serve`: gunicorn gthread,
  2 workers x 8 threads, access log on as in production), with an HS256 app session token.

Because the upstream is static nginx (microseconds per answer), the proxy in front of it is the
bottleneck, so the differences between rows are the proxies' own costs. For each row the table
gives requests/second, p50 and p99 latency, and the CPU milliseconds per request spent by the
server under test (utime+stime of its whole process tree from /proc, over the measured run,
divided by the completed requests). After the table, a py-spy profile of one kard-bff worker
under c=32 load shows where its time goes; the raw profile is written to bench/results/.

Everything (nginx, both gunicorns, wrk, py-spy) shares this host's cores, so absolute numbers
move with the host; compare rows of the same run. Run with `make bench`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import jwt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as `python bench/offers.py`: make `bff` and `bench` importable

from bff.kard.vocabulary import COMPONENTS  # noqa: E402
from bff.sandbox import Simulator, create_simulator_app  # noqa: E402

BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
NGINX_WORKERS = "1"  # one worker: a static file needs little, and it leaves the cores to proxies
DURATION_S = 10
WARMUP_S = 2
CONCURRENCIES = (1, 32)
PAGE_SIZE = 20
MEASURE_TRIES = 3
IMBALANCE_PCT = 75  # flag a c=32 row where one of the 2 workers did more than this % of the work
TARGET_RATIO = 0.85  # kard-bff within 15% of the minimal proxy's requests per second
ORG, USER = "org-sandbox", "bench-user"
UPSTREAM_OFFERS = f"/v2/issuers/{ORG}/users/{USER}/offers"
UPSTREAM_QUERY = f"page%5Bsize%5D={PAGE_SIZE}&" + "&".join(
    f"supportedComponents={component}" for component in COMPONENTS
)
# The request: a 20-offer page with all components, named by the app, so both proxies
# forward the same upstream query (kard-bff checks every parameter; the minimal proxy none).
BFF_PATH = f"/api/v1/offers?{UPSTREAM_QUERY}"
JWT_SECRET = "bench-secret-that-is-at-least-32-bytes-long"
TOKEN_JSON = '{"access_token": "bench-token", "token_type": "Bearer", "expires_in": 3600}'
GUNICORN_OPTIONS = ("--worker-class", "gthread", "--workers", "2", "--threads", "8")
CLK_TCK = os.sysconf("SC_CLK_TCK")

_processes: list[subprocess.Popen] = []


@dataclass(frozen=True)
class Target:
    """One server under test: how to reach it and which processes to charge for its CPU."""

    name: str
    url: str
    headers: dict[str, str]
    pid: int
    rewrites: bool  # whether its answers must carry /api/v1/ URLs


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
    host_steal_pct: float
    cpu_by_process: tuple[float, ...]  # CPU seconds of each process of the server, root first

    @property
    def worker_shares(self) -> list[float]:
        """Each worker's share (%) of the workers' CPU, busiest first (the root is no worker)."""
        workers = sorted(self.cpu_by_process[1:], reverse=True)
        total = sum(workers)
        return [100 * cpu / total for cpu in workers] if total else []


# Processes: every child runs in its own session, so it and its children stop as one group.


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


def _raise_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    """Poll `url` until it answers 200; fail with the server's log if it exits or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{tail(log)}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    """The end of a log file, for error messages."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# The upstream: a simulator answer recorded once, served by nginx.


def record_offers(path: Path) -> None:
    """Record the simulator's answer to the offers request kard-bff sends, into `path`."""
    client = create_simulator_app(Simulator()).test_client()
    token = client.post("/v2/auth/token", json={"client_id": "b", "client_secret": "b"})
    assert token.status_code == 200, token.data
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    answer = client.get(f"{UPSTREAM_OFFERS}?{UPSTREAM_QUERY}", headers=headers)
    assert answer.status_code == 200, answer.data
    assert len(answer.get_json()["data"]) == PAGE_SIZE
    path.write_bytes(answer.data)
    path.chmod(0o644)


def nginx_config(directory: Path, port: int, offers_file: Path) -> str:
    """nginx configuration serving the token and the recorded offers; its paths in `directory`."""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {directory}/{kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
daemon off;
worker_processes {NGINX_WORKERS};
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 100000000;
{temp_paths}
    server {{
        listen 127.0.0.1:{port};
        location = /v2/auth/token {{
            default_type application/json;
            return 200 '{TOKEN_JSON}';
        }}
        location = {UPSTREAM_OFFERS} {{
            types {{ }}
            default_type application/json;
            root {offers_file.parent};
            try_files /{offers_file.name} =404;
        }}
    }}
}}
"""


def start_nginx(directory: Path, offers_file: Path) -> tuple[subprocess.Popen, str]:
    """Run nginx in the foreground on a free port; return it and its base URL."""
    port = free_port()
    config = directory / "nginx.conf"
    config.write_text(nginx_config(directory, port, offers_file))
    log = directory / "nginx.log"
    command = [NGINX, "-p", str(directory), "-c", str(config), "-e", str(log)]
    process = start(command, log=log)
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}{UPSTREAM_OFFERS}?{UPSTREAM_QUERY}", process, log)
    return process, base


# The two proxies under the same gunicorn settings.


def start_kard_bff(
    directory: Path, upstream: str, *, name: str = "kard-bff", extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """Run `kard-bff serve` (its production server) against `upstream`; return it and its URL.

    `name` names its log and state folder in `directory`; `extra` adds to its settings."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KARD_", "BFF_", "REDIS_"))}
    env |= {  # as an issuer runs it: no embedded simulator, Kard's token and API at nginx
        "KARD_ENV": "production",
        "KARD_API_URL": upstream,
        "KARD_AUTH_URL": f"{upstream}/v2/auth/token",
        "KARD_CLIENT_ID": "bench-client",
        "KARD_CLIENT_SECRET": "bench-secret",
        "KARD_ORGANIZATION_ID": ORG,
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


def start_minimal_proxy(directory: Path, upstream: str) -> tuple[subprocess.Popen, str]:
    """Run bench/minimal_proxy.py under gunicorn like kard-bff's (access log on for both)."""
    port = free_port()
    env = dict(os.environ, BENCH_UPSTREAM_URL=upstream)
    command = [str(BIN / "python"), "-m", "gunicorn", *GUNICORN_OPTIONS]
    command += ["--access-logfile", "-", "--bind", f"127.0.0.1:{port}", "bench.minimal_proxy:app"]
    log = directory / "minimal-proxy.log"
    process = start(command, log=log, env=env)
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}{BFF_PATH}", process, log)
    return process, base


def session_token() -> str:
    """An app session token kard-bff accepts in hs256 mode."""
    claims = {"sub": USER, "exp": int(time.time()) + 3600}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


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


# Load generation with wrk.


def check_answer(target: Target) -> None:
    """One request with httpx: 200, 20 offers, and (for the proxies) /api/v1/ links and CTAs."""
    answer = httpx.get(target.url, headers=target.headers, timeout=10.0)
    assert answer.status_code == 200, f"{target.name}: {answer.status_code} {answer.text[:500]}"
    body = answer.json()
    assert len(body["data"]) == PAGE_SIZE, f"{target.name}: {len(body['data'])} offers"
    if not target.rewrites:
        return
    ctas = [
        offer["attributes"]["components"]["cta"]["action"]["url"]
        for offer in body["data"]
        if "cta" in offer["attributes"].get("components", {})
    ]
    assert ctas, f"{target.name}: no CTA in the answer"
    bad = [url for url in ctas if not url.startswith("/api/v1/")]
    assert not bad, f"{target.name}: CTA URLs not rewritten: {bad}"
    assert body["links"]["self"].startswith("/api/v1/offers?"), body["links"]


def wrk_command(target: Target, concurrency: int, seconds: int) -> list[str]:
    """The wrk command line for one run."""
    threads = min(concurrency, 2)
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    return [*command, target.url]


def run_wrk(target: Target, concurrency: int, seconds: int) -> dict[str, float]:
    """Run wrk; return its parsed numbers; fail loudly on non-2xx answers."""
    command = wrk_command(target, concurrency, seconds)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    stats = parse_wrk(done.stdout)
    if stats["non_2xx"]:
        raise RuntimeError(f"{target.name}: {stats['non_2xx']:.0f} non-2xx answers:\n{done.stdout}")
    if stats["socket_errors"]:
        print(f"  warning: {target.name} c={concurrency}: {stats['socket_errors_text']}")
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


def measure(target: Target, concurrency: int) -> Result:
    """Measure `target`, again when all of a c>1 run landed on one worker (up to 3 runs).

    gunicorn keeps each keep-alive connection on the worker that accepted it, and wrk opens all
    its connections at once, so now and then one worker takes the whole load; such a run measures
    one core, not the server. Every wrk run opens new connections, so running again re-deals them.
    """
    for attempt in range(1, MEASURE_TRIES + 1):
        result = _measure_once(target, concurrency)
        if concurrency == 1 or not _imbalanced(result) or attempt == MEASURE_TRIES:
            return result
        print("    one worker took the whole load; measuring again", flush=True)
    raise AssertionError("unreachable")


def _measure_once(target: Target, concurrency: int) -> Result:
    """Check the answer, warm up, then one measured wrk run with CPU accounting."""
    check_answer(target)
    run_wrk(target, concurrency, WARMUP_S)
    pids = process_tree(target.pid)
    cpu_before, host_before = [cpu_seconds([pid]) for pid in pids], host_cpu()
    stats = run_wrk(target, concurrency, DURATION_S)
    cpu_after, host_after = [cpu_seconds([pid]) for pid in pids], host_cpu()
    cpu_by_process = tuple(a - b for a, b in zip(cpu_after, cpu_before, strict=True))
    total, idle, steal = (a - b for a, b in zip(host_after, host_before, strict=True))
    result = Result(
        target=target.name,
        concurrency=concurrency,
        requests=stats["requests"],
        rps=stats["rps"],
        p50_ms=stats["p50_ms"],
        p99_ms=stats["p99_ms"],
        cpu_ms_per_request=sum(cpu_by_process) * 1000 / max(stats["requests"], 1),
        host_busy_pct=100 * (total - idle) / max(total, 1),
        host_steal_pct=100 * steal / max(total, 1),
        cpu_by_process=cpu_by_process,
    )
    print(f"  {target.name:<24} c={concurrency:<3} {result.rps:9.1f} rps", flush=True)
    return result


# Where kard-bff's time goes: py-spy on one worker under c=32.


def profile_worker(target: Target, output: Path) -> list[str]:
    """Record the busier kard-bff worker with py-spy under c=32 load into `output`.

    Returns report lines about the recording, or about why there is none.
    """
    py_spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if py_spy is None:
        return ["  py-spy is not installed: no profile"]
    load_log = output.with_suffix(".wrk.txt")
    load = start(wrk_command(target, 32, DURATION_S + 3), log=load_log)
    try:
        worker = busiest_worker(target.pid)
        if worker is None:
            return ["  no kard-bff worker process found: no profile"]
        command = [py_spy, "record", "--pid", str(worker), "--duration", str(DURATION_S)]
        command += ["--rate", "200", "--format", "raw", "--nonblocking", "--output", str(output)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        load.wait()
    said = done.stdout + done.stderr
    if done.returncode != 0 or not output.exists():
        return [f"  py-spy could not profile here ({done.returncode}): {said[-800:].strip()}"]
    stats = parse_wrk(load_log.read_text())
    if stats["non_2xx"]:
        raise RuntimeError(f"{stats['non_2xx']} non-2xx answers during the profile run: {load_log}")
    summary = re.search(r"Samples: \d+ Errors: \d+", said)
    return [
        f"  worker pid {worker} (the busier of the two over 1 s of load); "
        f"py-spy {summary.group(0) if summary else 'finished'}",
        f"  kard-bff while profiled: {stats['rps']:.1f} req/s, p50 {stats['p50_ms']:.2f} ms "
        "(py-spy's own CPU competes for the same cores)",
        "  note: py-spy counts threads blocked on a lock or a socket as active, so self samples",
        "  in ThreadLock.__enter__ or socket read/write are mostly waiting, not CPU",
    ]


def busiest_worker(master: int, seconds: float = 1.0) -> int | None:
    """The child of `master` that used the most CPU over the next `seconds`."""
    workers = [pid for pid in process_tree(master) if pid != master]
    if not workers:
        return None
    before = {pid: cpu_seconds([pid]) for pid in workers}
    time.sleep(seconds)
    return max(workers, key=lambda pid: cpu_seconds([pid]) - before[pid])


def aggregate_profile(raw: str) -> tuple[int, Counter, Counter]:
    """Total samples, and samples per file:function, inclusive and self, from collapsed stacks."""
    total, inclusive, self_samples = 0, Counter(), Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(frame) for frame in stack.split(";")]
        total += count
        for name in set(frames):
            inclusive[name] += count
        self_samples[frames[-1]] += count
    return total, inclusive, self_samples


def _frame_name(frame: str) -> str:
    """'function (path/file.py:123)' -> 'path/file.py:function'."""
    match = re.fullmatch(r"(.*) \(([^()]*?)(?::\d+)?\)", frame.strip())
    if match is None:
        return frame.strip()
    return f"{match.group(2)}:{match.group(1)}"


def format_profile(raw: str, top: int = 15) -> list[str]:
    """The top functions by inclusive and by self samples."""
    total, inclusive, self_samples = aggregate_profile(raw)
    if not total:
        return ["  (no samples)"]
    lines = [f"  {total} samples of active threads"]
    for title, counter in (("inclusive", inclusive), ("self", self_samples)):
        lines.append(f"  top {top} by {title} samples:")
        for name, count in counter.most_common(top):
            lines.append(f"    {100 * count / total:5.1f}%  {count:6d}  {name}")
    return lines


# The report.


def format_table(results: list[Result]) -> list[str]:
    """The one table: each target at each concurrency."""
    columns = ("conc", 4), ("req/s", 9), ("p50 ms", 8), ("p99 ms", 8), ("CPU ms/req", 11)
    header = f"{'target':<24}" + "".join(f" {name:>{width}}" for name, width in columns)
    header += "  worker CPU split %"
    lines = [header, "-" * len(header)]
    for r in results:
        split = "/".join(f"{share:.0f}" for share in r.worker_shares)
        lines.append(
            f"{r.target:<24} {r.concurrency:>4} {r.rps:>9.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.cpu_ms_per_request:>11.3f}  {split}"
        )
    return lines


def format_overheads(results: list[Result]) -> list[str]:
    """Per concurrency: kard-bff vs the minimal proxy, and each proxy's latency over nginx."""
    by_key = {(r.target, r.concurrency): r for r in results}
    lines = []
    for concurrency in CONCURRENCIES:
        direct = by_key[(NAMES["nginx"], concurrency)]
        minimal = by_key[(NAMES["minimal"], concurrency)]
        bff = by_key[(NAMES["bff"], concurrency)]
        rps_change = 100 * (bff.rps - minimal.rps) / minimal.rps
        within = "yes" if bff.rps >= TARGET_RATIO * minimal.rps else "NO"
        lines.append(
            f"c={concurrency:<3} kard-bff vs minimal proxy: {rps_change:+.1f}% req/s, "
            f"{bff.p50_ms - minimal.p50_ms:+.2f} ms at p50, "
            f"{bff.cpu_ms_per_request - minimal.cpu_ms_per_request:+.3f} CPU ms/req; "
            f"within 15% of the minimal proxy's req/s: {within}"
        )
        lines.append(
            f"      added over nginx direct at p50: "
            f"minimal proxy {minimal.p50_ms - direct.p50_ms:+.2f} ms, "
            f"kard-bff {bff.p50_ms - direct.p50_ms:+.2f} ms"
        )
        if concurrency > 1:
            lines += [_imbalance_warning(r) for r in (minimal, bff) if _imbalanced(r)]
    return lines


def _imbalanced(result: Result) -> bool:
    """Whether one worker did most of the work although there were connections for both."""
    shares = result.worker_shares
    return len(shares) > 1 and shares[0] > IMBALANCE_PCT


def _imbalance_warning(result: Result) -> str:
    split = "/".join(f"{share:.0f}" for share in result.worker_shares)
    return (
        f"      WARNING: {result.target} at c={result.concurrency}: one worker did "
        f"{result.worker_shares[0]:.0f}% of the work (split {split}).\n      gunicorn keeps each "
        "keep-alive connection on the worker that accepted it, so this row measured less than "
        "2 workers' worth of CPU; compare CPU ms/req, or run again"
    )


def format_host(results: list[Result], load_before: str, load_after: str) -> list[str]:
    """How busy the host was during each run (everything, wrk included), to judge the noise."""
    lines = [f"host: {os.cpu_count()} CPUs; loadavg before {load_before}, after {load_after}"]
    for r in results:
        lines.append(
            f"  {r.target:<24} c={r.concurrency:<3} host busy {r.host_busy_pct:5.1f}%, "
            f"steal {r.host_steal_pct:4.1f}%, {r.requests} requests, server CPU s "
            f"(master, workers): {' '.join(f'{cpu:.2f}' for cpu in r.cpu_by_process)}"
        )
    return lines


NAMES = {
    "nginx": "upstream direct (nginx)",
    "minimal": "minimal proxy",
    "bff": "kard-bff",
}


def setup_notes() -> list[str]:
    """How the servers and the load generator were set up, printed above the table."""
    return [
        f"GET /api/v1/offers?page[size]={PAGE_SIZE} with all {len(COMPONENTS)} "
        "supportedComponents, to both proxies; they forward the same query to "
        f"{UPSTREAM_OFFERS}, which nginx answers directly in the first rows",
        f"nginx: worker_processes {NGINX_WORKERS}, access_log off, keepalive on, static recorded "
        "simulator answer",
        "minimal proxy and kard-bff: gunicorn gthread, 2 workers x 8 threads, "
        "access log ON for both (to a file), as in production",
        f"wrk: -t1 -c1 / -t2 -c32, {WARMUP_S} s warm-up then {DURATION_S} s measured per row; "
        "CPU ms/req = utime+stime of the server's process tree / completed requests",
    ]


@contextmanager
def servers(directory: Path) -> Iterator[dict[str, Target]]:
    """Record the upstream answer, start nginx and both proxies; stop them all afterwards."""
    try:
        offers_file = directory / "www" / "offers.json"
        offers_file.parent.mkdir(mode=0o755)
        record_offers(offers_file)
        shutil.copy(offers_file, RESULTS / "upstream-offers.json")
        nginx, upstream = start_nginx(directory, offers_file)
        minimal, minimal_url = start_minimal_proxy(directory, upstream)
        bff, bff_url = start_kard_bff(directory, upstream)
        auth = {"Authorization": f"Bearer {session_token()}"}
        upstream_auth = {"Authorization": "Bearer bench-token"}
        yield {
            "nginx": Target(
                NAMES["nginx"],
                f"{upstream}{UPSTREAM_OFFERS}?{UPSTREAM_QUERY}",
                upstream_auth,
                nginx.pid,
                rewrites=False,
            ),
            "minimal": Target(
                NAMES["minimal"], f"{minimal_url}{BFF_PATH}", {}, minimal.pid, rewrites=True
            ),
            "bff": Target(NAMES["bff"], f"{bff_url}{BFF_PATH}", auth, bff.pid, rewrites=True),
        }
    finally:
        stop_all()


def main() -> int:
    """Run every measurement, print the report and save it under bench/results/."""
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    profile_file = RESULTS / f"kard-bff-c32-{stamp}.pyspy.raw"
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryDirectory(prefix="kard-bff-bench-") as tmp:
        directory = Path(tmp)
        directory.chmod(0o755)  # nginx workers run as nobody and read the recorded answer
        with servers(directory) as targets:
            print("measuring (each row: warm-up, then the measured run)", flush=True)
            results = [
                measure(targets[key], concurrency)
                for key in ("nginx", "minimal", "bff")
                for concurrency in CONCURRENCIES
            ]
            print("profiling one kard-bff worker with py-spy under c=32", flush=True)
            profile_lines = profile_worker(targets["bff"], profile_file)
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])

    report = ["", *setup_notes(), "", *format_table(results), "", *format_overheads(results)]
    report += [
        "target (issue): minimal proxy ~2,000-2,500 req/s and ~0.75 ms added at c=1 on 2 cores; "
        "kard-bff within 15% of it",
        "",
        *format_host(results, load_before, load_after),
        "",
        "where kard-bff's time goes (py-spy on one of its 2 workers under c=32, "
        f"{DURATION_S} s at 200 Hz, idle threads excluded):",
    ]
    report += profile_lines
    if profile_file.exists():
        report += format_profile(profile_file.read_text())
        report.append(f"  raw profile: {profile_file.relative_to(ROOT)}")
    text = "\n".join(report)
    print(text)
    (RESULTS / f"offers-{stamp}.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
