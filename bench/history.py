"""Benchmark `kard-bff history upload` on a 1,000,000-line JSONL file of historical transactions.

What is measured, in one run, each step in its own child process (wall time and CPU from
`os.wait4`'s rusage of that child alone; peak RSS as the child's own `VmHWM`, since after fork and
exec `ru_maxrss` still counts the parent's pages at the fork):

- **read**: read the file line by line, nothing else: the I/O floor.
- **read + parse**: the same, plus `orjson.loads` of every line: the baseline any checker pays.
- **read + parse + check**: plus `record_errors` (the guide's field tables) on every record.
- **read + gzip**: read and gzip the file in 1 MiB blocks, unchecked: compression alone.
- **check + gzip**: `bff.history.jsonl.scan_to_file`, the one pass `history upload` makes.
- **history upload**: the real command, `kard-bff history upload FILE`, against the Kard
  simulator (`kard-bff sandbox`) in another process: the pass above, the presigned URL request
  and the streamed PUT of the gzip file. Then the simulator's own processing of the file is
  timed until its results file is written (Kard's side: not ours, shown for scale).
- **history results**: `kard-bff history results` of a results document in which Kard refused
  every line (the worst case: an error per line, each echoing its line), mapped back to the file.

The differences between rows are each stage's cost (every row also pays ~0.4 s of process
start-up and imports). The file is generated first in a temporary
directory (realistic records, 80% `historicalTransaction` and 20% `coreHistoricalTransaction`,
50,000 users, unique IDs). Results go to bench/results/history-<time>.json. Run with `make bench`.
"""

from __future__ import annotations

import atexit
import gzip
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

from bench.harness import BIN, RESULTS, ROOT, free_port, save_report
from bff.history import jsonl
from bff.kard.transactions import record_errors

LINES = int(os.environ.get("BENCH_HISTORY_LINES", "1000000"))
USERS = 50_000
SEED = 20241015
PROCESSING_TIMEOUT_S = 900

MERCHANTS = [
    ("ADVANCEAUTO", "5533", "Philadelphia", "PA", "19147"),
    ("WHOLEFDS MKT", "5411", "Austin", "TX", "78701"),
    ("SHELL OIL", "5541", "Houston", "TX", "77002"),
    ("STARBUCKS", "5814", "Seattle", "WA", "98101"),
    ("TARGET", "5310", "Minneapolis", "MN", "55403"),
    ("CVS PHARMACY", "5912", "Boston", "MA", "02108"),
    ("HOME DEPOT", "5200", "Atlanta", "GA", "30303"),
    ("UBER TRIP", "4121", "San Francisco", "CA", "94103"),
    ("CHIPOTLE", "5812", "Denver", "CO", "80202"),
    ("BEST BUY", "5732", "Chicago", "IL", "60601"),
    ("KROGER", "5411", "Cincinnati", "OH", "45202"),
    ("WALGREENS", "5912", "Miami", "FL", "33130"),
]
NETWORKS = ("VISA", "MASTERCARD", "AMERICANEXPRESS", "DISCOVER")


@dataclass(frozen=True)
class Row:
    """One measured step."""

    step: str
    lines: int
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


# The file.


def generate(path: Path, lines: int) -> None:
    """Write `lines` valid, varied JSONL records to `path`."""
    rng = random.Random(SEED)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    span = int((datetime(2025, 1, 1, tzinfo=UTC) - start).total_seconds())
    with path.open("wb") as out:
        batch = []
        for number in range(lines):
            when = start + timedelta(seconds=rng.randrange(span))
            batch.append(orjson.dumps(_record(rng, number, when)) + b"\n")
            if len(batch) == 10_000:
                out.write(b"".join(batch))
                batch = []
        out.write(b"".join(batch))


