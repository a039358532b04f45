"""Build the OpenAPI 3.1 document of one deployment: its operations, with the query rules of
`bff.offers.queries`, the schemas of `bff.openapi.schemas`, and what its settings and its mount
change (the sandbox's own operations exist only in sandbox; `/metrics` needs its token only when
one is set; pages and the webhook only where they are mounted; under a prefix, the document's
server is that prefix; with the host app's sessions, the session is its cookie, and the operations
that change something need `X-Kard-BFF` and answer 403 to a cross-site request).

Each operation lists every status it can answer. The error answers share one response each
(`components.responses`), all in the one error shape, with `X-Request-ID`, and `Retry-After`
on 429 and 503.
"""

import json
from importlib.resources import files
from typing import Any

from bff.attributions.checks import MAX_BATCH_EVENTS
from bff.cross_site import READ_ONLY_METHODS, REQUIRED_HEADER
from bff.current import STANDALONE, Mount
from bff.kard.vocabulary import MAX_ATTRIBUTION_EVENTS
from bff.offers.queries import EARNED_REWARDS, LOCATIONS, OFFER_ACTION, OFFERS, Param
from bff.openapi.schemas import SCHEMAS, links, ref
from bff.routing import ROUTABLE_METHODS
from bff.settings import HOST_AUTH_MODE, Settings

OPENAPI_VERSION = "3.1.1"
EXAMPLES = "examples.json"  # operationId -> {status: answer}, by bff.openapi.examples
JSON = "application/json"
HTML = "text/html"

Spec = dict[str, Any]

SESSION = [{"sessionToken": []}]
PUBLIC: list[Spec] = []
WEBHOOK = "/webhooks/kard"
DEV_SESSION = "/dev/session"
# Every operation that asks Kard: its 400, 404 and 409 pass through, its failures are 502-504.
UPSTREAM = (400, 404, 409, 502, 503, 504)
# The location filters the sandbox's stand-in WebView passes on (bff.api.webview_standin).
STANDIN_FILTERS = ("filter[latitude]", "filter[longitude]", "filter[radius]")

