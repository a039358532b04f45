"""Kard's webhook signature: base64(HMAC-SHA256(key, body)) in the `notify-signature` header."""

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable


def sign(key: str, body: bytes) -> str:
    """The `notify-signature` value Kard sends for `body`."""
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(header: str | None, body: bytes, keys: Iterable[str]) -> bool:
    """Whether `header` signs `body` with one of `keys` (several while a key is rotated).

    The raw body is what Kard signs. Kard's own Node recipe hashes `JSON.stringify(req.body)`
    instead, the compact re-serialization, so a digest of that is accepted too; it says the same
    thing about the same JSON document. It costs a JSON parse, so it is only computed when the raw
    body's digest does not match (which the answer tells anyway). Comparisons are constant-time.
    """
    if not header:
        return False
    given = header.strip().encode()
    if _signed_by_any(given, body, keys):
        return True
    compact = _compact(body)
    return compact is not None and compact != body and _signed_by_any(given, compact, keys)


def _signed_by_any(given: bytes, body: bytes, keys: Iterable[str]) -> bool:
    matched = False
    for key in keys:  # every key is tried, whichever matches
        matched |= hmac.compare_digest(given, sign(key, body).encode())
    return matched


def _compact(body: bytes) -> bytes | None:
    """`JSON.stringify(JSON.parse(body))` as Node writes it, or None if the body is not JSON."""
    try:
        document = json.loads(body, parse_float=_js_number)
    except (ValueError, RecursionError):
        return None
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    # A lone surrogate cannot be UTF-8; JSON.stringify writes it as the escape `\ud800`, and so
    # does backslashreplace (lowercase hex, like every other escape Node writes).
    return text.encode("utf-8", "backslashreplace")


def _js_number(text: str) -> float | int:
    # JavaScript has one number type: JSON.stringify writes 1.0 as 1.
    number = float(text)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number
