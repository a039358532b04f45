"""Kard-shaped API errors: an exception the views raise and the JSON:API error document."""

from http import HTTPStatus
from typing import Any


class KardError(Exception):
    """An error answered as Kard's `{"errors": [...]}` document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        parameter: str | None = None,
        pointer: str | None = None,
        header: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.headers = headers or {}
        source = {
            key: value
            for key, value in (("parameter", parameter), ("pointer", pointer), ("header", header))
            if value is not None
        }
        self.errors = errors or [error_object(status, detail, source=source or None)]

    def document(self) -> dict[str, Any]:
        """Return the error body."""
        return {"errors": self.errors}


def error_object(
    status: int,
    detail: str,
    *,
    source: dict[str, str] | None = None,
    resource_id: str | None = None,
) -> dict[str, Any]:
    """Build one JSON:API error object with the HTTP reason phrase as its title."""
    error: dict[str, Any] = {"status": str(status), "title": reason(status), "detail": detail}
    if source:
        error["source"] = source
    if resource_id is not None:
        error["id"] = resource_id
    return error


def reason(status: int) -> str:
    """Return the HTTP reason phrase for a status code (or a generic one)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def bad_parameter(parameter: str, detail: str) -> KardError:
    """Build a 400 naming the offending query parameter."""
    return KardError(400, detail, parameter=parameter)


def unauthorized(detail: str) -> KardError:
    """Build a 401 pointing at the Authorization header."""
    return KardError(401, detail, header="Authorization")


def item_errors(index: int, item: Any, problems: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The 400s of one item of a batch body, at its pointers, with the item's `id` if it has
    one (a multi-status names the resource each error is about)."""
    item_id = item.get("id") if isinstance(item, dict) else None
    resource_id = item_id if isinstance(item_id, str) else None
    return [
        error_object(
            400, message, source={"pointer": f"/data/{index}{pointer}"}, resource_id=resource_id
        )
        for pointer, message in problems
    ]


def multi_status(
    data: Any, errors: list[dict[str, Any]], *, accepted: bool, status: int
) -> tuple[dict[str, Any], int]:
    """Kard's answer to a batch: `status` when no item failed; 207 with the errors when some
    were accepted; else the items' own errors (409 when each was a conflict, else 400)."""
    if not errors:
        return {"data": data}, status
    if not accepted:
        all_conflicts = all(error["status"] == "409" for error in errors)
        raise KardError(409 if all_conflicts else 400, errors[0]["detail"], errors=errors)
    return {"errors": errors, "data": data}, 207
