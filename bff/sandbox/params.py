"""Parse and validate query parameters the way Kard does: a bad value is a 400 naming it."""

import math
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import parse_qsl

from bff.kard.vocabulary import COMPONENTS
from bff.sandbox.errors import bad_parameter

N = TypeVar("N")
DEFAULT_PAGE_SIZE = 10


class QueryArgs:
    """The query string as ordered (key, value) pairs, with typed accessors."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    @classmethod
    def parse(cls, query_string: str) -> "QueryArgs":
        """Parse a raw query string, keeping order and blank values."""
        return cls(parse_qsl(query_string, keep_blank_values=True))

    def single(self, name: str) -> str | None:
        """Return the last value given for `name`, or None."""
        values = [value for key, value in self.pairs if key == name]
        return values[-1] if values else None

    def listed(self, name: str) -> list[str]:
        """Return the values of a repeatable and/or comma-separated parameter, in order."""
        return [
            item.strip()
            for key, value in self.pairs
            if key == name
            for item in value.split(",")
            if item.strip()
        ]

    def choices(self, name: str, allowed: Collection[str]) -> list[str]:
        """Return the listed values of `name`, each of which must be in `allowed`."""
        values = self.listed(name)
        for value in values:
            if value not in allowed:
                raise bad_parameter(name, f"'{value}' is not an allowed value for {name}")
        return values

    def choice(self, name: str, allowed: Collection[str]) -> str | None:
        """Return the single value of `name`, which must be in `allowed`."""
        value = self.single(name)
        if value is not None and value not in allowed:
            raise bad_parameter(name, f"'{value}' is not an allowed value for {name}")
        return value

    def boolean(self, name: str) -> bool | None:
        """Return `name` as a boolean ("true"/"false"), or None when absent."""
        value = self.single(name)
        if value is None:
            return None
        if value.lower() not in ("true", "false"):
            raise bad_parameter(name, f"{name} must be true or false")
        return value.lower() == "true"

    def integer(
        self, name: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        """Return `name` as an integer within the bounds, or None when absent."""
        number = self._converted(name, int, "an integer")
        if number is None:
            return None
        if minimum is not None and number < minimum:
            raise bad_parameter(name, f"{name} must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise bad_parameter(name, f"{name} must be at most {maximum}")
        return number

    def number(self, name: str, *, minimum: float, maximum: float) -> float | None:
        """Return `name` as a finite number within the bounds, or None when absent."""
        number = self._converted(name, float, "a number")
        if number is None:
            return None
        if not math.isfinite(number) or not minimum <= number <= maximum:
            raise bad_parameter(name, f"{name} must be between {minimum:g} and {maximum:g}")
        return number

    def moment(self, name: str) -> datetime | None:
        """Return `name` as an ISO 8601 date or date-time (UTC unless it says), or None."""
        return self._converted(name, _utc, "an ISO 8601 date or date-time")

    def page_size(self) -> int:
        """Return page[size] (default 10; at least 1, and no maximum, as the reference says)."""
        size = self.integer("page[size]", minimum=1)
        return DEFAULT_PAGE_SIZE if size is None else size

    def components(self) -> frozenset[str]:
        """Return the requested supportedComponents."""
        return frozenset(self.choices("supportedComponents", COMPONENTS))

    def includes(self, allowed: Collection[str]) -> frozenset[str]:
        """Return the requested `include` resources (CSV, possibly repeated)."""
        return frozenset(self.choices("include", allowed))

    def _converted(self, name: str, convert: Callable[[str], N], kind: str) -> N | None:
        """Return `name` converted, or None when absent; a value that does not convert is a 400."""
        value = self.single(name)
        if value is None:
            return None
        try:
            return convert(value)
        except ValueError:
            raise bad_parameter(name, f"{name} must be {kind}") from None


def _utc(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
