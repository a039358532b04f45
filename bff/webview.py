"""Kard WebView tokens per user, and the WebView URL. Pure: no Flask."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import orjson
from cachetools import TLRUCache

from bff.fleet.cache import FleetCache

# A token is handed out only while it has at least this long to live, so the WebView that loads
# it can still use it.
RENEW_MARGIN = 60.0
MAX_CACHED_USERS = 10_000


@dataclass(frozen=True)
class WebViewToken:
    """A Kard WebView token and when it expires (seconds since the epoch)."""

    token: str
    expires_at: float


class WebViewTokens:
    """Reuse each user's WebView token until `RENEW_MARGIN` before it expires; never share one.

    The process's cache is keyed by user ID and bounded. With a `fleet` cache, a token is minted
    once for the whole fleet (single-flight across processes) and every process reuses it;
    without one, two first requests for one user at the same moment may both mint a token:
    both are valid, and the later one is kept. `scope` tells apart the tokens of different Kard
    configurations (see `KardClient.identity`).
    """

    def __init__(
        self,
        mint: Callable[[str], tuple[str, float]],
        *,
        clock: Callable[[], float] = time.time,
        max_users: int = MAX_CACHED_USERS,
        fleet: FleetCache | None = None,
        scope: str = "",
    ):
        self._mint = mint  # user ID -> (token, seconds it lives)
        self._clock = clock
        self._fleet = fleet
        self._scope = scope
        self._cache: TLRUCache[str, WebViewToken] = TLRUCache(
            max_users, ttu=lambda _user, token, _now: token.expires_at - RENEW_MARGIN, timer=clock
        )
        self._lock = threading.Lock()

    def get(self, user_id: str) -> WebViewToken:
        """The user's token, minted anew when none is cached or it is about to expire."""
        with self._lock:
            cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        if self._fleet is None:
            token = self._minted(user_id)
        else:
            name = f"webview-token\n{self._scope}\n{user_id}"
            shared, _ = self._fleet.get(name, lambda: self._shareable(user_id))
            token = WebViewToken(**orjson.loads(shared))
        with self._lock:
            self._cache[user_id] = token
        return token

    def _minted(self, user_id: str) -> WebViewToken:
        value, expires_in = self._mint(user_id)
        return WebViewToken(value, self._clock() + expires_in)

    def _shareable(self, user_id: str) -> tuple[str, float]:
        """A new token as the fleet cache keeps it, and how long it may be handed out."""
        token = self._minted(user_id)
        shared = orjson.dumps({"token": token.token, "expires_at": token.expires_at}).decode()
        return shared, token.expires_at - RENEW_MARGIN - self._clock()


def absolute_webview_url(webview_url: str, public_url: str | None) -> str:
    """KARD_WEBVIEW_URL made absolute: a path is one on this BFF, under BFF_PUBLIC_URL (never
    under a request's Host, which the client chooses)."""
    if not webview_url.startswith("/"):
        return webview_url
    assert public_url is not None, "settings require BFF_PUBLIC_URL for a WebView path"
    return public_url + webview_url


def session_url(webview_url: str, token: str, theme: str | None) -> str:
    """The WebView URL: `webview_url?token=<token>&theme=<base64url>` (no theme param if none)."""
    separator = "&" if "?" in webview_url else "?"
    url = f"{webview_url}{separator}token={quote(token, safe='')}"
    return f"{url}&theme={theme}" if theme else url