_HEADERS: dict[str, Spec] = {
    "X-Request-ID": {
        "description": "The request's ID: the caller's X-Request-ID when it sent one, else new.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "string", "pattern": r"^\d+$"},
    },
    **{
        f"RateLimit-{name}": {
            "description": f"{meaning} (on every answer of a rate-limited endpoint).",
            "schema": {"type": "string", "pattern": r"^\d+$"},
        }
        for name, meaning in (
            ("Limit", "Requests allowed per window"),
            ("Remaining", "Requests left in this window"),
            ("Reset", "Seconds until the window resets"),
        )
    },
    "WWW-Authenticate": {
        "description": "`Bearer`: send a session token.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Allow": {"description": "The methods this URL takes.", "schema": {"type": "string"}},
}
_RATE_LIMIT = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")

# status -> (component name, description, extra headers)
_ERRORS: dict[int, tuple[str, str, tuple[str, ...]]] = {
    400: ("BadRequest", "A bad query parameter (source.parameter) or body; or Kard's 400.", ()),
    401: ("Unauthorized", "No session token, or one that does not verify.", ("WWW-Authenticate",)),
    403: (
        "Forbidden",
        "A request that may come from another site (the host app's sessions): nothing was done.",
        (),
    ),
    404: ("NotFound", "No such resource (or Kard's 404, its details kept).", ()),
    405: ("MethodNotAllowed", "This URL takes other methods.", ("Allow",)),
    409: ("Conflict", "Kard's 409, its details kept.", ()),
    413: ("PayloadTooLarge", "The body is over 1 MB, or a batch over its limit.", ()),
    422: ("Unprocessable", "The body parsed but is invalid: one error per bad field.", ()),
    429: ("TooManyRequests", "Past the rate limit; nothing was done.", ("Retry-After",)),
    502: ("BadGateway", "Kard failed, or refused the BFF's credentials.", ()),
    503: (
        "ServiceUnavailable",
        "Kard is busy or down, or what the request needs is (Redis, the outbox, the issuer's"
        " JWKS): nothing was accepted.",
        ("Retry-After",),
    ),
    504: ("GatewayTimeout", "Kard did not answer within KARD_TIMEOUT.", ()),
}


def build_document(settings: Settings, mount: Mount = STANDALONE) -> Spec:
    """The OpenAPI 3.1 document of every endpoint this deployment serves where it is mounted."""
    host_sessions = settings.auth_mode == HOST_AUTH_MODE
    operations = [*_api(settings), *_service(settings)]
    if mount.pages or settings.sandbox:  # the sandbox's stand-in WebView takes the assets
        operations += _pages() if mount.pages else _assets()
    if settings.sandbox:
        operations += _sandbox()
    unserved = set() if mount.webhook else {WEBHOOK}
    if host_sessions:  # the host's login names the user: no dev session tokens
        unserved.add(DEV_SESSION)
    operations = [operation for operation in operations if operation[0] not in unserved]
    recorded = recorded_examples()
    paths: Spec = {}
    for path, method, spec in operations:
        if host_sessions:
            spec = _with_host_session(method, spec)
        paths.setdefault(path, {})[method] = _with_examples(spec, recorded)
    document: Spec = {"openapi": OPENAPI_VERSION, "info": _info(settings)}
    if mount.url_prefix:
        document["servers"] = [{"url": mount.url_prefix, "description": "Where it is mounted."}]
    return document | {
        "tags": _TAGS,
        "paths": paths,
        "components": {
            "schemas": SCHEMAS | {"Links": links(mount.url_prefix)},
            "responses": _error_responses(),
            "headers": _HEADERS,
            "securitySchemes": _security_schemes(settings, mount),
        },
    }


def recorded_examples() -> dict[str, dict[str, Any]]:
    """operationId -> {status: example}: the sandbox's answers, as bff.openapi.examples
    recorded them."""
    return json.loads(files("bff.openapi").joinpath(EXAMPLES).read_text(encoding="utf-8"))


def _with_host_session(method: str, spec: Spec) -> Spec:
    """`spec` as it is when the host app's session names the user: a 401 is no Bearer challenge,
    and an operation that changes something needs the custom header (else 403)."""
    if spec["security"] is not SESSION:
        return spec
    responses = {**spec["responses"], "401": {"$ref": "#/components/responses/SignInRequired"}}
    if method.upper() in READ_ONLY_METHODS:
        return {**spec, "responses": responses}
    responses["403"] = {"$ref": "#/components/responses/Forbidden"}
    header = {
        "name": REQUIRED_HEADER,
        "in": "header",
        "required": True,
        "description": "Any value (`1`): shows the request comes from the host app's own pages.",
        "schema": {"type": "string", "minLength": 1},
    }
    parameters = [*spec.get("parameters", ()), header]
    return {**spec, "parameters": parameters, "responses": dict(sorted(responses.items()))}


def _with_examples(spec: Spec, recorded: dict[str, dict[str, Any]]) -> Spec:
    """`spec` with the sandbox's recorded answers as the examples of its successful ones."""
    responses = dict(spec["responses"])
    for status, example in recorded.get(spec["operationId"], {}).items():
        response = responses[status]
        media = {**response["content"][JSON], "example": example}
        responses[status] = {**response, "content": {**response["content"], JSON: media}}
    return {**spec, "responses": responses}


def _info(settings: Settings) -> Spec:
    return {
        "title": "kard-bff",
        "version": "1",
        "summary": "The issuer's backend for frontend in front of the Kard rewards API.",
        "description": (
            "Apps call these endpoints with the issuer's own session token; the BFF holds the"
            " Kard credentials, acts only for the session user, and rewrites Kard's links and"
            " call-to-action URLs so apps only ever talk to it.\n\n"
            "Every answer carries `X-Request-ID` (the caller's, when it sent one). Every error"
            ' has the one shape `{"errors": [{"status", "title", "detail", "source"}]}`.'
            " Endpoints with a session are rate limited per user, the others per client"
            " address: past the limit, 429 with `Retry-After`. Kard's 400, 404 and 409 pass"
            " through with Kard's details; its 401/403 are 502, its 429/503 are 503 with"
            " `Retry-After`, its other 5xx 502, no answer in time 504.\n\n"
            f"This deployment: KARD_ENV={settings.kard_env}, {_users(settings)}."
        ),
    }


_TAGS = [
    {"name": name, "description": description}
    for name, description in (
        ("Offers", "Offers, locations and call-to-actions, for the session user."),
        ("WebView", "Open Kard's hosted WebView for the session user."),
        ("Attributions", "What the user saw and did: delivered to Kard, never lost."),
        ("Rewards", "The session user's earned rewards and audits."),
        ("Themes", "Encode, decode and list WebView themes; no session needed."),
        ("Session", "Who the session token stands for."),
        ("Webhooks", "Kard's notifications, signed."),
        ("Service", "Health, readiness, metrics, this description."),
        ("Pages", "Pages for people, and their scripts and stylesheets."),
        ("Sandbox", "Only with KARD_ENV=sandbox: trying the API with no issuer backend."),
    )
]


def _users(settings: Settings) -> str:
    if settings.auth_mode == HOST_AUTH_MODE:
        return "users signed in to the app it is mounted in"
    return f"BFF_AUTH_MODE={settings.auth_mode}"


def _security_schemes(settings: Settings, mount: Mount) -> Spec:
    return {
        "sessionToken": _session_scheme(settings, mount),
        "metricsToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "BFF_METRICS_TOKEN.",
        },
        "webViewToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "A Kard WebView token (the sandbox stand-in WebView's own calls).",
        },
    }


