"""Malformed variants of a valid JSON document, for "never a 500" tests."""

import copy
from collections.abc import Iterator
from typing import Any

WRONG_VALUES = ([], {}, 0, -1, 1.5, None, "", True, "x")


def wrong_types_everywhere(document: Any) -> Iterator[Any]:
    """The document with each of its values (and itself) replaced, in turn, by each WRONG_VALUE."""
    for path in _paths(document):
        for value in WRONG_VALUES:
            yield _replaced(document, path, value)


def _paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every path to a value inside a JSON document, the document itself first."""
    yield path
    if isinstance(value, dict | list):
        for key, child in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _paths(child, (*path, key))


def _replaced(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(document)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return changed
