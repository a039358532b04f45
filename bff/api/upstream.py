"""What the proxying views share: the query checked, and Kard's answer rewritten for apps."""

import functools
from collections.abc import Sequence
from urllib.parse import parse_qsl

from flask import request

from bff.kard import KardResponse
from bff.kard.extension import kard
from bff.offers.extension import cta_urls
from bff.offers.queries import Param, check_query, with_defaults
from bff.offers.rewrite import rewrite_document

CHECKED_QUERIES = 1024  # query strings whose checked pairs are remembered, per process
Pair = tuple[str, str]


def checked_query(
    rules: Sequence[Param],
    components: Sequence[str] | None = None,
    *,
    locations: bool = False,
    query: str | None = None,
) -> tuple[Pair, ...]:
    """The request's query as (name, value) pairs, in order, repeats kept, checked against
    `rules` (400 if it breaks one); with `components`, the defaults of `with_defaults` added.
    `query` stands for the request's (a signed CTA's, without its signature).

    The answer depends on the query string alone, and apps send the same few, so it is
    remembered (a bounded cache; a refused query is checked again each time)."""
    raw = request.query_string if query is None else query.encode()
    return _checked(raw, tuple(rules), _tuple(components), locations)


@functools.lru_cache(maxsize=CHECKED_QUERIES)
def _checked(
    query: bytes, rules: tuple[Param, ...], components: tuple[str, ...] | None, locations: bool
) -> tuple[Pair, ...]:
    # The pairs straight from the query string: cheaper than building request.args.
    pairs = check_query(parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True), rules)
    if components is not None:
        pairs = with_defaults(pairs, components, locations=locations)
    return tuple(pairs)


def _tuple(components: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if components is None else tuple(components)


def rewritten(answer: KardResponse, user_id: str):
    """Kard's answer with its links and CTAs pointing at the BFF (other CTAs than activate and
    boost signed)."""
    client = kard()
    rewrite_document(
        answer.body,
        endpoint=request.path,
        organization_id=client.organization_id,
        user_id=user_id,
        kard_api_url=client.api_url,
        emit_cta=cta_urls().emit,
    )
    return answer.body, answer.status