def _session_scheme(settings: Settings, mount: Mount) -> Spec:
    if settings.auth_mode == HOST_AUTH_MODE:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": mount.session_cookie or "session",
            "description": "The session of the app kard-bff is mounted in: the user signed in"
            " to it is the Kard user the BFF acts for. An operation that changes something"
            f" also needs `{REQUIRED_HEADER}`, and is refused (403) from another site.",
        }
    how = {
        "dev": "a dev-mode token from `POST /dev/session`",
        "hs256": "an HS256 JWT signed with BFF_JWT_SECRET",
        "jwks": "a JWT of the issuer, verified against BFF_JWKS_URL",
    }[settings.auth_mode]
    return {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": f"The issuer's session token for the app user: here {how}. Its"
        f" `{settings.user_claim}` claim is the Kard user ID the BFF acts for.",
    }


def _error_responses() -> Spec:
    bad_signature = {
        "description": "notify-signature is missing or does not match the body.",
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
        "content": {JSON: {"schema": ref("Errors")}},
    }
    sign_in_required = {
        "description": "No user is signed in to the app kard-bff is mounted in.",
        "headers": {
            name: {"$ref": f"#/components/headers/{name}"}
            for name in ("X-Request-ID", *_RATE_LIMIT)
        },
        "content": {JSON: {"schema": ref("Errors")}},
    }
    return {"BadSignature": bad_signature, "SignInRequired": sign_in_required} | {
        name: {
            "description": description,
            "headers": {
                name: {"$ref": f"#/components/headers/{name}"}
                for name in ("X-Request-ID", *extra, *_RATE_LIMIT)
            },
            "content": {JSON: {"schema": ref("Errors")}},
        }
        for name, description, extra in _ERRORS.values()
    }


