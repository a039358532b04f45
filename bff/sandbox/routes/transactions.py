"""The simulated transaction upload endpoints: bulk upload URLs, and the deprecated per-user
upload sessions."""

from flask import Blueprint, Response, request

from bff.sandbox.blueprint import authenticated, json_response, root_url, simulator
from bff.sandbox.uploads.bulk import validated_file_requests
from bff.sandbox.uploads.legacy import (
    START,
    part_response,
    validated_complete,
    validated_start,
)

bp = Blueprint("transactions", __name__)

UPLOADS = "/v2/issuers/<organization_id>/users/<user_id>/uploads"


@bp.post("/v2/issuers/<organization_id>/transactions/uploads")
@authenticated(other_organization=403)
def create_upload_urls(organization_id: str) -> Response:
    """Create Bulk Transactions Upload URL: one presigned PUT URL per requested file."""
    requested = validated_file_requests(request.get_json(silent=True))
    sim = simulator()
    data = []
    for file_type, filename in requested:
        session = sim.uploads.open_session(organization_id, file_type, filename, sim.clock())
        url = sim.upload_urls.url(root_url(), "PUT", f"{session.id}/{filename}")
        attributes = {"url": url, "expiresIn": sim.upload_urls.ttl}
        data.append({"type": file_type, "id": session.id, "attributes": attributes})
    return json_response({"data": data}, 201)


@bp.post(UPLOADS)
@authenticated
def create_upload(organization_id: str, user_id: str) -> Response:
    """Create Upload (deprecated): open a per-user upload session."""
    validated_start(request.get_json(silent=True))
    upload = simulator().legacy_uploads.create(organization_id, user_id)
    return json_response({"data": {"type": START, "attributes": {}, "id": upload.id}})


@bp.put(f"{UPLOADS}/<upload_id>/parts")
@authenticated
def add_upload_part(organization_id: str, user_id: str, upload_id: str) -> Response:
    """Add Upload Part (deprecated): store up to 500 historical transactions of the session."""
    sim = simulator()
    upload = sim.legacy_uploads.open(organization_id, user_id, upload_id)
    document, status = part_response(
        request.get_json(silent=True), upload, sim.now(), sim.history.add
    )
    return json_response(document, status)


@bp.put(f"{UPLOADS}/<upload_id>")
@authenticated
def update_upload(organization_id: str, user_id: str, upload_id: str) -> Response:
    """Update Upload (deprecated): mark the session complete."""
    uploads = simulator().legacy_uploads
    upload = uploads.open(organization_id, user_id, upload_id)
    data = validated_complete(request.get_json(silent=True))
    uploads.complete(upload)
    return json_response({"data": {key: data[key] for key in ("type", "attributes", "id")}})
