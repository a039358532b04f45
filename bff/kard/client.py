"""The Kard API client: the only code that talks to Kard.

API calls go through libcurl, one handle and its kept-alive connections per thread
(`bff.kard.transport`, behind httpx's transport interface), unless a transport is given or the
environment names a proxy. The OAuth2 client-credentials request is prepared by authlib's
framework-neutral core (HTTP Basic and `grant_type=client_credentials`); the token is cached by
`AccessTokens`. Transport failures and Kard's error statuses are translated at this boundary, once,
into `bff.errors` types (`bff.kard.failures`), so callers never see httpx. Presigned storage URLs
are `bff.kard.storage`'s, which the client holds as `storage`. Every send to Kard's API or token
endpoint passes its `protection` (`bff.kard.protection`): a bound on the calls in flight, and the
circuit breaker whose `state` is `protection.breaker.state`.
"""

import functools
import logging
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import orjson
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from bff.errors import (
    InvalidPathSegment,
    KardUnreachable,
    Unauthorized,
    UpstreamFailed,
    UpstreamRejected,
    UpstreamTimeout,
)
from bff.fleet.cache import FleetCache
from bff.kard.failures import (
    API_ERRORS,
    REFRESHED_STATUSES,
    TOKEN_ERRORS,
    kard_errors,
    log_level,
    translate_transport_errors,
)
from bff.kard.protection import Protection
from bff.kard.storage import KardStorage
from bff.kard.tokens import AccessTokens
from bff.kard.transactions import MAX_PART_ITEMS
from bff.kard.transport import CurlTransport
from bff.retries import backoff, retry_after_seconds

log = logging.getLogger(__name__)

Params = Sequence[tuple[str, str]]

MAX_ATTEMPTS = 3
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)
# Waits between tries inside an app's request: a tenth of a second, doubling.
RETRY_BASE_SECONDS = 0.1
# The longest wait (and Retry-After) worth spending inside an app's request; a longer Retry-After
# goes back as a 503.
MAX_RETRY_WAIT = 2.0
RETRYABLE_GET_STATUSES = frozenset({429, 502, 503, 504})
# Where the simulator serves the stand-in WebView's API (sandbox only; Kard has no such path).
STANDIN_WEBVIEW_PREFIX = "/_sandbox/webview/"
MAX_UPLOAD_URLS = 10  # presigned URLs per Create Bulk Transactions Upload URL request
# URL normalization (RFC 3986, as httpx does it) removes "." and ".." segments and quote() keeps
# dots, so these values would change a path's shape rather than fill one of its segments.
UNUSABLE_SEGMENTS = frozenset({"", ".", ".."})
# A token Kard says lives longer is treated as living this long (a day), so no lifetime, however
# large, overflows a date; Kard's tokens live an hour.
MAX_TOKEN_SECONDS = 86_400.0
TOKEN_OPERATION = "token"
OPERATION_EXTENSION = "kard.operation"  # names a request's operation to its tracing
# CTAs with names of their own: `offers/{id}/activate` is activate_offer.
NAMED_ACTIONS = ("activate", "boost")


class KardObserver(Protocol):
    """What watches the client's requests (the app's metrics): each request sent to Kard, by
    operation, with its answer's status or how it failed (`timeout`, `unreachable`, `failed`)."""

    def kard_request(self, operation: str, status: int | str, seconds: float) -> None: ...

    def token_fetch(self, status: int | str) -> None: ...


class HttpTracing(Protocol):
    """What traces the client's HTTP requests (`bff.observability.tracing`, when it is on)."""

    def transport(self, transport: httpx.BaseTransport) -> httpx.BaseTransport: ...

    def client(self, client: httpx.Client) -> None: ...


@dataclass(frozen=True)
class KardResponse:
    """A successful Kard answer: its status (200, 201, 202, 207) and parsed JSON body."""

    status: int
    body: Any