def _operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    answers: Spec,
    errors: tuple[int, ...] = (),
    security: list[Spec] = SESSION,
    parameters: list[Spec] | None = None,
    body: Spec | None = None,
    description: str | None = None,
) -> Spec:
    """One operation: its successful `answers` (status -> response) and its error statuses."""
    if security is SESSION:  # 503: in jwks mode, the issuer's JWKS cannot be had
        errors = (401, 429, 503, *errors)
    responses = dict(answers)
    for status in sorted(set(errors)):
        responses[str(status)] = {"$ref": f"#/components/responses/{_ERRORS[status][0]}"}
    spec: Spec = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if description:
        spec["description"] = description
    spec["security"] = security
    if parameters:
        spec["parameters"] = parameters
    if body is not None:
        spec["requestBody"] = body
    spec["responses"] = responses
    return spec


def _answer(
    description: str,
    schema: Spec | None = None,
    *,
    media_type: str = JSON,
    limited: bool = True,
    links: Spec | None = None,
) -> Spec:
    """A successful response, with X-Request-ID (and RateLimit-* when `limited`)."""
    names = ("X-Request-ID", *(_RATE_LIMIT if limited else ()))
    response: Spec = {
        "description": description,
        "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in names},
    }
    if schema is not None:
        response["content"] = {media_type: {"schema": schema}}
    if links:
        response["links"] = links
    return response


def _json_body(schema: Spec, *, required: bool = True, description: str | None = None) -> Spec:
    body: Spec = {"required": required, "content": {JSON: {"schema": schema}}}
    if description:
        body["description"] = description
    return body


def _query(params: tuple[Param, ...]) -> list[Spec]:
    """The query parameters of a proxied Kard endpoint, from the table the BFF checks them by."""
    return [_query_parameter(param) for param in params]


def _query_parameter(param: Param) -> Spec:
    schema = dict(param.rule.schema)
    if param.repeatable:
        schema = {"type": "array", "items": schema}
    spec: Spec = {"name": param.name, "in": "query", "schema": schema}
    if param.description:
        spec["description"] = param.description
    if param.repeatable:
        spec |= {"style": "form", "explode": True}
    return spec


def _path_parameter(name: str, description: str, **schema: Any) -> Spec:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_OFFER_ID = _path_parameter(
    "offerId", "The offer's `id`, from a listing.", pattern=r"^[A-Za-z0-9_-]{1,64}$"
)


