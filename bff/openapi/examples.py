"""The API description's examples: real answers of the sandbox, recorded by
`python -m bff.openapi.examples` into examples.json (lists cut to their first two items, tokens
replaced by a stand-in), which `document` puts on their operations' successful answers. Nothing
in the package imports this module: it builds an app to ask.

Recording again after a change to the simulator or an answer keeps them real;
tests/test_openapi_examples.py checks that they still match the document and the sandbox.
"""

import json
import re
import tempfile
from importlib.resources import files
from typing import Any

from bff.openapi.document import EXAMPLES

USER_ID = "sandbox-demo-new-customer"
# What a token looks like, with nothing in it: examples carry no usable token.
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzYW5kYm94LWRlbW8ifQ.c2lnbmF0dXJl"
TOKEN_PATTERN = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")
_LISTS = ("data", "included", "availableCategories")
KEPT_ITEMS = 2  # the sandbox's second offer has a call-to-action


def record() -> dict[str, dict[str, Any]]:
    """Ask a fresh sandbox for one answer of each operation worth showing."""
    from bff import create_app

    with tempfile.TemporaryDirectory() as state:
        client = create_app({"BFF_STATE_DIR": state, "KARD_WEBHOOK_KEY": "k"}).test_client()
        session = client.post("/dev/session", json={"userId": USER_ID})
        auth = {"Authorization": f"Bearer {session.json['token']}"}
        offers = client.get("/api/v1/offers?page[size]=2", headers=auth)
        offer_id = offers.json["data"][1]["id"]  # one with a call-to-action
        for _ in range(2):  # rewards come from purchases: two, so the list has a next page
            purchase = {"userId": USER_ID, "offerId": offers.json["data"][0]["id"]}
            client.post("/sandbox/kard/_sandbox/purchases", json=purchase)
        answers = {
            "createDevSession": session,
            "getSession": client.get("/api/v1/session", headers=auth),
            "listOffers": offers,
            "listLocations": client.get("/api/v1/locations?page[size]=1", headers=auth),
            "activateOffer": client.post(f"/api/v1/offers/{offer_id}/activate", headers=auth),
            "viewOffer": client.post(f"/api/v1/offers/{offer_id}/view", headers=auth),
            "listEarnedRewards": client.get("/api/v1/rewards?page[size]=1", headers=auth),
            "createWebViewToken": client.post("/api/v1/webview/token", headers=auth),
            "createWebViewSession": client.post(
                "/api/v1/webview/session", headers=auth, json={"themeName": "branding"}
            ),
            "getTheme": client.get("/api/v1/themes/branding"),
        }
        return {
            operation: {str(answer.status_code): _trimmed(answer.json)}
            for operation, answer in answers.items()
        }


def _trimmed(value: Any) -> Any:
    """`value` with its long lists cut to KEPT_ITEMS and its tokens replaced."""
    if isinstance(value, dict):
        return {
            key: _trimmed(item[:KEPT_ITEMS] if key in _LISTS and isinstance(item, list) else item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_trimmed(item) for item in value]
    if isinstance(value, str):
        return TOKEN_PATTERN.sub(TOKEN, value)
    return value


if __name__ == "__main__":
    target = files("bff.openapi").joinpath(EXAMPLES)
    text = json.dumps(record(), indent=2, ensure_ascii=False) + "\n"
    with open(str(target), "w", encoding="utf-8") as file:
        file.write(text)
    print(f"wrote {target}")
