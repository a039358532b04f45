"""Kard's Get Files: the metadata of the reconciliation files the simulator writes from its own
ledger, each with a presigned download URL on the simulator's S3 stand-in."""

from flask import Blueprint, Response

from bff.sandbox.blueprint import authenticated, json_response, query_args, root_url, simulator
from bff.sandbox.documents.files import files_document
from bff.sandbox.lifecycle.files import ReconciliationFile

bp = Blueprint("files", __name__)


@bp.get("/v2/issuers/<organization_id>/files/metadata")
@authenticated(other_organization=403)
def get_files(organization_id: str) -> Response:
    """Get Files: the organization's reconciliation files, newest first."""
    sim = simulator()
    root = root_url()

    def download_url(file: ReconciliationFile) -> str:
        return sim.files_urls.url(root, "GET", f"{organization_id}/{file.id}/{file.name}")

    files = sim.reconciliation_files(organization_id)
    return json_response(
        files_document(files, organization_id, query_args(), sim.now(), download_url)
    )