def _record(rng: random.Random, number: int, when: datetime) -> dict:
    user = f"user-{rng.randrange(USERS):06d}-{rng.getrandbits(32):08x}"
    transaction = f"{rng.getrandbits(128):032x}"
    amount = rng.randrange(100, 50_000)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if number % 5 == 4:
        return {
            "id": f"core-{number:07d}-{rng.getrandbits(40):010x}",
            "type": "coreHistoricalTransaction",
            "attributes": {
                "userId": user,
                "transactionId": transaction,
                "amount": amount,
                "currency": "USD",
                "description": rng.choice(MERCHANTS)[0] + f" #{rng.randrange(9999)}",
                "direction": "DEBIT",
                "status": "SETTLED",
                "settledDate": stamp,
                "authorizationDate": stamp,
                "financialInstitutionId": "First National Bank",
                "cardLastFours": [f"{rng.randrange(10_000):04d}"],
            },
        }
    name, mcc, city, state, zipcode = rng.choice(MERCHANTS)
    return {
        "id": f"txn-{number:07d}-{rng.getrandbits(40):010x}",
        "type": "historicalTransaction",
        "attributes": {
            "userId": user,
            "transactionId": transaction,
            "status": rng.choice(("APPROVED", "SETTLED")),
            "amount": amount,
            "subtotal": amount - rng.randrange(0, 100),
            "currency": "USD",
            "direction": rng.choice(("DEBIT", "DEBIT", "DEBIT", "CREDIT")),
            "paymentType": "CARD",
            "description": f"{name} {city.upper()} {state}",
            "description2": name,
            "mcc": mcc,
            "cardBIN": f"{rng.randrange(400000, 560000)}",
            "cardLastFour": f"{rng.randrange(10_000):04d}",
            "cardNetwork": rng.choice(NETWORKS),
            "authorizationDate": stamp,
            "authorizationCode": f"{rng.randrange(1_000_000):06d}",
            "retrievalReferenceNumber": f"{rng.randrange(10**12):012d}",
            "systemTraceAuditNumber": f"{rng.randrange(10**6):06d}",
            "merchant": {
                "id": f"{rng.randrange(10**15):015d}",
                "name": name,
                "addrStreet": f"{rng.randrange(1, 9999)} Main St",
                "addrCity": city,
                "addrState": state,
                "addrZipcode": zipcode,
                "addrCountry": "United States",
                "latitude": f"{rng.uniform(25, 48):.7f}",
                "longitude": f"{rng.uniform(-122, -71):.7f}",
                "storeId": f"{rng.randrange(100_000)}",
            },
        },
    }


def refuse_every_line(source: Path, target: Path) -> None:
    """Write the results Kard would send if it refused every line, the worst case for `history
    results`: one error per line, naming its record and echoing its text."""
    attributes = {"fileType": "historicalTransactionsFile", "fileName": "x.jsonl.gz", "fileId": "x"}
    data = {"type": "fileProcessingResult", "id": "bench", "attributes": attributes}
    with source.open("rb") as lines, target.open("wb") as out:
        out.write(orjson.dumps({"data": data})[:-1] + b',"errors":[')
        for number, line in enumerate(lines):
            text = line.rstrip(b"\n")
            error = {
                "status": "400",
                "title": "Invalid Request",
                "id": orjson.loads(text)["id"],
                "detail": "Invalid request: .attributes.currency must be USD | " + text.decode(),
            }
            out.write((b"," if number else b"") + orjson.dumps(error))
        out.write(b"]}")


# The steps, each run in a child: `python bench/history.py --step NAME FILE`.


def step_read(source: Path) -> int:
    with source.open("rb") as file:
        return sum(1 for _ in file)


def step_parse(source: Path) -> int:
    count = 0
    with source.open("rb") as file:
        for line in file:
            orjson.loads(line)
            count += 1
    return count


def step_check(source: Path) -> int:
    scan = jsonl.scan(source, record_errors)
    assert scan.invalid == 0, jsonl_problems(scan)
    return scan.lines


def step_gzip(source: Path) -> int:
    count = 0
    with (
        _scratch() as target,
        source.open("rb") as file,
        gzip.GzipFile(target, "wb", compresslevel=jsonl.GZIP_LEVEL, mtime=0) as out,
    ):
        while block := file.read(1 << 20):
            out.write(block)
            count += block.count(b"\n")
    return count


