"""Per-user simulator state: accepted attribution events and offer actions."""

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Which event codes change an offer's state for the user, and the state flag each sets.
_EFFECTS = {"VIEW": "viewed", "ACTIVATE": "activated", "BOOST": "boosted"}


@dataclass(frozen=True)
class OfferState:
    """What one user has done with one offer."""

    activated: bool = False
    boosted: bool = False
    viewed: bool = False
    redemptions: int = 0


@dataclass
class _User:
    events: list[dict[str, Any]] = field(default_factory=list)
    flags: dict[str, set[str]] = field(
        default_factory=lambda: {flag: set() for flag in _EFFECTS.values()}
    )


class UserStore:
    """Thread-safe state of every user the simulator has seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, _User] = {}

    def record_events(self, user_id: str, events: Iterable[dict[str, Any]]) -> None:
        """Store accepted attribution events and apply their effects on offers."""
        with self._lock:
            user = self._users.setdefault(user_id, _User())
            for event in events:
                user.events.append(event)
                flag = _EFFECTS.get(event["attributes"]["eventCode"])
                if flag and event["type"] == "offerAttribution":
                    user.flags[flag].add(event["attributes"]["entityId"])

    def events(self, user_id: str) -> list[dict[str, Any]]:
        """Return the user's accepted events in arrival order."""
        with self._lock:
            user = self._users.get(user_id)
            return list(user.events) if user else []

    def offer_state(self, user_id: str, offer_id: str, redemptions: int) -> OfferState:
        """Return what the user has done with the offer."""
        with self._lock:
            user = self._users.get(user_id) or _User()
            return OfferState(
                activated=offer_id in user.flags["activated"],
                boosted=offer_id in user.flags["boosted"],
                viewed=offer_id in user.flags["viewed"],
                redemptions=redemptions,
            )

    def clear(self) -> None:
        """Forget every user."""
        with self._lock:
            self._users.clear()