def _api(settings: Settings) -> list[tuple[str, str, Spec]]:
    components = ", ".join(settings.supported_components)
    by_offer = {"offerId": "$response.body#/data/0/id"}
    offer_links = {
        f"{verb.capitalize()}FirstOffer": {"operationId": f"{verb}Offer", "parameters": by_offer}
        for verb in ("activate", "boost", "view")
    }
    offer_action = {
        "tag": "Offers",
        "answers": {
            "201": _answer(
                "Done: the attribution Kard recorded, and the updated offer in `included`.",
                ref("OfferAction"),
            )
        },
        "errors": UPSTREAM,
        "parameters": [_OFFER_ID, *_query(OFFER_ACTION)],
    }
    return [
        (
            "/api/v1/offers",
            "get",
            _operation(
                "listOffers",
                "The session user's offers",
                tag="Offers",
                description="Kard's Get Offers By User for the session user. When the request"
                f" names no `supportedComponents`, this deployment asks for: {components}.",
                parameters=_query(OFFERS),
                answers={
                    "200": _answer(
                        "Kard's offers, links and call-to-actions pointing at the BFF.",
                        ref("OfferList"),
                        links=offer_links,
                    )
                },
                errors=UPSTREAM,
            ),
        ),
        (
            "/api/v1/locations",
            "get",
            _operation(
                "listLocations",
                "Locations with the session user's offers",
                tag="Offers",
                description="Kard's Get Locations By User for the session user. A point"
                " (filter[latitude] with filter[longitude], optionally filter[radius]) takes"
                " priority over state, city and ZIP code.",
                parameters=_query(LOCATIONS),
                answers={"200": _answer("Kard's locations.", ref("LocationList"))},
                errors=UPSTREAM,
            ),
        ),
        (
            "/api/v1/offers/{offerId}/activate",
            "post",
            _operation("activateOffer", "Activate an offer (its call-to-action)", **offer_action),
        ),
        (
            "/api/v1/offers/{offerId}/boost",
            "post",
            _operation("boostOffer", "Boost an offer (its call-to-action)", **offer_action),
        ),
        (
            "/api/v1/offers/{offerId}/view",
            "post",
            _operation(
                "viewOffer",
                "Record that the user opened an offer",
                tag="Attributions",
                description="Sends one VIEW offerAttribution for the offer (medium BROWSE and"
                " the receipt time unless given); queued durably when Kard cannot take it now.",
                parameters=[_OFFER_ID],
                body=_json_body(
                    _view_body(), required=False, description="All optional; no body is fine."
                ),
                answers={
                    "202": _answer(
                        "Accepted: sent to Kard, or queued (`queued`) and delivered later.",
                        {
                            "type": "object",
                            "properties": {
                                "data": ref("AttributionEvent"),
                                "queued": {"type": "boolean"},
                            },
                            "required": ["data", "queued"],
                        },
                    )
                },
                errors=(400, 404, 413, 422, 503),
            ),
        ),
        *(
            (
                "/api/v1/{ctaPath}",
                method.lower(),
                _operation(
                    f"followCallToAction{method.capitalize()}",
                    f"Follow a signed call-to-action ({method})",
                    tag="Offers",
                    description="Any call-to-action URL other than activate and boost that a"
                    " BFF answer carried, exactly as handed out (with its `sig`), with the"
                    " method it was handed out with: the BFF sends it to Kard for the session"
                    " user. Any other path is 404, another method 405.",
                    parameters=[
                        _path_parameter(
                            "ctaPath", "The path after /api/v1/ (one or more segments)."
                        ),
                        {
                            "name": "sig",
                            "in": "query",
                            "required": True,
                            "description": "The BFF's signature of the method, path and query.",
                            "schema": {"type": "string"},
                        },
                    ],
                    answers={"2XX": _answer("Kard's answer, rewritten.", ref("KardDocument"))},
                    errors=(405, *UPSTREAM),
                ),
            )
            for method in ROUTABLE_METHODS
        ),
        (
            "/api/v1/attributions",
            "post",
            _operation(
                "createAttributions",
                "Send a batch of attribution events",
                tag="Attributions",
                description=f"Up to {MAX_BATCH_EVENTS:,} events, each checked on its own: the"
                f" valid ones go to Kard in chunks of {MAX_ATTRIBUTION_EVENTS}, or are stored"
                " durably and retried until Kard takes"
                " them. Exact duplicates are sent once. 422 when every event is rejected.",
                body=_json_body(
                    {
                        "type": "object",
                        "properties": {
                            "data": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": MAX_BATCH_EVENTS,
                                "items": ref("AttributionEvent"),
                            }
                        },
                        "required": ["data"],
                    }
                ),
                answers={"202": _answer("Accepted.", ref("AttributionResult"))},
                errors=(400, 413, 422, 503),
            ),
        ),
        (
            "/api/v1/rewards",
            "get",
            _operation(
                "listEarnedRewards",
                "The session user's earned rewards",
                tag="Rewards",
                description="Kard's Get Earned Rewards for the session user.",
                parameters=_query(EARNED_REWARDS),
                answers={"200": _answer("Kard's earned rewards.", ref("EarnedRewardList"))},
                errors=UPSTREAM,
            ),
        ),
        (
            "/api/v1/audits",
            "post",
            _operation(
                "createAudits",
                "Report a missing or wrong cashback",
                tag="Rewards",
                description="Kard's Create Audits for the session user; Kard's 201 or 207"
                " comes back as Kard sent it.",
                body=_json_body(ref("Audits")),
                answers={
                    "201": _answer("Created.", {"type": "object"}),
                    "207": _answer("Some created, some refused (per audit).", {"type": "object"}),
                },
                errors=(413, 422, *UPSTREAM),
            ),
        ),
        *_webview(),
        *_themes(),
        (
            "/api/v1/session",
            "get",
            _operation(
                "getSession",
                "Who the session token stands for",
                tag="Session",
                answers={"200": _answer("The Kard user ID.", ref("Session"))},
            ),
        ),
    ]


