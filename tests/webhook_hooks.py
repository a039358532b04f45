"""Python hooks for the webhook tests (BFF_WEBHOOK_HOOK=tests.webhook_hooks:...)."""

import threading

from bff.kard.notifications import Notification

received: list[Notification] = []
failures_left = {"count": 0}
_lock = threading.Lock()


def record(notification: Notification) -> None:
    """Keep the notification."""
    with _lock:
        received.append(notification)


def flaky(notification: Notification) -> None:
    """Fail while `failures_left` lasts, then keep the notification."""
    with _lock:
        if failures_left["count"] > 0:
            failures_left["count"] -= 1
            raise RuntimeError("the issuer's system is down")
        received.append(notification)


def reset(failures: int = 0) -> None:
    with _lock:
        received.clear()
        failures_left["count"] = failures


not_callable = 42
