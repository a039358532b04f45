"""Field tables for Kard's JSON documents: what each field must hold, and one checker.

A table maps field names to `Field`s; `check_fields` walks a document against it, nested objects
included, and collects (JSON pointer, message) problems. Fields a table does not name are let
through, so Kard can add fields without breaking us.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Problem = tuple[str, str]  # (JSON pointer, message)
Check = Callable[[Any], str | None]  # the problem with a value, or None

ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})", re.IGNORECASE
)


@dataclass(frozen=True)
class Field:
    """One field of a table: how to check its value, and whether it must be present."""

    check: Check
    required: bool = False
    table: "dict[str, Field] | None" = None  # for nested objects


def string(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def non_empty(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def integer(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool)
    return None if ok else "must be an integer"


def matching(pattern: str, description: str) -> Check:
    compiled = re.compile(pattern)

    def check(value: Any) -> str | None:
        ok = isinstance(value, str) and compiled.fullmatch(value) is not None
        return None if ok else f"must be {description}"

    return check


def one_of(choices: tuple[str, ...], description: str | None = None) -> Check:
    if description is None:
        few = len(choices) < 3
        description = " or ".join(choices) if few else f"one of {', '.join(choices)}"
    message = f"must be {description}"
    return lambda value: None if value in choices else message


def date_time(value: Any) -> str | None:
    if isinstance(value, str) and ISO_DATETIME.fullmatch(value):
        try:
            datetime.fromisoformat(value)
            return None
        except ValueError:
            pass
    return "must be an ISO 8601 date-time with a time zone, like 2021-07-02T17:47:06Z"


def mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be an object"


def list_of(check: Check, description: str) -> Check:
    def check_list(value: Any) -> str | None:
        ok = isinstance(value, list) and all(check(item) is None for item in value)
        return None if ok else f"must be a list of {description}"

    return check_list


def check_fields(
    document: dict[str, Any], table: dict[str, Field], at: str, problems: list[Problem]
) -> None:
    """Append the problems of `document` (found at pointer `at`) against `table`."""
    for name, field in table.items():
        if name not in document:
            if field.required:
                problems.append((f"{at}/{name}", "is required"))
            continue
        value = document[name]
        problem = field.check(value)
        if problem is not None:
            problems.append((f"{at}/{name}", problem))
        elif field.table is not None:
            check_fields(value, field.table, f"{at}/{name}", problems)
