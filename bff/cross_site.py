"""Cross-site request refusal, for a kard-bff whose user comes from the host app's cookie session.

A browser sends cookies with a request another site makes, so a signed-in user's session would
let any page change things in their name (CSRF). As RFC 10017 ("OAuth 2.0 for Browser-Based
Applications") asks of a BFF, a request that changes something (any method but GET, HEAD and
OPTIONS) must show it comes from the host's own pages, before anything goes upstream:

- it carries `X-Kard-BFF` (any value; `1` by convention). Another site can send a custom header
  only after a CORS preflight, which kard-bff answers for no origin unless `BFF_CORS_ORIGINS`
  lists it;
- its `Sec-Fetch-Site`, when the browser sends one (all current browsers do), is `same-origin`
  or `none` (typed by the user): `cross-site` and `same-site` (a sibling subdomain) are refused,
  but from an origin `BFF_CORS_ORIGINS` lists (a browser names the page's origin in `Origin`,
  which no page can change), since CORS lets exactly those send the header.
"""

from flask import request

from bff.current import settings
from bff.errors import Forbidden

REQUIRED_HEADER = "X-Kard-BFF"
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OWN_SITES = frozenset({"same-origin", "none"})


def refuse_cross_site() -> None:
    """403 for a request that changes something and may come from another site."""
    if request.method in READ_ONLY_METHODS:
        return
    site = request.headers.get("Sec-Fetch-Site")
    if (
        site is not None
        and site not in OWN_SITES
        and request.headers.get("Origin") not in settings().cors_origins
    ):
        raise Forbidden(
            f"A {site} request cannot act for the signed-in user: call kard-bff from the"
            " host app's own pages."
        )
    if not request.headers.get(REQUIRED_HEADER, "").strip():
        raise Forbidden(
            f"Send '{REQUIRED_HEADER}: 1' with every request that changes something: it shows"
            " the request comes from the host app's own pages."
        )
