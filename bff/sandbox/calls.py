"""The log of every request the simulator received."""

import re
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    """One request: method, root-relative path, ordered query pairs, JSON body, headers, status."""

    method: str
    path: str
    query: list[tuple[str, str]]
    json: Any
    headers: dict[str, str]
    status: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Render the call for the HTTP control surface."""
        return {
            "method": self.method,
            "path": self.path,
            "query": [list(pair) for pair in self.query],
            "status": self.status,
            "json": _redacted_body(self.json),
            "headers": {
                name: REDACTED if name.lower() == "authorization" else value
                for name, value in self.headers.items()
            },
        }


REDACTED = "[redacted]"


def _redacted_body(body: Any) -> Any:
    """The body without the client secret the SDKs send as JSON: credentials never go back out."""
    if isinstance(body, dict) and "client_secret" in body:
        return {**body, "client_secret": REDACTED}
    return body


@dataclass
class CallLog:
    """Thread-safe, append-only (until cleared) list of calls."""

    _calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, call: Call) -> None:
        """Record a call."""
        with self._lock:
            self._calls.append(call)

    def snapshot(self) -> list[Call]:
        """Return the calls so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def matching(self, path_regex: str, method: str | None = None) -> list[Call]:
        """Return the calls whose path matches the regex (and method, when given)."""
        pattern = re.compile(path_regex)
        return [
            call
            for call in self.snapshot()
            if pattern.search(call.path) and (method is None or call.method == method.upper())
        ]

    def clear(self) -> None:
        """Forget every call."""
        with self._lock:
            self._calls.clear()