def _view_body() -> Spec:
    offer = SCHEMAS["AttributionEvent"]["oneOf"][0]["properties"]["attributes"]["properties"]
    return {
        "type": "object",
        "properties": {key: offer[key] for key in ("medium", "eventDate", "state")},
        "additionalProperties": False,
    }


def _webview() -> list[tuple[str, str, Spec]]:
    session_body = {
        "type": "object",
        "properties": {
            "theme": ref("Theme"),
            "themeName": {
                "type": ["string", "null"],
                "description": "A theme of GET /api/v1/themes; null: no theme, not even"
                " BFF_DEFAULT_THEME.",
            },
        },
        "maxProperties": 1,
        "additionalProperties": False,
        "description": "A theme, or a named theme's name, or neither (BFF_DEFAULT_THEME).",
    }
    return [
        (
            "/api/v1/webview/token",
            "post",
            _operation(
                "createWebViewToken",
                "A Kard WebView token for the session user",
                tag="WebView",
                description="Reused until shortly before it expires.",
                answers={"200": _answer("The token.", ref("WebViewToken"))},
                errors=UPSTREAM,
            ),
        ),
        (
            "/api/v1/webview/session",
            "post",
            _operation(
                "createWebViewSession",
                "The WebView URL for the session user",
                tag="WebView",
                description="With the theme given, the named theme, or BFF_DEFAULT_THEME.",
                body=_json_body(
                    session_body, required=False, description="Optional; no body is fine."
                ),
                answers={"200": _answer("Open `url` in the WebView.", ref("WebViewSession"))},
                errors=(413, 422, *UPSTREAM),
            ),
        ),
    ]


def _themes() -> list[tuple[str, str, Spec]]:
    common = {"tag": "Themes", "security": PUBLIC}
    return [
        (
            "/api/v1/themes/encode",
            "post",
            _operation(
                "encodeTheme",
                "Validate, normalize and encode a theme",
                body=_json_body(ref("Theme")),
                answers={
                    "200": _answer(
                        "The base64url value and the normalized theme.",
                        _theme_answer("theme", "json"),
                    )
                },
                errors=(400, 413, 422, 429),
                **common,
            ),
        ),
        (
            "/api/v1/themes/decode",
            "post",
            _operation(
                "decodeTheme",
                "Decode a theme value or a WebView URL",
                body=_json_body(
                    {
                        "oneOf": [
                            _one_key("theme", ref("EncodedTheme")),
                            _one_key("url", {"type": "string", "format": "uri"}),
                        ]
                    }
                ),
                answers={"200": _answer("The normalized theme.", _theme_answer("json"))},
                errors=(400, 413, 422, 429),
                **common,
            ),
        ),
        (
            "/api/v1/themes",
            "get",
            _operation(
                "listThemes",
                "The named themes",
                answers={
                    "200": _answer(
                        "The themes of BFF_THEMES_DIR.",
                        {
                            "type": "object",
                            "properties": {"themes": {"type": "array", "items": ref("NamedTheme")}},
                            "required": ["themes"],
                        },
                    )
                },
                errors=(429,),
                **common,
            ),
        ),
        (
            "/api/v1/themes/{name}",
            "get",
            _operation(
                "getTheme",
                "One named theme",
                parameters=[_path_parameter("name", "The theme's name.")],
                answers={"200": _answer("The theme.", ref("NamedTheme"))},
                errors=(404, 429),
                **common,
            ),
        ),
    ]


