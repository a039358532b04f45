"""Kard's Users endpoints: Create Users, Update User, Delete User, Get User By ID."""

from flask import Blueprint, Response, request

from bff.sandbox.blueprint import authenticated, json_response, simulator
from bff.sandbox.enrollment import resource, validated_update, validated_users
from bff.sandbox.errors import multi_status

bp = Blueprint("enrollment", __name__)

USERS = "/v2/issuers/<organization_id>/users"


@bp.post(USERS)
@authenticated
def create_users(organization_id: str) -> Response:
    """Create Users: 201 when all are new, 409 when none is, 207 in between."""
    users = validated_users(request.get_json(silent=True))
    created, errors = simulator().directory.create(organization_id, users)
    return json_response(*multi_status(created, errors, accepted=bool(created), status=201))


@bp.put(f"{USERS}/<user_id>")
@authenticated
def update_user(organization_id: str, user_id: str) -> Response:
    """Update User: replace the attributes sent; 404 for a user not enrolled."""
    attributes = validated_update(request.get_json(silent=True), user_id)
    return json_response(
        {"data": simulator().directory.update(organization_id, user_id, attributes)}
    )


@bp.delete(f"{USERS}/<user_id>")
@authenticated
def delete_user(organization_id: str, user_id: str) -> Response:
    """Delete User: unenroll; the same ID may be created again."""
    simulator().directory.delete(organization_id, user_id)
    return json_response({"data": resource(user_id, {})})


@bp.get(f"{USERS}/<user_id>")
@authenticated
def get_user(organization_id: str, user_id: str) -> Response:
    """Get User By ID."""
    return json_response({"data": simulator().directory.get(organization_id, user_id)})
