"""Rewrite Kard's answers so apps only ever talk to the BFF.

Two rewrites, in one pass over the freshly parsed body (changed in place, everything else kept):

- `links.self`, `links.next`, `links.prev` point at the BFF endpoint with the same query;
- every `components.cta.action.url` of the form `/v2/issuers/{org}/users/{user}/<rest>` (for this
  organization and this user) becomes `/api/v1/<rest>`, query kept, in `data` and in `included`,
  as `emit_cta(method, url)` hands it out (`bff.offers.cta` signs all but activate and boost).
"""

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

from bff.kard.client import user_prefix

BFF_API_PREFIX = "/api/v1/"
LINK_NAMES = ("self", "next", "prev")
_SEPARATORS = re.compile(r"[?&]+")


def rewrite_document(
    document: Any,
    *,
    endpoint: str,
    organization_id: str,
    user_id: str,
    kard_api_url: str,
    emit_cta: Callable[[str, str], str],
) -> None:
    """Rewrite `document` in place."""
    if not isinstance(document, dict):
        return
    links = document.get("links")
    if isinstance(links, dict):
        _rewrite_links(links, endpoint)
    for resource in _resources(document):
        action = _cta_action(resource)
        if action is None:
            continue
        rewritten = bff_cta_url(action["url"], organization_id, user_id, kard_api_url)
        if rewritten is None:
            continue
        action["url"] = emit_cta(str(action.get("method", "POST")).upper(), rewritten)


def bff_cta_url(url: str, organization_id: str, user_id: str, kard_api_url: str) -> str | None:
    """The BFF URL for a Kard CTA URL under this organization and user; None for any other."""
    if url.startswith(kard_api_url + "/"):
        url = url[len(kard_api_url) :]
    prefix = user_prefix(organization_id, user_id)
    if url.startswith(prefix):  # the usual spelling: no need to split and unquote
        rest_and_query = url[len(prefix) :]
    else:
        parts = url.split("/", 6)
        if len(parts) < 7 or parts[:3] != ["", "v2", "issuers"] or parts[4] != "users":
            return None
        if unquote(parts[3]) != organization_id or unquote(parts[5]) != user_id:
            return None
        rest_and_query = parts[6]
    if not rest_and_query.partition("?")[0].strip("/"):
        return None
    return BFF_API_PREFIX + rest_and_query


def _rewrite_links(links: dict[str, Any], endpoint: str) -> None:
    for name in LINK_NAMES:
        link = links.get(name)
        if isinstance(link, str):
            links[name] = _same_query(endpoint, link)


def _same_query(endpoint: str, kard_link: str) -> str:
    _, question_mark, query = kard_link.partition("?")
    # Kard's documented examples sometimes join parameters with a second "?"; read it as "&".
    # A well-formed query (the usual case) skips the regular expression: a tenth of the cost.
    if "?" in query or "&&" in query or query.startswith("&") or query.endswith("&"):
        query = _SEPARATORS.sub("&", query).strip("&")
    return f"{endpoint}?{query}" if question_mark and query else endpoint


def _resources(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    data = document.get("data")
    for group in (data if isinstance(data, list) else [data], document.get("included")):
        if isinstance(group, list):
            yield from (resource for resource in group if isinstance(resource, dict))


def _cta_action(resource: dict[str, Any]) -> dict[str, Any] | None:
    attributes = resource.get("attributes")
    components = attributes.get("components") if isinstance(attributes, dict) else None
    cta = components.get("cta") if isinstance(components, dict) else None
    action = cta.get("action") if isinstance(cta, dict) else None
    if isinstance(action, dict) and isinstance(action.get("url"), str):
        return action
    return None