def _one_key(name: str, schema: Spec) -> Spec:
    return {
        "type": "object",
        "properties": {name: schema},
        "required": [name],
        "additionalProperties": False,
    }


def _theme_answer(*keys: str) -> Spec:
    schemas = {"theme": ref("EncodedTheme"), "json": ref("Theme")}
    return {
        "type": "object",
        "properties": {key: schemas[key] for key in keys},
        "required": list(keys),
    }


def _service(settings: Settings) -> list[tuple[str, str, Spec]]:
    common = {"tag": "Service", "security": PUBLIC}
    metrics_security = [{"metricsToken": []}] if settings.metrics_token else PUBLIC

    def status(value: str) -> Spec:
        return {
            "type": "object",
            "properties": {"status": {"const": value}},
            "required": ["status"],
        }

    return [
        (
            "/healthz",
            "get",
            _operation(
                "getHealth",
                "Liveness",
                answers={"200": _answer("The process serves.", status("ok"), limited=False)},
                **common,
            ),
        ),
        (
            "/readyz",
            "get",
            _operation(
                "getReadiness",
                "Readiness",
                description="200 when a Kard access token can be had and the state the"
                " service keeps can be written; else 503 naming what fails.",
                answers={"200": _answer("Ready.", status("ready"), limited=False)},
                errors=(503,),
                **common,
            ),
        ),
        (
            "/metrics",
            "get",
            _operation(
                "getMetrics",
                "Prometheus metrics of every worker",
                tag="Service",
                security=metrics_security,
                description="Open in sandbox; elsewhere it needs BFF_METRICS_TOKEN, and is 404"
                " without one.",
                answers={
                    "200": _answer(
                        "Prometheus's text format.",
                        {"type": "string"},
                        media_type="text/plain",
                        limited=False,
                    )
                },
                errors=(401, 404, 429),
            ),
        ),
        (
            WEBHOOK,
            "post",
            _operation(
                "receiveKardNotification",
                "Kard's notification webhook",
                tag="Webhooks",
                security=PUBLIC,
                description="Verified by its `notify-signature` (base64 HMAC-SHA256 of the raw"
                " body with KARD_WEBHOOK_KEY), kept once per `data.id`, answered at once and"
                " handed on by a worker. 503 until KARD_WEBHOOK_KEY is set.",
                parameters=[
                    {
                        "name": "notify-signature",
                        "in": "header",
                        "required": True,
                        "description": "Kard's signature of the body.",
                        "schema": {"type": "string"},
                    }
                ],
                body=_json_body(ref("Notification")),
                answers={
                    "200": _answer(
                        "Taken (or a duplicate of one taken).", ref("NotificationReceipt")
                    ),
                    "401": {"$ref": "#/components/responses/BadSignature"},
                },
                errors=(400, 413, 422, 429, 503),
            ),
        ),
        (
            "/openapi.json",
            "get",
            _operation(
                "getOpenApiDocument",
                "This description",
                answers={"200": _answer("OpenAPI 3.1.", {"type": "object"}, limited=False)},
                **common,
            ),
        ),
    ]


def _page(path: str, operation_id: str, summary: str) -> tuple[str, str, Spec]:
    answer = _answer("The page.", {"type": "string"}, media_type=HTML, limited=False)
    return (
        path,
        "get",
        _operation(operation_id, summary, tag="Pages", security=PUBLIC, answers={"200": answer}),
    )


def _pages() -> list[tuple[str, str, Spec]]:
    return [
        _page("/", "showIndex", "The index: what this service is"),
        _page("/theme-studio", "showThemeStudio", "The theme studio, for designers"),
        _page("/embed", "showEmbed", "The web embed example"),
        _page("/docs", "showApiReference", "This description, for people"),
        *_assets(),
    ]


