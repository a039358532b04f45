"""The Simulator: all state of the embedded Kard API, safe to share across server threads."""

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bff.sandbox.auth import TokenStore, WebViewSigner
from bff.sandbox.calls import Call, CallLog
from bff.sandbox.catalog import Offer
from bff.sandbox.components import OfferState
from bff.sandbox.faults import FaultInjector
from bff.sandbox.inventory import Catalog
from bff.sandbox.resources import Viewer
from bff.sandbox.rewards import Reward, earned_rewards
from bff.sandbox.state import UserStore


class Simulator:
    """A stateful, deterministic stand-in for the Kard API."""

    def __init__(
        self,
        *,
        organization_id: str = "org-sandbox",
        access_token_ttl: int = 3600,
        webview_token_ttl: int = 3600,
        signing_key: str | bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.organization_id = organization_id
        self.clock = clock
        self.faults = FaultInjector()
        self.tokens = TokenStore(access_token_ttl, clock)
        self.webview = WebViewSigner(
            signing_key or secrets.token_bytes(32), webview_token_ttl, clock
        )
        # Catalog dates and reward history hang off the UTC day the simulator started.
        self.anchor = datetime.fromtimestamp(clock(), UTC).replace(microsecond=0)
        self.catalog = Catalog.build(self.anchor.date())
        self.users = UserStore()
        self._calls = CallLog()

    @property
    def calls(self) -> list[Call]:
        """Return every request received so far, oldest first."""
        return self._calls.snapshot()

    def calls_to(self, path_regex: str, method: str | None = None) -> list[Call]:
        """Return the requests whose root-relative path matches `path_regex` (and `method`)."""
        return self._calls.matching(path_regex, method)

    def record_call(self, call: Call) -> None:
        """Log a request (its status is filled in when the answer is known)."""
        self._calls.append(call)

    def expire_access_tokens(self) -> None:
        """Invalidate every access token issued so far."""
        self.tokens.expire_all()

    def verify_webview_token(self, token: str) -> dict[str, Any]:
        """Return a WebView token's claims; raise a jwt.InvalidTokenError subclass if invalid."""
        return self.webview.verify(token)

    def attribution_events(self, user_id: str) -> list[dict[str, Any]]:
        """Return the attribution events accepted for the user, in arrival order."""
        return self.users.events(user_id)

    def rewards(self, user_id: str) -> list[Reward]:
        """Return the user's earned rewards, newest first."""
        return earned_rewards(self.catalog, user_id, self.anchor)

    def now(self) -> datetime:
        """Return the simulator clock's current UTC time."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def viewer(self, organization_id: str, user_id: str, requested: frozenset[str]) -> Viewer:
        """Return a renderer of offers for the user with the requested components."""
        redemptions: dict[str, int] = {}
        if "progressBar" in requested:
            for reward in self.rewards(user_id):
                redemptions[reward.offer.id] = redemptions.get(reward.offer.id, 0) + 1

        def state_of(offer: Offer) -> OfferState:
            return self.users.offer_state(user_id, offer.id, redemptions.get(offer.id, 0))

        return Viewer(organization_id, user_id, requested, state_of, self.now())

    def reset(self) -> None:
        """Clear faults, calls, issued tokens and per-user state (the catalog stays)."""
        self.faults.clear()
        self._calls.clear()
        self.tokens.expire_all()
        self.users.clear()