def step_check_gzip(source: Path) -> int:
    with _scratch() as target:
        scan = jsonl.scan_to_file(source, record_errors, target, compress=True, skip_invalid=False)
    assert scan.invalid == 0, jsonl_problems(scan)
    return scan.lines


@contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kard-bff-bench-") as directory:
        yield Path(directory) / "out.gz"


def jsonl_problems(scan: jsonl.Scan) -> str:
    return "; ".join(f"{p.line}: {p.pointer} {p.message}" for p in scan.problems[:5])


STEPS = {
    "read": step_read,
    "read + parse": step_parse,
    "read + parse + check": step_check,
    "read + gzip": step_gzip,
    "check + gzip": step_check_gzip,
}


def run_child(
    step: str, arguments: list[str], lines: int, env: dict | None = None, *, exit_code: int = 0
) -> Row:
    """Run `python -m bench.history ARGUMENTS` to its end; its wall time, CPU and peak RSS.

    Its output goes to files (`history results` prints a line per error); the first MiB of its
    standard output and error is kept in `row_outputs`."""
    command = [sys.executable, "-m", "bench.history", *arguments]
    with (
        tempfile.NamedTemporaryFile("r", prefix="kard-bff-bench-peak-") as peak,
        tempfile.TemporaryFile("w+") as stdout,
        tempfile.TemporaryFile("w+") as stderr,
    ):
        env = {**(env or os.environ), PEAK_FILE: peak.name}
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        peak_rss_mib = float(peak.read() or "nan")
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(1 << 20), stderr.read(1 << 20)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != exit_code:
        raise RuntimeError(f"{step} exited with {child.returncode}:\n{output}\n{errors}")
    if step in STEPS:
        assert int(output.strip()) == lines, output
    row = Row(step, lines, seconds, usage.ru_utime + usage.ru_stime, peak_rss_mib)
    print(f"  {step:<22} {seconds:7.2f} s  {row.peak_rss_mib:7.1f} MiB", flush=True)
    row_outputs[step] = output
    row_errors[step] = errors
    return row


row_outputs: dict[str, str] = {}
row_errors: dict[str, str] = {}
PEAK_FILE = "KARD_BFF_BENCH_PEAK_FILE"


def _report_own_peak() -> None:
    """Write this process's peak RSS in MiB (`VmHWM`, its own pages only) where the parent said."""
    status = Path("/proc/self/status").read_text()
    kib = int(status.split("VmHWM:")[1].split()[0])
    Path(os.environ[PEAK_FILE]).write_text(f"{kib / 1024:.1f}")


def child_main(arguments: list[str]) -> int:
    """A measured child: `--step NAME FILE`, or `--cli ARGS...` for `kard-bff ARGS...`."""
    atexit.register(_report_own_peak)
    if arguments[0] == "--step":
        print(STEPS[arguments[1]](Path(arguments[2])))
        return 0
    from bff.cli import main as kard_bff

    return kard_bff(arguments[1:], prog_name="kard-bff")


# The simulator, in its own process group.


