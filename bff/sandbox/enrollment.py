"""Kard's Users: the enrolled users of each organization, and the Users request bodies checked as
the reference (version 2024-10-01) describes them.

Create Users takes 1 to 100 users and answers 201 when every one is new, 409 when none is, and 207
(the new ones in `data`, one error per existing user with its `id`) in between. Update, Delete and
Get answer 404 for a user that is not enrolled. The directory is bounded: past `MAX_USERS` in one
organization, Create refuses the rest with a 400 (a sandbox never needs more; memory stays flat).
"""

import threading
from typing import Any

from bff.sandbox.errors import KardError, error_object
from bff.sandbox.validation import BodyErrors, data_array, non_empty_string

MAX_USERS_PER_REQUEST = 100
MAX_USERS = 100_000
MAX_USER_ID_LENGTH = 256
ENROLLED_REWARDS = ("CARDLINKED",)
# The optional attributes: the JSON type each takes, and its name in an error.
_TEXT = (str, "string")
_OPTIONAL = {key: _TEXT for key in ("zipCode", "email", "hashedEmail", "phoneNumber", "birthYear")}
_CREATE_ONLY = {"historicalTransactionsSent": (bool, "boolean")}  # Update User does not take it


class UserDirectory:
    """Thread-safe enrolled users, per organization: user ID -> the attributes last sent."""

    def __init__(self, enrolled_from_start: dict[str, tuple[str, ...]]) -> None:
        self._lock = threading.Lock()
        self._start = enrolled_from_start
        self._users: dict[str, dict[str, dict[str, Any]]] = {}
        self.clear()

    def create(self, organization_id: str, users: list[dict[str, Any]]) -> tuple[list, list]:
        """Enroll the users not yet enrolled; return (the created resources, the errors)."""
        created: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self._lock:
            enrolled = self._users.setdefault(organization_id, {})
            for user in users:
                user_id = user["id"]
                if user_id in enrolled:
                    errors.append(
                        error_object(409, f"User {user_id} already exists", resource_id=user_id)
                    )
                elif len(enrolled) >= MAX_USERS:
                    detail = f"The sandbox enrolls at most {MAX_USERS} users per organization"
                    errors.append(error_object(400, detail, resource_id=user_id))
                else:
                    enrolled[user_id] = known_attributes(user["attributes"])
                    created.append(resource(user_id, enrolled[user_id]))
        return created, errors

    def update(self, organization_id: str, user_id: str, attributes: dict[str, Any]) -> dict:
        """Replace the sent attributes of an enrolled user; return its resource (404 if none)."""
        with self._lock:
            enrolled = self._enrolled(organization_id, user_id)
            enrolled.update(known_attributes(attributes))
            return resource(user_id, enrolled)

    def delete(self, organization_id: str, user_id: str) -> None:
        """Remove an enrolled user (404 if none); the same ID may be enrolled again."""
        with self._lock:
            self._enrolled(organization_id, user_id)
            del self._users[organization_id][user_id]

    def get(self, organization_id: str, user_id: str) -> dict[str, Any]:
        """Return an enrolled user's resource (404 if none)."""
        with self._lock:
            return resource(user_id, self._enrolled(organization_id, user_id))

    def is_enrolled(self, organization_id: str, user_id: str) -> bool:
        """Return whether the user is enrolled in the organization."""
        with self._lock:
            return user_id in self._users.get(organization_id, {})

    def clear(self) -> None:
        """Forget every user but those enrolled from the start (the guide's personas)."""
        with self._lock:
            self._users = {
                organization_id: {user_id: {"enrolledRewards": ["CARDLINKED"]} for user_id in ids}
                for organization_id, ids in self._start.items()
            }

    def _enrolled(self, organization_id: str, user_id: str) -> dict[str, Any]:
        enrolled = self._users.get(organization_id, {}).get(user_id)
        if enrolled is None:
            raise KardError(404, f"User {user_id} was not found")
        return enrolled


def known_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Keep the attributes the reference defines (others are ignored, not stored)."""
    known = ("enrolledRewards", *_OPTIONAL, *_CREATE_ONLY)
    return {key: attributes[key] for key in known if key in attributes}


def resource(user_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Render a user as Kard's `user` resource."""
    return {"type": "user", "id": user_id, "attributes": dict(attributes)}


def validated_users(body: Any) -> list[dict[str, Any]]:
    """Return the users of a valid Create Users body; raise a 400 listing every problem."""
    data = data_array(body, maximum=MAX_USERS_PER_REQUEST)
    errors = BodyErrors()
    seen: set[str] = set()
    for index, item in enumerate(data):
        pointer = f"/data/{index}"
        attributes = errors.resource(item, pointer, ("user",))
        user_id = item.get("id") if isinstance(item, dict) else None
        if _check_id(errors, user_id, f"{pointer}/id"):
            if user_id in seen:
                errors.add(f"{pointer}/id", f"User {user_id} appears more than once")
            seen.add(user_id)
        if attributes is not None:
            _check_attributes(errors, attributes, f"{pointer}/attributes", create=True)
    errors.raise_any()
    return data


def validated_update(body: Any, user_id: str) -> dict[str, Any]:
    """Return the attributes of a valid Update User body for `user_id`; raise a 400 otherwise."""
    data = body.get("data") if isinstance(body, dict) else None
    errors = BodyErrors()
    attributes = errors.resource(data, "/data", ("user",))
    if isinstance(data, dict) and _check_id(errors, data.get("id"), "/data/id"):
        errors.require(
            data["id"], "/data/id", lambda sent: sent == user_id, f"id must be {user_id}"
        )
    if attributes is not None:
        _check_attributes(errors, attributes, "/data/attributes", create=False)
    errors.raise_any()
    return data["attributes"]


def _check_id(errors: BodyErrors, user_id: Any, pointer: str) -> bool:
    return errors.require(
        user_id,
        pointer,
        lambda value: non_empty_string(value) and len(value) <= MAX_USER_ID_LENGTH,
        f"id must be a non-empty string of at most {MAX_USER_ID_LENGTH} characters",
    )


def _check_attributes(
    errors: BodyErrors, attributes: dict[str, Any], pointer: str, *, create: bool
) -> None:
    errors.require(
        attributes.get("enrolledRewards"),
        f"{pointer}/enrolledRewards",
        lambda rewards: (
            isinstance(rewards, list) and all(reward in ENROLLED_REWARDS for reward in rewards)
        ),
        "enrolledRewards is required: an array of CARDLINKED (or empty)",
    )
    optional = {**_OPTIONAL, **(_CREATE_ONLY if create else {})}
    for key, (kind, name) in optional.items():
        if key in attributes:
            errors.require(
                attributes[key],
                f"{pointer}/{key}",
                lambda v, t=kind: isinstance(v, t),
                f"must be a {name}",
            )
