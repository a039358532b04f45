"""What the proxying views share: the query as pairs, and Kard's answer rewritten for apps."""

from urllib.parse import parse_qsl

from flask import request

from bff.extensions import cta_forms, kard
from bff.kard import KardResponse
from bff.queries import Pairs
from bff.rewrite import rewrite_document


def query_pairs() -> Pairs:
    """The request's query as (name, value) pairs, in order, repeats kept."""
    # The pairs straight from the query string: cheaper than building request.args.
    return parse_qsl(request.query_string.decode("utf-8", "replace"), keep_blank_values=True)


def rewritten(answer: KardResponse, user_id: str):
    """Kard's answer with its links and CTAs pointing at the BFF; the CTA forms learned."""
    client = kard()
    emitted = rewrite_document(
        answer.body,
        endpoint=request.path,
        organization_id=client.organization_id,
        user_id=user_id,
        kard_api_url=client.api_url,
    )
    cta_forms().learn(emitted)
    return answer.body, answer.status