def _assets() -> list[tuple[str, str, Spec]]:
    def script(description: str) -> Spec:
        return _answer(description, {"type": "string"}, media_type="text/javascript", limited=False)

    asset = {
        "description": "The file.",
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
        "content": {
            kind: {"schema": {"type": "string"}} for kind in ("text/css", "text/javascript")
        },
    }
    return [
        (
            "/static/{asset}",
            "get",
            _operation(
                "getAsset",
                "A script or stylesheet of the pages",
                tag="Pages",
                security=PUBLIC,
                parameters=[_path_parameter("asset", "Its path (one or more segments).")],
                answers={"200": asset},
                errors=(404,),
            ),
        ),
        (
            "/static/theme-limits.js",
            "get",
            _operation(
                "getThemeLimits",
                "The theme limits the studio shares with the BFF",
                tag="Pages",
                security=PUBLIC,
                answers={"200": script("A JavaScript module.")},
            ),
        ),
    ]


def _sandbox() -> list[tuple[str, str, Spec]]:
    standin = {"tag": "Sandbox", "security": [{"webViewToken": []}]}
    kard_answer = {"2XX": _answer("The simulator's answer.", {"type": "object"}, limited=False)}
    standin_errors = (401, *UPSTREAM)
    return [
        (
            DEV_SESSION,
            "post",
            _operation(
                "createDevSession",
                "Enroll a user and mint a session token",
                tag="Sandbox",
                security=PUBLIC,
                description=(
                    "Enrolls the user with Kard (Create Users; one already enrolled stays so),"
                    " then answers a one-hour session token (dev and hs256 modes; 404 in jwks"
                    " mode)."
                ),
                body=_json_body(ref("DevSessionRequest")),
                answers={
                    "200": _answer(
                        "Send it as `Authorization: Bearer <token>`.",
                        ref("DevSession"),
                        links={
                            "ListOffers": {"operationId": "listOffers"},
                            "GetSession": {"operationId": "getSession"},
                        },
                    )
                },
                errors=(400, 404, 413, 422, 429, 502, 503, 504),
            ),
        ),
        _page("/sandbox/webview", "showSandboxWebView", "The stand-in for Kard's WebView"),
        (
            "/sandbox/webview/api/me",
            "get",
            _operation(
                "standInMe",
                "Whom the WebView token is for",
                answers=kard_answer,
                errors=standin_errors,
                **standin,
            ),
        ),
        (
            "/sandbox/webview/api/offers",
            "get",
            _operation(
                "standInOffers",
                "The WebView token's user's offers",
                answers=kard_answer,
                errors=standin_errors,
                **standin,
            ),
        ),
        (
            "/sandbox/webview/api/locations",
            "get",
            _operation(
                "standInLocations",
                "The WebView token's user's locations",
                parameters=_query(tuple(p for p in LOCATIONS if p.name in STANDIN_FILTERS)),
                answers=kard_answer,
                errors=standin_errors,
                **standin,
            ),
        ),
        *(
            (
                f"/sandbox/webview/api/offers/{{offerId}}/{action}",
                "post",
                _operation(
                    f"standIn{action.capitalize()}",
                    f"{action.capitalize()} an offer from the stand-in",
                    parameters=[_OFFER_ID],
                    answers=kard_answer,
                    errors=standin_errors,
                    **standin,
                ),
            )
            for action in ("activate", "boost")
        ),
        (
            "/sandbox/webview/api/offers/{offerId}/purchase",
            "post",
            _operation(
                "standInPurchase",
                "Make a test purchase at an offer's merchant",
                description=(
                    "The simulator reports a settled card purchase of the token's user at the"
                    " offer's merchant to its Incoming Transactions, as an issuer would: the"
                    " reward it earns, and its notifications, follow."
                ),
                parameters=[_OFFER_ID],
                answers=kard_answer,
                errors=standin_errors,
                **standin,
            ),
        ),
        (
            "/sandbox/webview/api/rewards",
            "get",
            _operation(
                "standInRewards",
                "The WebView token's user's earned rewards",
                answers=kard_answer,
                errors=standin_errors,
                **standin,
            ),
        ),
    ]
