"""Cursor pagination over a sorted list, and the JSON:API links Kard returns with a page."""

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

from bff.sandbox.errors import KardError, bad_parameter
from bff.sandbox.params import QueryArgs

T = TypeVar("T")
AFTER = "page[after]"
BEFORE = "page[before]"
# Cursors are versioned so a cursor from some other API is recognisably foreign.
_CURSOR_PREFIX = "v1:"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items, with the cursors to reach its neighbours (None when none)."""

    items: list[T]
    prev_cursor: str | None
    next_cursor: str | None


def encode_cursor(item_id: str) -> str:
    """Encode an item id as an opaque base64url cursor."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{item_id}".encode()).decode().rstrip("=")


def decode_cursor(parameter: str, cursor: str) -> str:
    """Decode a cursor back to the item id; malformed cursors are a 400 on `parameter`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(_CURSOR_PREFIX) or len(raw) == len(_CURSOR_PREFIX):
        raise bad_parameter(parameter, f"{parameter} is not a valid cursor")
    return raw.removeprefix(_CURSOR_PREFIX)


def paginate(items: Sequence[T], item_id: Callable[[T], str], args: QueryArgs) -> Page[T]:
    """Cut the page that page[size]/page[after]/page[before] select from the sorted `items`."""
    size = args.page_size()
    after, before = args.single(AFTER), args.single(BEFORE)
    if after is not None and before is not None:
        raise bad_parameter(BEFORE, f"{AFTER} and {BEFORE} cannot be combined")
    ids = [item_id(item) for item in items]
    if after is not None:
        start = _position(ids, AFTER, after) + 1
        end = min(start + size, len(ids))
    elif before is not None:
        end = _position(ids, BEFORE, before)
        start = max(end - size, 0)
    else:
        start, end = 0, min(size, len(ids))
    return Page(
        items=list(items[start:end]),
        prev_cursor=encode_cursor(ids[start]) if start > 0 else None,
        next_cursor=encode_cursor(ids[end - 1]) if end < len(ids) and end > 0 else None,
    )


def _position(ids: list[str], parameter: str, cursor: str) -> int:
    """Find the cursor's item in the list; a cursor for an item not in it is a 400."""
    item = decode_cursor(parameter, cursor)
    try:
        return ids.index(item)
    except ValueError:
        raise KardError(
            400, f"{parameter} does not match this result set", parameter=parameter
        ) from None


def links(path: str, args: QueryArgs, page: Page) -> dict[str, str | None]:
    """Build self/prev/next as API-root-relative paths keeping the request's other parameters."""
    return {
        "self": _link(path, args.pairs),
        "prev": _link(path, _with_cursor(args.pairs, BEFORE, page.prev_cursor))
        if page.prev_cursor
        else None,
        "next": _link(path, _with_cursor(args.pairs, AFTER, page.next_cursor))
        if page.next_cursor
        else None,
    }


def _with_cursor(pairs: list[tuple[str, str]], key: str, cursor: str) -> list[tuple[str, str]]:
    """Replace both cursor parameters by `key`=`cursor`, in place of the first one present."""
    result: list[tuple[str, str]] = []
    placed = False
    for name, value in pairs:
        if name in (AFTER, BEFORE):
            if not placed:
                result.append((key, cursor))
                placed = True
            continue
        result.append((name, value))
    return result if placed else [*result, (key, cursor)]


def _link(path: str, pairs: list[tuple[str, str]]) -> str:
    """Render path?query with brackets left readable, like Kard's own links."""
    if not pairs:
        return path
    return f"{path}?{urlencode(pairs, safe='[],', quote_via=quote)}"


def order(items: Sequence[T], args: QueryArgs, keys: dict[str, Callable[[T], Any]]) -> list[T]:
    """Sort by the `sort` parameter (CSV and/or repeated, "-" for descending) over a stable base."""
    allowed = [*keys, *(f"-{key}" for key in keys)]
    result = list(items)
    # Python's sort is stable: applying the keys last-to-first yields a multi-key sort.
    for spec in reversed(args.choices("sort", allowed)):
        result.sort(key=keys[spec.lstrip("-")], reverse=spec.startswith("-"))
    return result
