"""Fault injection: make matching requests slow and/or fail, for resilience tests."""

import re
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    """One injected fault and how many more requests it applies to (None = until cleared);
    with `every`, only every `every`-th matching request (the others go through)."""

    status: int | None
    retry_after: int | float | str | None
    delay: float
    remaining: int | None
    path: re.Pattern[str] | None
    method: str | None
    body: Any
    every: int = 1
    seen: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Return whether the fault applies to a request."""
        return (self.method is None or self.method == method.upper()) and (
            self.path is None or self.path.search(path) is not None
        )


class FaultInjector:
    """Thread-safe list of faults; the first matching one is consumed per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(
        self,
        status: int | None = None,
        *,
        retry_after: int | float | str | None = None,
        delay: float = 0.0,
        times: int | None = None,
        path: str | None = None,
        method: str | None = None,
        body: Any = None,
        every: int = 1,
    ) -> Fault:
        """Add a fault for the next `times` matching requests (all of them when None); with
        `every`, for every `every`-th of them only (`every=2`: half of them)."""
        if status is not None and not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status code, got {status}")
        if delay < 0 or (times is not None and times < 1) or every < 1:
            raise ValueError("delay must be >= 0, and times and every >= 1")
        fault = Fault(
            status=status,
            retry_after=retry_after,
            delay=delay,
            remaining=times,
            path=re.compile(path) if path is not None else None,
            method=method.upper() if method else None,
            body=body,
            every=every,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Return and consume one use of the first fault matching the request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.seen += 1
                    if fault.seen % fault.every:
                        return None  # this one goes through
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()
