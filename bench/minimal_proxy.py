"""The reference for `bench/offers.py`: the least a proxy in front of Kard must do, done fast.

One urllib3 connection pool to the upstream, whose access token is fetched once per worker;
`GET /api/v1/{offers,locations,rewards}` is forwarded with its query, the answer parsed with
orjson, its links and CTA URLs rewritten (`bench/proxy_rewrite.py`), and sent back with
`orjson.dumps`. No session auth, no query validation, no retries, no logging: whatever kard-bff
spends beyond this is the price of its checks. Serve it as the bench does, from the repository
root:

    BENCH_UPSTREAM_URL=http://127.0.0.1:8080 granian --interface wsgi --workers 2 \\
        --blocking-threads 8 --factory --port 8001 bench.minimal_proxy:create_app
"""

import os

import orjson
import urllib3
from flask import Flask, Response, request

from bench.proxy_rewrite import CREDENTIALS, UPSTREAM_PATHS, USER_PREFIX, rewrite


def create_app() -> Flask:
    """The proxy app, with its connection pool and token made once per worker process."""
    app = Flask(__name__)
    pool = urllib3.connection_from_url(
        os.environ["BENCH_UPSTREAM_URL"], maxsize=16, timeout=10.0, retries=False
    )
    token = pool.request(
        "POST",
        "/v2/auth/token",
        body=orjson.dumps(CREDENTIALS),
        headers={"Content-Type": "application/json"},
    )
    headers = {
        "Authorization": f"Bearer {orjson.loads(token.data)['access_token']}",
        "Accept": "application/json",
    }

    @app.get("/api/v1/<any(offers, locations, rewards):endpoint>")
    def proxy(endpoint: str) -> Response:
        path = f"{USER_PREFIX}{UPSTREAM_PATHS[endpoint]}?{request.query_string.decode()}"
        upstream = pool.request("GET", path, headers=headers)
        body = orjson.dumps(rewrite(orjson.loads(upstream.data), endpoint))
        return Response(body, status=upstream.status, mimetype="application/json")

    return app
