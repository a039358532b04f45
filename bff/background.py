"""Background work that must not be lost: one polling thread per process, and a hook to stop it
cleanly when the process ends (when to retry an item is `bff.retries`)."""

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


class Worker:
    """Runs `step` in a daemon thread until it finds nothing to do, then polls; started once
    per process (again after a fork, since threads do not cross forks). `wake` skips the wait."""

    def __init__(self, name: str, step: Callable[[], int]):
        self._name = name
        self._step = step
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False

    def ensure_started(self) -> None:
        """Start this process's thread unless it runs already."""
        with self._lock:
            if self._pid == os.getpid() and self._thread and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._stopped = False
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Run the next step now rather than after the poll interval."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """Whether the thread was told to stop: a step should not start on another item."""
        return self._stopped

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the thread, waiting up to `timeout` for it to finish its current step; return
        whether it has finished."""
        self._stopped = True
        self.wake()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return thread is None
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        failing = False
        while not self._stopped:
            self._wake.clear()
            try:
                done = self._step()
            except Exception:  # an unreachable Redis, a locked database: try again soon
                # Logged once per outage, not twice a second until it ends.
                if not failing:
                    log.exception("%s failed; trying again every %s s", self._name, POLL_SECONDS)
                failing, done = True, 0
            else:
                if failing:
                    log.info("%s works again", self._name)
                failing = False
            if not done:
                self._wake.wait(POLL_SECONDS)


def at_process_exit(stop: Callable[[], None]) -> None:
    """Call `stop` once this process's main thread has returned, before the process exits.

    A granian worker ends with `os._exit`, which skips `atexit`; but every process (granian's
    and gunicorn's workers, `flask run`) joins its non-daemon threads first, so a thread that
    waits for the main thread runs `stop` in all of them.
    """

    def wait_then_stop() -> None:
        threading.main_thread().join()
        try:
            stop()
        except Exception:  # the state store is gone: what is left waits for its lease to run out
            log.exception("stopping at exit failed")

    threading.Thread(target=wait_then_stop, name="at-exit").start()
