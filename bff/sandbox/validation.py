"""Validate JSON request bodies, collecting JSON:API errors with pointers into the document."""

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from bff.sandbox.errors import KardError, error_object


class BodyErrors:
    """Accumulates 400 errors for one request body."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, pointer: str, detail: str) -> None:
        """Record an error at a JSON pointer."""
        self.errors.append(error_object(400, detail, source={"pointer": pointer}))

    def raise_any(self) -> None:
        """Raise a 400 carrying every recorded error, if there are any."""
        if self.errors:
            raise KardError(400, self.errors[0]["detail"], errors=self.errors)

    def require(self, value: Any, pointer: str, check: Callable[[Any], bool], detail: str) -> bool:
        """Record an error unless `check(value)` holds; return whether it held."""
        ok = check(value)
        if not ok:
            self.add(pointer, detail)
        return ok

    def resource(self, item: Any, pointer: str, types: Collection[str]) -> dict[str, Any] | None:
        """Check a JSON:API resource object: an object of one of `types` with an `attributes`
        object. Return its attributes (even when the type is wrong), or None when unusable."""
        if not self.require(item, pointer, _is_object, "must be an object"):
            return None
        self.require(
            item.get("type"),
            f"{pointer}/type",
            lambda t: isinstance(t, str) and t in types,
            f"type must be {_one_of(types)}",
        )
        attributes = item.get("attributes")
        if not self.require(attributes, f"{pointer}/attributes", _is_object, "must be an object"):
            return None
        return attributes


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _one_of(types: Collection[str]) -> str:
    names = list(types)
    return names[0] if len(names) == 1 else f"one of {', '.join(names)}"


def data_array(body: Any, *, maximum: int | None = None) -> list[Any]:
    """Return the body's non-empty `data` array, or raise a 400 at "/data"."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data:
        raise KardError(400, "data must be a non-empty array", pointer="/data")
    if maximum is not None and len(data) > maximum:
        raise KardError(400, f"data must contain at most {maximum} items", pointer="/data")
    return data


def non_empty_string(value: Any) -> bool:
    """Return whether `value` is a non-blank string."""
    return isinstance(value, str) and bool(value.strip())


def strict_int(value: Any) -> bool:
    """Return whether `value` is a JSON integer (booleans are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def iso_datetime(value: Any) -> bool:
    """Return whether `value` is an ISO 8601 date-time string (a date alone is not)."""
    if not isinstance(value, str) or "T" not in value.upper():
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
