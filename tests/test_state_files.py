"""The state files in BFF_STATE_DIR open safely in any number of processes at the same moment."""

import subprocess
import sys
import textwrap

from tests.servers import ROOT

# Forked processes released by one pipe, as a server's workers are: opening within microseconds.
OPEN_AT_ONCE = textwrap.dedent(
    """
    import os, sys, tempfile
    from pathlib import Path
    from bff.attributions.outbox.store import Bounds
    from bff.attributions.outbox.sqlite import SqliteOutbox
    from bff.session import dev_key
    from bff.webhooks.inbox.sqlite import SqliteInbox

    rounds, processes = int(sys.argv[1]), int(sys.argv[2])
    failed = 0
    for _ in range(rounds):
        state = Path(tempfile.mkdtemp(dir=sys.argv[3]))
        release, go = os.pipe()
        children = []
        for _ in range(processes):
            child = os.fork()
            if child == 0:
                os.close(go)
                os.read(release, 1)
                try:
                    SqliteOutbox(state / "outbox.sqlite3", Bounds(10, 10)).put(
                        "u", [], now=0, error=""
                    )
                    SqliteInbox(state / "webhooks.sqlite3").status(now=0)
                    dev_key(state)
                except Exception as error:
                    print(f"{type(error).__name__}: {error}", flush=True)
                    os._exit(1)
                os._exit(0)
            children.append(child)
        os.close(release)
        os.close(go)
        failed += sum(os.waitpid(child, 0)[1] != 0 for child in children)
    print(f"{failed} failed")
    """
)


def test_many_processes_open_the_state_files_at_the_same_moment(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", OPEN_AT_ONCE, "30", "8", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 failed", done.stdout