class KardClient:
    """Call the Kard API as the issuer, with token reuse, safe retries and error mapping."""

    def __init__(
        self,
        *,
        api_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        organization_id: str,
        target_issuer: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        protection: Protection | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        fleet: FleetCache | None = None,
        observer: KardObserver | None = None,
        tracing: HttpTracing | None = None,
    ):
        if organization_id in UNUSABLE_SEGMENTS:
            raise ValueError('KARD_ORGANIZATION_ID cannot be empty, "." or "..".')
        self.organization_id = organization_id
        self.api_url = api_url.rstrip("/")
        self._token_url = token_url
        self._target_issuer = target_issuer
        self._client_auth = ClientAuth(client_id, client_secret, "client_secret_basic")
        self._timeout = timeout
        self._sleep = sleep
        self._observer = observer
        self.protection = protection or Protection()
        self._http = httpx.Client(  # for the token, as httpx does it (HTTP(S)_PROXY and all)
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "kard-bff"},
            limits=LIMITS,
        )
        # API calls, the request path, skip httpx.Client (its cookie jar, auth and redirect
        # machinery cost a tenth of a request) and go straight to a transport, with the same
        # headers and timeouts.
        self._api = transport or _api_transport(self.api_url)
        self._api_headers = dict(self._http.headers.raw)
        self._api_timeout = self._http.timeout.as_dict()
        if tracing is not None:
            self._api = tracing.transport(self._api)
            tracing.client(self._http)
        # Everything that changes the tokens Kard gives: no two configurations share one.
        self.identity = "\n".join(
            (self.api_url, token_url, client_id, organization_id, target_issuer or "")
        )
        self.tokens = AccessTokens(self._fetch_token, clock=clock, fleet=fleet, name=self.identity)
        # Kard's storage (presigned S3 URLs) gets its own client, without Kard's headers.
        self.storage = KardStorage(timeout=timeout, transport=transport)

    def close(self) -> None:
        """Close the connection pools."""
        self._http.close()
        self._api.close()
        self.storage.close()

    # Kard's endpoints, for one user. Views call these; none of them builds a URL itself.

    def offers(self, user_id: str, params: Params) -> KardResponse:
        """Get Offers By User."""
        return self.call("get_offers", "GET", self._user_path(user_id, "offers"), params=params)

    def locations(self, user_id: str, params: Params) -> KardResponse:
        """Get Locations By User."""
        path = self._user_path(user_id, "locations")
        return self.call("get_locations", "GET", path, params=params)

    def earned_rewards(self, user_id: str, params: Params) -> KardResponse:
        """Get Earned Rewards."""
        path = self._user_path(user_id, "earned-rewards")
        return self.call("get_earned_rewards", "GET", path, params=params)

    def user_action(
        self, user_id: str, method: str, segments: Sequence[str], params: Params
    ) -> KardResponse:
        """Follow a call-to-action under the user: Activate Offer, Boost Offer, or another."""
        operation = _action_operation(segments)
        return self.call(operation, method, self._user_path(user_id, *segments), params=params)

    def create_attributions(self, user_id: str, events: list[dict[str, Any]]) -> KardResponse:
        """Create Attribution Events (at most 100 events)."""
        path = self._user_path(user_id, "attributions")
        return self.call("create_attributions", "POST", path, json={"data": events})

    def create_audits(self, user_id: str, audits: list[dict[str, Any]]) -> KardResponse:
        """Create Audits."""
        path = self._user_path(user_id, "audits")
        return self.call("create_audits", "POST", path, json={"data": audits})

    def enroll_user(self, user_id: str) -> bool:
        """Create Users for one user, in CARDLINKED rewards: True when Kard enrolled them now,
        False when they already were (Kard's 409)."""
        user = {"type": "user", "id": user_id, "attributes": {"enrolledRewards": ["CARDLINKED"]}}
        path = f"/v2/issuers/{path_segment(self.organization_id)}/users"
        try:
            self.call("create_users", "POST", path, json={"data": [user]})
        except UpstreamRejected as refused:
            if refused.status != 409:
                raise
            return False
        return True

    def webview_token(self, user_id: str) -> tuple[str, float]:
        """Mint a WebView token (a JWT naming the user and the issuer): it, and seconds it lives."""
        organization, user = path_segment(self.organization_id), path_segment(user_id)
        path = f"/v2/auth/issuers/{organization}/users/{user}/token"
        return _token_answer(self.call("webview_token", "POST", path).body, "WebView token")

    def standin_webview(
        self, method: str, segments: Sequence[str], webview_token: str, params: Params | None = None
    ) -> KardResponse:
        """Call the simulator's API for the sandbox stand-in WebView as Kard's hosted WebView calls
        Kard: with the user's WebView token, not the issuer's. A refused token is `Unauthorized`."""
        path = STANDIN_WEBVIEW_PREFIX + "/".join(path_segment(s) for s in segments)
        response = self._send_with_retries(
            "standin_webview", method, path, webview_token, params, None
        )
        if response.status_code == 401:
            raise Unauthorized(errors=kard_errors(response))
        return self._result(response)

    # Historical transactions: the bulk file flow, and the deprecated per-user upload session.

    def create_upload_urls(self, filenames: list[str]) -> list[dict[str, Any]]:
        """Create Bulk Transactions Upload URL: one presigned PUT URL per file name (at most 10).

        Returns Kard's `data` items, in the order of `filenames`, each with an `id` and
        `attributes.url` and `attributes.expiresIn`.
        """
        if not 1 <= len(filenames) <= MAX_UPLOAD_URLS:
            raise ValueError(f"ask for 1 to {MAX_UPLOAD_URLS} upload URLs, not {len(filenames)}")
        files = [
            {"type": "historicalTransactionsFile", "attributes": {"filename": name}}
            for name in filenames
        ]
        path = f"/v2/issuers/{path_segment(self.organization_id)}/transactions/uploads"
        answer = self.call("create_upload_urls", "POST", path, json={"data": files}).body
        items = _get(answer, "data")
        if (
            not isinstance(items, list)
            or len(items) != len(filenames)
            or not all(_is_upload_url(item) for item in items)
        ):
            raise UpstreamFailed("Kard's upload URL answer could not be read.")
        return items

    def create_legacy_upload(self, user_id: str) -> str:
        """Create Upload (deprecated): start a per-user upload session; return its upload ID."""
        body = {"data": {"type": "historicalTransactionStart", "attributes": {}}}
        path = self._user_path(user_id, "uploads")
        answer = self.call("create_upload", "POST", path, json=body).body
        upload_id = _get(answer, "data", "id")
        if not isinstance(upload_id, str) or not upload_id:
            raise UpstreamFailed("Kard's upload answer could not be read.")
        return upload_id

    def add_upload_part(
        self, user_id: str, upload_id: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Add Upload Part (deprecated): send up to 500 transactions; return Kard's 200 or 207
        document (a 207 lists the refused items in `errors`, each with the item's `id`)."""
        if not 1 <= len(items) <= MAX_PART_ITEMS:
            raise ValueError(f"send 1 to {MAX_PART_ITEMS} items per part, not {len(items)}")
        path = self._user_path(user_id, "uploads", upload_id, "parts")
        answer = self.call("add_upload_part", "PUT", path, json={"data": items}).body
        if not isinstance(answer, dict):
            raise UpstreamFailed("Kard's upload part answer could not be read.")
        return answer

    def complete_upload(self, user_id: str, upload_id: str) -> None:
        """Update Upload (deprecated): mark the per-user upload session complete."""
        body = {
            "data": {"type": "historicalTransactionComplete", "attributes": {}, "id": upload_id}
        }
        path = self._user_path(user_id, "uploads", upload_id)
        self.call("complete_upload", "PUT", path, json=body)

    def user_prefix(self, user_id: str) -> str:
        """The path under which Kard serves everything about one user."""
        return user_prefix(self.organization_id, user_id)

    def _user_path(self, user_id: str, *segments: str) -> str:
        return self.user_prefix(user_id) + "/".join(map(path_segment, segments))

    # The machinery.

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
    ) -> KardResponse:
        """Send one API request with the issuer's token; a 401/403 costs one refresh and retry.
        `operation` names it in metrics and traces (`get_offers`): a path names a user."""
        token = self.tokens.get()
        response = self._send_with_retries(operation, method, path, token, params, json)
        if response.status_code in REFRESHED_STATUSES:
            self.tokens.invalidate(token)
            token = self.tokens.get()
            response = self._send_with_retries(operation, method, path, token, params, json)
        return self._result(response)

    def _send_with_retries(
        self, operation: str, method: str, path: str, token: str, params: Params | None, json: Any
    ) -> httpx.Response:
        """Send, retrying only what is safe: GETs, and any request that never left."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            last = attempt == MAX_ATTEMPTS
            try:
                response = self._send(operation, method, path, token, params, json)
            except KardUnreachable:
                if last:
                    raise
                self._sleep(backoff(attempt, base=RETRY_BASE_SECONDS, cap=MAX_RETRY_WAIT))
                continue
            if method != "GET" or response.status_code not in RETRYABLE_GET_STATUSES or last:
                return response
            wait = _retry_wait(response, attempt)
            if wait is None:
                return response
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self, operation: str, method: str, path: str, token: str, params: Params | None, json: Any
    ) -> httpx.Response:
        # One absolute URL string: httpx then parses it once, instead of merging params and a
        # base URL (three parses of a long query on every call).
        url = self.api_url + path + (f"?{_query_string(params)}" if params else "")
        started = time.perf_counter()
        headers = {**self._api_headers, b"Authorization": f"Bearer {token}".encode()}
        extensions = {"timeout": self._api_timeout, OPERATION_EXTENSION: operation}
        request = httpx.Request(method, url, json=json, headers=headers, extensions=extensions)
        response = self._observed(operation, started, lambda: self._exchange(request))
        elapsed_ms = (time.perf_counter() - started) * 1000
        status = response.status_code
        level = log_level(status)
        if log.isEnabledFor(level):
            route = route_template(path)
            log.log(level, "kard %s %s -> %s in %.0f ms", method, route, status, elapsed_ms)
        return response

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        with translate_transport_errors(self._timeout):
            response = self._api.handle_request(request)
            try:
                response.read()
            finally:
                response.close()
        return response

    def _fetch_token(self) -> tuple[str, float]:
        """Ask Kard's token endpoint for a client-credentials access token."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self._target_issuer:
            headers["X-Kard-Target-Issuer"] = self._target_issuer
        url, headers, body = self._client_auth.prepare(
            "POST", self._token_url, headers, prepare_token_request("client_credentials")
        )

        def post() -> httpx.Response:
            with translate_transport_errors(self._timeout):
                extensions = {OPERATION_EXTENSION: TOKEN_OPERATION}
                return self._http.post(url, content=body, headers=headers, extensions=extensions)

        response = self._observed(TOKEN_OPERATION, time.perf_counter(), post)
        status = response.status_code
        log.log(logging.INFO if status == 200 else logging.WARNING, "kard token -> %s", status)
        if status != 200:
            raise TOKEN_ERRORS.error(response)
        try:
            answer = response.json()
        except ValueError as exc:
            raise UpstreamFailed("Kard's token answer could not be read.") from exc
        return _token_answer(answer, "token")

    def _observed(
        self, operation: str, started: float, exchange: Callable[[], httpx.Response]
    ) -> httpx.Response:
        """Send through `protection`, telling the observer of what was sent: what the breaker
        or the bound on calls in flight refused never left, and is not a request to Kard."""
        if self._observer is None:
            return self.protection.send(exchange)
        try:
            response = self.protection.send(exchange)
        except (UpstreamTimeout, UpstreamFailed) as error:  # sent, and no answer came
            failure = "timeout" if isinstance(error, UpstreamTimeout) else "unreachable"
            self._tell(operation, failure, started)
            raise
        self._tell(operation, response.status_code, started)
        return response

    def _tell(self, operation: str, status: int | str, started: float) -> None:
        """Tell the observer of a request sent: a token request is a token fetch too."""
        assert self._observer is not None
        self._observer.kard_request(operation, status, time.perf_counter() - started)
        if operation == TOKEN_OPERATION:
            self._observer.token_fetch(status)

    @staticmethod
    def _result(response: httpx.Response) -> KardResponse:
        """Return a success, or raise the contract's mapping of Kard's error status."""
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = orjson.loads(response.content) if response.content else None
            except orjson.JSONDecodeError as exc:
                raise UpstreamFailed("Kard's answer could not be read.") from exc
            return KardResponse(status, body)
        raise API_ERRORS.error(response)


def _api_transport(api_url: str) -> httpx.BaseTransport:
    """libcurl for Kard's API, or httpx's own transport through the proxy that
    HTTP_PROXY, HTTPS_PROXY or ALL_PROXY names for it (unless NO_PROXY exempts its host)."""
    url = httpx.URL(api_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(url.host):
        return CurlTransport()
    return httpx.HTTPTransport(proxy=proxy if "://" in proxy else f"http://{proxy}", limits=LIMITS)


def _action_operation(segments: Sequence[str]) -> str:
    """The operation a call-to-action under the user names: `activate_offer`, `boost_offer`,
    or any other `user_action` (its path holds IDs, so it is no name)."""
    if len(segments) == 3 and segments[0] == "offers" and segments[2] in NAMED_ACTIONS:
        return f"{segments[2]}_offer"
    return "user_action"


def _is_upload_url(item: Any) -> bool:
    url = _get(item, "attributes", "url")
    return isinstance(_get(item, "id"), str) and isinstance(url, str) and url.startswith("http")


def _get(document: Any, *keys: str) -> Any:
    """The value at `keys` in nested objects, or None where one is missing or not an object."""
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _query_string(params: Params) -> str:
    """Percent-encode the query (spaces as %20, as Kard's docs write categories)."""
    return "&".join(_encoded_pair(name, value) for name, value in params)


@functools.lru_cache(maxsize=4096)
def _encoded_pair(name: str, value: str) -> str:
    # Most pairs repeat on every call (the default supportedComponents), so encode each once.
    return f"{quote(name, safe='')}={quote(value, safe='')}"


def _token_answer(answer: Any, what: str) -> tuple[str, float]:
    """The token and its lifetime from an OAuth-style `{"access_token", "expires_in"}` answer."""
    try:
        token, expires_in = answer["access_token"], float(answer["expires_in"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UpstreamFailed(f"Kard's {what} answer could not be read.") from exc
    if not isinstance(token, str) or not token or not expires_in > 0:
        raise UpstreamFailed(f"Kard's {what} answer could not be read.")
    return token, min(expires_in, MAX_TOKEN_SECONDS)


def path_segment(value: str) -> str:
    """Percent-encode one path segment, so no value can change the path's shape."""
    if value in UNUSABLE_SEGMENTS:
        raise InvalidPathSegment
    return quote(value, safe="")


@functools.lru_cache(maxsize=1024)
def user_prefix(organization_id: str, user_id: str) -> str:
    """The path under which Kard serves everything about one user of an organization."""
    return f"/v2/issuers/{path_segment(organization_id)}/users/{path_segment(user_id)}/"


def route_template(path: str) -> str:
    """The path with the organization and user IDs replaced by placeholders, for logs and
    traces."""
    parts = path.split("/")
    for index, part in enumerate(parts[:-1]):
        if part in _ROUTE_PLACEHOLDERS:
            parts[index + 1] = _ROUTE_PLACEHOLDERS[part]
    return "/".join(parts)


_ROUTE_PLACEHOLDERS = {"issuers": "{org}", "users": "{user}"}


def _retry_wait(response: httpx.Response, attempt: int) -> float | None:
    """Seconds to wait before retrying, from Retry-After when given; None: do not retry."""
    header = response.headers.get("Retry-After")
    if header is None:
        return backoff(attempt, base=RETRY_BASE_SECONDS, cap=MAX_RETRY_WAIT)
    seconds = retry_after_seconds(header)
    if seconds is None or seconds > MAX_RETRY_WAIT:
        return None
    return seconds
