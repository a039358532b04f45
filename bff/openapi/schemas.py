"""The JSON Schemas of the API description's bodies, made from the tables the code checks with
(the theme codec's tokens and limits, Kard's vocabulary, the attribution and audit limits), so
the description cannot drift from what the BFF enforces.

Kard's own documents that the BFF passes through (offers, locations, earned rewards, what an
activation returns) are described as far as the BFF guarantees them: the JSON:API frame, the
fields apps use, the links and call-to-action URLs it rewrites. Every object stays open
(`additionalProperties` is JSON Schema's default, true): Kard's new fields come through.
"""

import re
from typing import Any

from bff import audits
from bff.attributions import checks
from bff.errors import MAX_REPORTED_ERRORS
from bff.kard import vocabulary
from bff.kard.notifications import TYPES as NOTIFICATION_TYPES
from bff.session import MAX_USER_ID_LENGTH
from bff.settings import AUTH_MODES, HOST_AUTH_MODE
from bff.themes import catalog, codec

Schema = dict[str, Any]

BASE64URL = r"^[A-Za-z0-9_-]+$"


def ref(name: str) -> Schema:
    """A reference to one of `SCHEMAS`."""
    return {"$ref": f"#/components/schemas/{name}"}


def _string(**constraints: Any) -> Schema:
    return {"type": "string", **constraints}


def _object(properties: dict[str, Schema], *, required: tuple[str, ...] = (), **more: Any):
    schema: Schema = {"type": "object", "properties": properties, **more}
    if required:
        schema["required"] = list(required)
    return schema


def _closed(properties: dict[str, Schema], **more: Any) -> Schema:
    """An object the BFF refuses unknown keys of (a 422 names them)."""
    return _object(properties, additionalProperties=False, **more)


_TIMESTAMP = _string(format="date-time", description="ISO 8601 in UTC, with a `Z`.")


def _theme() -> Schema:
    color = _string(
        maxLength=codec.MAX_VALUE_LENGTH,
        description="A CSS color: hex, rgb(), hsl(), hwb(), lab(), lch(), oklab(), oklch(),"
        " color() or a name.",
        examples=["#0066cc"],
    )
    length = _string(
        maxLength=codec.MAX_VALUE_LENGTH,
        description="A CSS length of 0 or more: 8px, 0.5rem, 50%.",
        examples=["12px"],
    )
    label = _string(
        minLength=1,
        maxLength=codec.MAX_LABEL_LENGTH,
        description="Plain text (no control characters, no < or >), trimmed.",
    )
    palette = _closed({token: color for token in codec.COLOR_TOKENS})
    return _closed(
        {
            "theme": _string(enum=list(codec.MODES)),
            "styles": _closed(
                {
                    "light": palette,
                    "dark": palette,
                    "layout": _closed({token: length for token in codec.LAYOUT_TOKENS}),
                }
            ),
            "labels": _closed({name: label for name in codec.LABELS}),
            "layout": _closed({option: {"type": "boolean"} for option in codec.LAYOUT_OPTIONS}),
        },
        description="A WebView theme, as Kard's WebView guide describes it. Unknown keys are"
        " refused, each with the allowed names.",
        examples=[
            {
                "theme": "light",
                "styles": {
                    "light": {"primary": "#0066cc", "background": "#f5f5f5"},
                    "layout": {"radius": "12px"},
                },
                "labels": {"offersTitle": "Cash back for you"},
                "layout": {"showMap": True},
            }
        ],
    )


def _error() -> Schema:
    return _object(
        {
            "status": _string(pattern=r"^[45]\d\d$", description="The HTTP status, as text."),
            "title": _string(),
            "detail": _string(),
            "source": _object(
                {
                    "pointer": _string(description="A JSON pointer into the request body."),
                    "parameter": _string(description="The bad query parameter."),
                    "header": _string(description="The bad request header."),
                }
            ),
            "id": _string(description="Kard's: the resource a multi-status error is about."),
        },
        required=("status", "title", "detail"),
    )


def _errors() -> Schema:
    return _object(
        {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": ref("Error"),
                "description": f"At most {MAX_REPORTED_ERRORS} described, then one that"
                " counts the rest.",
            }
        },
        required=("errors",),
        description="Every error answer, in Kard's JSON:API shape.",
        examples=[
            {
                "errors": [
                    {
                        "status": "400",
                        "title": "Bad request",
                        "detail": "page[size] must be from 1 to 100, not 500",
                        "source": {"parameter": "page[size]"},
                    }
                ]
            }
        ],
    )


