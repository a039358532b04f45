"""The baseline for `bench/offers.py`: the least a proxy in front of Kard's offers must do.

One pooled `httpx.Client` to the upstream, whose access token is fetched once at start-up;
`GET /api/v1/offers` is forwarded with its query, the answer parsed with orjson, its links and
CTA URLs rewritten to the BFF's paths, and sent back with `orjson.dumps`. No session auth, no
query validation, no retries, no logging of its own: whatever kard-bff spends beyond this is the
price of its features. Serve it with gunicorn from the repository root:

    BENCH_UPSTREAM_URL=http://127.0.0.1:8080 python -m gunicorn --worker-class gthread \\
        --workers 2 --threads 8 --bind 127.0.0.1:8001 bench.minimal_proxy:app
"""

import os

import httpx
import orjson
from flask import Flask, Response, request

UPSTREAM_URL = os.environ.get("BENCH_UPSTREAM_URL", "http://127.0.0.1:8080")
USER_PREFIX = "/v2/issuers/org-sandbox/users/bench-user/"
API_PREFIX = "/api/v1/"
LINK_NAMES = ("self", "next", "prev")


def _fetch_token(client: httpx.Client) -> str:
    answer = client.post("/v2/auth/token", json={"client_id": "bench", "client_secret": "bench"})
    answer.raise_for_status()
    return answer.json()["access_token"]


def _rewrite(document: dict) -> dict:
    links = document.get("links")
    if isinstance(links, dict):
        for name in LINK_NAMES:
            link = links.get(name)
            if isinstance(link, str):
                links[name] = API_PREFIX + "offers?" + link.partition("?")[2]
    for offer in document.get("data") or ():
        action = offer.get("attributes", {}).get("components", {}).get("cta", {}).get("action")
        if action and action.get("url", "").startswith(USER_PREFIX):
            action["url"] = API_PREFIX + action["url"][len(USER_PREFIX) :]
    return document


def create_app(upstream_url: str = UPSTREAM_URL) -> Flask:
    """The proxy app, with its upstream client and token made once per worker process."""
    app = Flask(__name__)
    client = httpx.Client(
        base_url=upstream_url,
        timeout=10.0,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    headers = {"Authorization": f"Bearer {_fetch_token(client)}", "Accept": "application/json"}

    @app.get("/api/v1/offers")
    def offers() -> Response:
        query = request.query_string.decode()
        upstream = client.get(f"{USER_PREFIX}offers?{query}", headers=headers)
        body = orjson.dumps(_rewrite(orjson.loads(upstream.content)))
        return Response(body, status=upstream.status_code, mimetype="application/json")

    return app


app = create_app()
