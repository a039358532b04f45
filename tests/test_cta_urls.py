"""Signed call-to-action URLs: what is signed, what still verifies, what does not."""

import pytest

from bff.keys import Keys
from bff.offers.cta import CtaUrls

CTAS = CtaUrls(Keys(["k" * 32]))


@pytest.mark.parametrize(
    ("method", "url"),
    [("POST", "/api/v1/offers/abc/activate"), ("POST", "/api/v1/offers/abc/boost?include=offer")],
)
def test_activate_and_boost_are_handed_out_as_they_are(method, url):
    assert CTAS.emit(method, url) == url


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "/api/v1/offers/abc/renew"),
        ("GET", "/api/v1/offers/abc/activate"),  # activate, but not as the contract's endpoint
        ("DELETE", "/api/v1/offers/abc"),
        ("POST", "/api/v1/offers/a%20b/renew?include=offer&x=%2F"),
    ],
)
def test_any_other_cta_is_signed_for_its_method_and_verifies(method, url):
    signed = CTAS.emit(method, url)
    path, _, query = signed.partition("?")
    rest = path.removeprefix("/api/v1/").replace("%20", " ")
    methods, unsigned = CTAS.signed_methods(rest, query)
    assert methods == [method]
    assert unsigned == url.partition("?")[2]


def test_a_re_encoded_or_reordered_query_still_verifies():
    signed = CTAS.emit("POST", "/api/v1/offers/abc/renew?b=2&a=x%20y")
    query = signed.partition("?")[2]
    sig = query.rpartition("sig=")[2]
    assert CTAS.signed_methods("offers/abc/renew", f"sig={sig}&a=x+y&b=2")[0] == ["POST"]


def test_a_url_signed_with_another_key_is_not_served():
    signed = CtaUrls(Keys(["x" * 32])).emit("POST", "/api/v1/offers/abc/renew")
    assert CTAS.signed_methods("offers/abc/renew", signed.partition("?")[2]) == ([], "")