def _attribution_event() -> Schema:
    kinds = vocabulary.ATTRIBUTION_MEDIUMS
    state = _closed(
        {
            "rank": {"type": "integer", "minimum": 1},
            "filters": {
                "type": "array",
                "maxItems": checks.MAX_FILTERS,
                "items": _closed(
                    {"name": _string(minLength=1, maxLength=200)}
                    | {"value": _string(minLength=1, maxLength=200)},
                    required=("name", "value"),
                ),
            },
        },
        description="Where the offer was when the user saw it.",
    )
    return {
        "oneOf": [
            _closed(
                {
                    "type": {"const": kind},
                    "attributes": _closed(
                        {
                            "entityId": _string(
                                minLength=1,
                                maxLength=checks.MAX_ENTITY_ID_LENGTH,
                                description="The offer's ID (or the notification's).",
                            ),
                            "eventCode": _string(enum=list(vocabulary.EVENT_CODES)),
                            "medium": _string(enum=list(mediums)),
                            "eventDate": {
                                "type": ["string", "null"],
                                "format": "date-time",
                                "description": "ISO 8601 with a zone; the receipt time when"
                                " absent or null. At most a day ahead of the BFF's clock.",
                            },
                            "state": state,
                        },
                        required=("entityId", "eventCode", "medium"),
                    ),
                },
                required=("type", "attributes"),
            )
            for kind, mediums in kinds.items()
        ],
        "examples": [
            {
                "type": "offerAttribution",
                "attributes": {
                    "entityId": "e3a2ed7c9019ee392423df7b",
                    "eventCode": "IMPRESSION",
                    "medium": "BROWSE",
                    "eventDate": "2026-12-02T20:00:12Z",
                },
            }
        ],
    }


def _attribution_result() -> Schema:
    count = {"type": "integer", "minimum": 0}
    return _object(
        {
            "data": _object(
                {
                    "received": count,
                    "accepted": count | {"description": "forwarded + queued."},
                    "duplicates": count,
                    "forwarded": count | {"description": "Taken by Kard now."},
                    "queued": count
                    | {"description": "Stored durably; delivered when Kard takes them."},
                    "rejected": {
                        "type": "array",
                        "items": _object(
                            {"index": count, "errors": {"type": "array", "items": ref("Error")}},
                            required=("index", "errors"),
                        ),
                    },
                },
                required=("received", "accepted", "duplicates", "forwarded", "queued", "rejected"),
            )
        },
        required=("data",),
        examples=[
            {
                "data": {
                    "received": 3,
                    "accepted": 2,
                    "duplicates": 0,
                    "forwarded": 2,
                    "queued": 0,
                    "rejected": [
                        {
                            "index": 1,
                            "errors": [
                                {
                                    "status": "422",
                                    "title": checks.ERROR_TITLE,
                                    "detail": "eventCode must be one of IMPRESSION, VIEW,"
                                    " ACTIVATE, BOOST.",
                                    "source": {"pointer": "/data/1/attributes/eventCode"},
                                }
                            ],
                        }
                    ],
                }
            }
        ],
    )


def _audits() -> Schema:
    texts = {
        name: _string(minLength=1, maxLength=limit) for name, limit in audits.TEXT_LIMITS.items()
    }
    return _closed(
        {
            "data": {
                "type": "array",
                "minItems": 1,
                "maxItems": audits.MAX_AUDITS,
                "items": _object(
                    {
                        "type": {"const": "audit"},
                        "attributes": _closed(
                            {"auditCode": {"type": "integer", "enum": list(vocabulary.AUDIT_CODES)}}
                            | texts,
                            required=("auditCode", *audits.TEXT_LIMITS),
                            description="auditCode 3005: incorrect cashback, 3006: missing"
                            " cashback, 8001: other.",
                        ),
                    },
                    required=("type", "attributes"),
                ),
            }
        },
        required=("data",),
    )


def _resource(attributes: Schema | None = None) -> Schema:
    return _object(
        {
            "type": _string(),
            "id": _string(),
            "attributes": attributes or {"type": "object"},
            "relationships": {"type": "object"},
        },
        required=("type",),
    )


def links(url_prefix: str = "") -> Schema:
    """The `links` of a list: paths of the BFF, under its prefix when it is mounted under one."""
    link = {"type": ["string", "null"], "pattern": f"^{re.escape(url_prefix)}/api/v1/"}
    return _object(
        {"self": link, "next": link, "prev": link},
        description="Pages of the same BFF endpoint, with the same query.",
    )


def _components() -> Schema:
    text = _string()
    return _object(
        {
            **{name: text for name in ("shortDescription", "longDescription")},
            **{name: text for name in ("baseReward", "boostedReward")},
            "cta": _object(
                {
                    "buttonText": text,
                    "buttonStyle": text,
                    "action": _object(
                        {
                            "url": _string(
                                description="Kard's URLs under the session user become BFF"
                                " URLs (/api/v1/...): activate and boost as they are, other"
                                " call-to-actions signed (`sig`). Call it with `method`. Any"
                                " other URL is left as Kard sent it.",
                            ),
                            "method": _string(),
                        },
                        required=("url", "method"),
                    ),
                }
            ),
        },
        description="The UI components asked for with `supportedComponents`.",
    )


