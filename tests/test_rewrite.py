"""The one-pass rewrite of Kard answers, on the edge cases the simulator does not produce."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bff.keys import Keys
from bff.offers.cta import CtaUrls
from bff.offers.rewrite import bff_cta_url, rewrite_document

KARD = "https://rewards-api.getkard.com"
ORG, USER = "org-1", "user 1/x"
PREFIX = "/v2/issuers/org-1/users/user%201%2Fx"
CTAS = CtaUrls(Keys(["test-secret"]))


def rewrite(document, endpoint: str = "/api/v1/offers") -> None:
    """Rewrite `document` in place for USER of ORG, as the BFF's answer to `endpoint`."""
    rewrite_document(
        document,
        endpoint=endpoint,
        organization_id=ORG,
        user_id=USER,
        kard_api_url=KARD,
        emit_cta=CTAS.emit,
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{PREFIX}/offers/abc/activate", "/api/v1/offers/abc/activate"),
        (f"{PREFIX}/offers/abc/boost?include=offer", "/api/v1/offers/abc/boost?include=offer"),
        (f"{KARD}{PREFIX}/offers/abc/activate", "/api/v1/offers/abc/activate"),
        ("/v2/issuers/org-1/users/someone-else/offers/abc/activate", None),
        ("/v2/issuers/org-2/users/user%201%2Fx/offers/abc/activate", None),
        (f"https://evil.example.com{PREFIX}/offers/abc/activate", None),
        (f"{PREFIX}/", None),
        ("/v2/users/user/offers", None),
        ("", None),
    ],
)
def test_cta_urls(url, expected):
    assert bff_cta_url(url, ORG, USER, KARD) == expected


def test_links_keep_the_query_and_tolerate_kards_doc_style_second_question_mark():
    document = {
        "links": {
            "self": f"{PREFIX}/offers?page[size]=1?sort=-startDate",
            "next": f"{PREFIX}/offers?page[after]=NDMy&page[size]=1?&sort=-startDate",
            "prev": None,
        }
    }
    rewrite(document)
    assert document["links"] == {
        "self": "/api/v1/offers?page[size]=1&sort=-startDate",
        "next": "/api/v1/offers?page[after]=NDMy&page[size]=1&sort=-startDate",
        "prev": None,
    }


@given(st.text(alphabet="ab=?&", max_size=12))
def test_a_links_query_keeps_its_parameters_in_order_joined_by_single_ampersands(query):
    document = {"links": {"next": f"{PREFIX}/offers?{query}"}}
    rewrite(document)
    parameters = [part for part in re.split("[?&]", query) if part]
    expected = "/api/v1/offers" + (f"?{'&'.join(parameters)}" if parameters else "")
    assert document["links"]["next"] == expected


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        "text",
        {"data": None},
        {"data": {"attributes": None}},
        {"data": [1, "x", {"attributes": {"components": {"cta": "not an object"}}}]},
        {"included": [{"attributes": {"components": {"cta": {"action": {"url": 7}}}}}]},
        {"links": ["not", "a", "dict"]},
    ],
)
def test_odd_bodies_pass_through(document):
    before = repr(document)
    rewrite(document)
    assert repr(document) == before


def test_single_resource_data_is_rewritten():
    document = {
        "data": {
            "id": "abc",
            "attributes": {"components": {"cta": {"action": {"url": f"{PREFIX}/offers/abc/go"}}}},
        }
    }
    rewrite(document, "/x")
    url = document["data"]["attributes"]["components"]["cta"]["action"]["url"]
    path, _, signature = url.partition("?sig=")
    assert path == "/api/v1/offers/abc/go"
    assert CTAS.signed_methods("offers/abc/go", f"sig={signature}") == (["POST"], "")
