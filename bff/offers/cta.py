"""Call-to-action URLs: which ones the BFF serves, and how any instance knows it emitted them.

Activate and boost (`POST offers/{id}/activate`, `.../boost`) are endpoints of the contract,
served for any offer ID, and handed out as they are. Any other CTA that Kard's answers carry
under the user (say `POST offers/{id}/renew`) is handed to the app signed: the BFF appends a
`sig` parameter, an HMAC (`bff.keys`) of the method, the path and the query, and serves exactly
that URL, for the session user, from every instance of a fleet and after any restart, with no
shared memory. A path without a signature that matches is a 404 (a 405 when it is signed for
another method), and nothing goes upstream.
"""

import re
from urllib.parse import parse_qsl, unquote, urlencode

from bff.keys import Keys
from bff.offers.rewrite import BFF_API_PREFIX

SIGNATURE_PARAM = "sig"
BUILT_IN_ACTIONS = ("activate", "boost")
# Kard's IDs are Mongo ObjectIds; this admits any plain ID while keeping paths unbendable.
RESOURCE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SIGNABLE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

Pairs = list[tuple[str, str]]


def is_resource_id(value: str) -> bool:
    """Whether `value` has the shape of a Kard resource ID and so is safe in a path."""
    return bool(RESOURCE_ID.match(value))


def is_built_in(method: str, rest: str) -> bool:
    """Whether `method rest` (the path after /api/v1/) is activate or boost."""
    parts = rest.split("/")
    return (
        method == "POST"
        and len(parts) == 3
        and parts[0] == "offers"
        and parts[2] in BUILT_IN_ACTIONS
    )


class CtaUrls:
    """Sign the CTA URLs handed to apps; tell which method a signed URL was handed out for."""

    def __init__(self, keys: Keys, *, url_prefix: str = ""):
        self._keys = keys
        self._url_prefix = url_prefix  # where kard-bff is mounted in the app: "", "/rewards"

    def emit(self, method: str, url: str) -> str:
        """The URL to hand the app for the CTA `method url` (a BFF URL, /api/v1/...), under
        the app's prefix; a signature covers what follows /api/v1/, wherever it is mounted."""
        rest, _, query = url.removeprefix(BFF_API_PREFIX).partition("?")
        if is_built_in(method, rest):
            return self._url_prefix + url
        signature = self._keys.sign(_message(method, unquote(rest), _pairs(query)))
        return f"{self._url_prefix}{url}{'&' if query else '?'}{SIGNATURE_PARAM}={signature}"

    def signed_methods(self, rest: str, query: str) -> tuple[list[str], str]:
        """The methods `rest?query` (path decoded, query as sent) was signed for, if any, and
        the query without its signature: what Kard gets."""
        pairs = _pairs(query)
        signatures = [value for name, value in pairs if name == SIGNATURE_PARAM]
        if len(signatures) != 1:
            return [], query
        unsigned = [pair for pair in pairs if pair[0] != SIGNATURE_PARAM]
        methods = [
            method
            for method in SIGNABLE_METHODS
            if self._keys.verify(_message(method, rest, unsigned), signatures[0])
        ]
        return methods, urlencode(unsigned)


def _pairs(query: str) -> Pairs:
    return parse_qsl(query, keep_blank_values=True)


def _message(method: str, rest: str, pairs: Pairs) -> str:
    """What a signature covers: the method, the decoded path, and the query in a canonical
    order, so an app's HTTP library may re-encode the URL without breaking it."""
    return "\n".join((method, rest, urlencode(sorted(pairs))))
