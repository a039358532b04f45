"""The baseline for `bench/webhooks.py`: the least a receiver of Kard's webhook must do.

Read the raw body, check `notify-signature` (base64 HMAC-SHA256 with the key) in constant time,
answer 200. No parsing, no idempotency, no storage, no hand-off: whatever kard-bff spends beyond
this is the price of those. Serve it with gunicorn from the repository root:

    BENCH_WEBHOOK_KEY=key python -m gunicorn --worker-class gthread --workers 2 --threads 8 \\
        --bind 127.0.0.1:8002 bench.minimal_webhook:app
"""

import base64
import hashlib
import hmac
import os

from flask import Flask, request

KEY = os.environ.get("BENCH_WEBHOOK_KEY", "key").encode()

app = Flask(__name__)


@app.post("/webhooks/kard")
def receive():
    digest = hmac.new(KEY, request.get_data(), hashlib.sha256).digest()
    given = request.headers.get("notify-signature", "").encode()
    if not hmac.compare_digest(given, base64.b64encode(digest)):
        return "", 401
    return "", 200


@app.get("/healthz")
def health():
    return "", 200