@contextmanager
def simulator(log: Path) -> Iterator[str]:
    """`kard-bff sandbox` on a free port; yield its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BIN / "kard-bff"), "sandbox", "--port", str(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the simulator exited:\n{log.read_text()[-2000:]}")
            with suppress(httpx.TransportError):
                httpx.get(f"{url}/_sandbox/uploads", timeout=1.0)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the simulator did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_processed(url: str, upload_id: str) -> tuple[float, dict]:
    """Seconds until the simulator has processed the upload, and its control record of it."""
    started = time.perf_counter()
    while time.perf_counter() - started < PROCESSING_TIMEOUT_S:
        for upload in httpx.get(f"{url}/_sandbox/uploads", timeout=10).json().get("data", []):
            if upload.get("id") == upload_id and upload.get("status") in ("processed", "failed"):
                return time.perf_counter() - started, upload
        time.sleep(0.2)
    raise RuntimeError(f"the simulator did not process {upload_id} in {PROCESSING_TIMEOUT_S} s")


# The report.


def format_table(rows: list[Row], baseline: Row) -> list[str]:
    header = (
        f"{'step':<22} {'seconds':>8} {'lines/s':>10} {'µs/line':>8} {'vs parse':>9} "
        f"{'CPU s':>7} {'peak RSS':>9}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        per_line = 1e6 * row.seconds / row.lines
        ratio = row.seconds / baseline.seconds
        lines.append(
            f"{row.step:<22} {row.seconds:>8.2f} {row.lines_per_second:>10,.0f} {per_line:>8.2f} "
            f"{ratio:>8.2f}x {row.cpu_seconds:>7.2f} {row.peak_rss_mib:>5.0f} MiB"
        )
    return lines


def main() -> int:
    """Generate the file, run every step, print the table and save the results."""
    if PEAK_FILE in os.environ:
        return child_main(sys.argv[1:])
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory(prefix="kard-bff-bench-history-") as tmp:
        directory = Path(tmp)
        source = directory / "historical.jsonl"
        print(f"generating {LINES:,} lines", flush=True)
        started = time.perf_counter()
        generate(source, LINES)
        size = source.stat().st_size
        print(f"  {size / 2**20:,.1f} MiB in {time.perf_counter() - started:.1f} s", flush=True)
        print("measuring (each step in its own process)", flush=True)
        rows = [run_child(step, ["--step", step, str(source)], LINES) for step in STEPS]
        with simulator(directory / "simulator.log") as url:
            env = {
                **os.environ,
                "KARD_ENV": "sandbox",
                "KARD_API_URL": url,
                "BFF_STATE_DIR": str(directory / "state"),
            }
            command = ["--cli", "history", "upload", str(source)]
            rows.append(run_child("history upload", command, LINES, env))
            summary = row_outputs["history upload"].strip().splitlines()[-1]
            upload_id = summary.rsplit("upload ", 1)[1].split()[0]
            processing_s, processed = wait_processed(url, upload_id)
            print(f"  simulator processed it in {processing_s:.1f} s", flush=True)
            results = directory / "results.json"
            refuse_every_line(source, results)
            command = ["--cli", "history", "results", str(results), "--source", str(source)]
            rows.append(run_child("history results", command, LINES, env, exit_code=1))
            assert row_outputs["history results"].startswith(f"{source}:1: Invalid request")
            assert f": {LINES} lines refused by Kard\n" in row_errors["history results"]
    gzipped = int(summary.split(" bytes, ")[1].split(" gzipped")[0])
    by_step = {row.step: row for row in rows}
    report = [
        "",
        f"file: {LINES:,} lines, {size:,} bytes ({size / LINES:.0f} bytes/line); gzip level "
        f"{jsonl.GZIP_LEVEL}: {gzipped:,} bytes ({gzipped / size:.1%} of the original)",
        f"host: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        "",
        *format_table(rows, by_step["read + parse"]),
        "",
        f"check cost over parsing: {_extra(by_step, 'read + parse + check', 'read + parse')}",
        f"gzip cost over reading:  {_extra(by_step, 'read + gzip', 'read')}",
        f"history upload: {summary}",
        f"simulator (Kard's side, not measured above): {processing_s:.1f} s to process the file "
        f"after the PUT; results: {json.dumps(processed.get('errors', processed))[:200]}",
    ]
    save_report("history", stamp, report)
    document = {
        "when": stamp,
        "lines": LINES,
        "bytes": size,
        "gzipBytes": gzipped,
        "gzipLevel": jsonl.GZIP_LEVEL,
        "steps": [asdict(row) | {"linesPerSecond": row.lines_per_second} for row in rows],
        "simulatorProcessingSeconds": processing_s,
        "uploadSummary": summary,
        "selfPeakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    (RESULTS / f"history-{stamp}.json").write_text(json.dumps(document, indent=2) + "\n")
    return 0


def _extra(by_step: dict[str, Row], step: str, base: str) -> str:
    extra = by_step[step].seconds - by_step[base].seconds
    return f"+{extra:.2f} s, {1e6 * extra / by_step[step].lines:.2f} µs per line"


if __name__ == "__main__":
    sys.exit(main())
