"""The naive proxy for `bench/offers.py`: what a first attempt at a Kard proxy looks like.

The same endpoints and rewrites as `bench/minimal_proxy.py`, but a new `requests.get` (and so a
new connection) per call, stdlib json, under gunicorn's 2 sync workers. kard-bff should be
several times faster. Serve it as the bench does, from the repository root:

    BENCH_UPSTREAM_URL=http://127.0.0.1:8080 python -m gunicorn --workers 2 \\
        --bind 127.0.0.1:8002 'bench.naive_proxy:create_app()'
"""

import json
import os

import requests
from flask import Flask, Response, request

from bench.proxy_rewrite import CREDENTIALS, UPSTREAM_PATHS, USER_PREFIX, rewrite


def create_app() -> Flask:
    """The proxy app, with its token fetched once per worker process."""
    app = Flask(__name__)
    upstream_url = os.environ["BENCH_UPSTREAM_URL"]
    token = requests.post(
        f"{upstream_url}/v2/auth/token",
        json=CREDENTIALS,
        timeout=10,
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    @app.get("/api/v1/<any(offers, locations, rewards):endpoint>")
    def proxy(endpoint: str) -> Response:
        url = f"{upstream_url}{USER_PREFIX}{UPSTREAM_PATHS[endpoint]}"
        query = request.query_string.decode()
        upstream = requests.get(f"{url}?{query}", headers=headers, timeout=10)
        body = json.dumps(rewrite(json.loads(upstream.content), endpoint))
        return Response(body, status=upstream.status_code, mimetype="application/json")

    return app