def _offer_attributes() -> Schema:
    reward = _object({"type": _string(), "value": {"type": "number"}})
    return _object(
        {
            "name": _string(),
            "userReward": reward,
            "purchaseChannel": {"type": "array", "items": _string()},
            "startDate": _string(),
            "expirationDate": _string(),
            "isTargeted": {"type": "boolean"},
            "terms": _string(),
            "description": _string(),
            "websiteUrl": _string(),
            "assets": {"type": "array", "items": _object({"type": _string(), "url": _string()})},
            "components": ref("Components"),
        }
    )


def _list_document(item: str) -> Schema:
    return _object(
        {
            "data": {"type": "array", "items": ref(item)},
            "included": {"type": "array", "items": ref("Resource")},
            "links": ref("Links"),
            "meta": {"type": "object"},
        },
        required=("data",),
        description="Kard's answer as Kard sent it (unknown fields kept), its links and"
        " call-to-action URLs pointing at the BFF.",
    )


def _notification() -> Schema:
    return _object(
        {
            "data": _object(
                {
                    "type": _string(
                        description="One of Kard's notification types; a type Kard adds later is"
                        " taken too.",
                        examples=list(NOTIFICATION_TYPES),
                    ),
                    "id": _string(minLength=1),
                    "attributes": {"type": "object"},
                    "relationships": {"type": "object"},
                },
                required=("type", "id"),
            )
        },
        required=("data",),
        description="A Kard notification (Notification Webhook, version 2024-10-01).",
    )


def _named_theme() -> Schema:
    return _object(
        {
            "name": _string(pattern=catalog.THEME_NAME.pattern),
            "json": ref("Theme"),
            "theme": ref("EncodedTheme"),
        },
        required=("name", "json", "theme"),
    )


_TOKEN = _string(description="A Kard WebView token: hand it to the WebView, nowhere else.")

SCHEMAS: dict[str, Schema] = {
    "Error": _error(),
    "Errors": _errors(),
    "Theme": _theme(),
    "EncodedTheme": _string(
        pattern=BASE64URL,
        maxLength=codec.MAX_ENCODED_LENGTH,
        description="The theme's compact ASCII JSON in RFC 4648 base64url, no padding.",
    ),
    "NamedTheme": _named_theme(),
    "AttributionEvent": _attribution_event(),
    "AttributionResult": _attribution_result(),
    "Audits": _audits(),
    "Resource": _resource(),
    "Offer": _resource(_offer_attributes()),
    "Links": links(),
    "Components": _components(),
    "OfferList": _list_document("Offer"),
    "LocationList": _list_document("Resource"),
    "EarnedRewardList": _list_document("Resource"),
    "OfferAction": _object(
        {"data": ref("Resource"), "included": {"type": "array", "items": ref("Offer")}},
        required=("data",),
        description="Kard's answer: the ACTIVATE or BOOST attribution it recorded, and the"
        " updated offer in `included`.",
    ),
    "KardDocument": _object(
        {"data": {}, "included": {"type": "array"}, "links": ref("Links")},
        description="Kard's answer to the call-to-action, rewritten like the offers.",
    ),
    "Notification": _notification(),
    "NotificationReceipt": _object(
        {
            "data": _object(
                {"id": _string(), "type": _string(), "duplicate": {"type": "boolean"}},
                required=("id", "type", "duplicate"),
            )
        },
        required=("data",),
    ),
    "WebViewToken": _object(
        {
            "token": _TOKEN,
            "tokenType": {"const": "Bearer"},
            "expiresIn": {"type": "integer", "description": "Seconds until it expires."},
            "expiresAt": _TIMESTAMP,
        },
        required=("token", "tokenType", "expiresIn", "expiresAt"),
    ),
    "WebViewSession": _object(
        {
            "url": _string(
                format="uri-reference",
                description="KARD_WEBVIEW_URL?token=...&theme=... (no theme parameter without"
                " a theme).",
            ),
            "token": _TOKEN,
            "expiresAt": _TIMESTAMP,
            "theme": {"anyOf": [ref("EncodedTheme"), {"type": "null"}]},
        },
        required=("url", "token", "expiresAt", "theme"),
    ),
    "Session": _object(
        {
            "userId": _string(),
            "authMode": _string(
                enum=[*AUTH_MODES, HOST_AUTH_MODE],
                description=f"`{HOST_AUTH_MODE}`: the user signed in to the app it is mounted in.",
            ),
        },
        required=("userId", "authMode"),
    ),
    "DevSessionRequest": _object(
        {"userId": _string(minLength=1, maxLength=MAX_USER_ID_LENGTH)}, required=("userId",)
    ),
    "DevSession": _object(
        {
            "token": _string(description="A session token for BFF_AUTH_MODE dev (or hs256)."),
            "tokenType": {"const": "Bearer"},
            "expiresIn": {"type": "integer"},
        },
        required=("token", "tokenType", "expiresIn"),
    ),
}
