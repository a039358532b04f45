"""Where a server's time goes: py-spy on its busiest worker under load, summed by function."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

from bench.harness import (
    BIN,
    DURATION_S,
    Target,
    cpu_seconds,
    parse_wrk,
    process_tree,
    start,
    wrk_command,
)


def profile_worker(target: Target, output: Path, concurrency: int = 32) -> list[str]:
    """Record the busier worker of `target` with py-spy under load into `output`.

    Returns report lines about the recording, or about why there is none.
    """
    py_spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if py_spy is None:
        return ["  py-spy is not installed: no profile"]
    load_log = output.with_suffix(".wrk.txt")
    load = start(wrk_command(target, concurrency, DURATION_S + 3), log=load_log)
    try:
        worker = busiest_worker(target.pid)
        if worker is None:
            return [f"  no {target.name} worker process found: no profile"]
        command = [py_spy, "record", "--pid", str(worker), "--duration", str(DURATION_S)]
        # --gil: only the thread holding the interpreter lock, so threads waiting on a lock, a
        # socket or libcurl are not counted as busy.
        command += ["--rate", "200", "--gil", "--format", "raw", "--nonblocking"]
        command += ["--output", str(output)]
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
        f"  worker pid {worker} (the busiest over 1 s of load); "
        f"py-spy {summary.group(0) if summary else 'finished'}",
        f"  {target.name} while profiled: {stats['rps']:.1f} req/s, p50 {stats['p50_ms']:.2f} ms "
        "(py-spy's own CPU competes for the same cores)",
        "  note: sampled with --gil, the thread holding the interpreter lock: the worker's Python",
        "  time; native code that lets go of the lock (libcurl's network I/O) is not in it",
        *format_profile(output.read_text()),
    ]


def busiest_worker(master: int, seconds: float = 1.0) -> int | None:
    """The descendant of `master` that used the most CPU over the next `seconds`."""
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
    lines = [f"  {total} samples of the thread holding the interpreter lock"]
    for title, counter in (("inclusive", inclusive), ("self", self_samples)):
        lines.append(f"  top {top} by {title} samples:")
        for name, count in counter.most_common(top):
            lines.append(f"    {100 * count / total:5.1f}%  {count:6d}  {name}")
    return lines
