"""The simulator's own S3 stand-in: PUT a file to a presigned upload URL, GET a results file.

Like S3 it takes no bearer token (the URL's signature is the credential), answers errors in
XML, and refuses a PUT without a Content-Length. Bodies stream to disk in chunks.
"""

import hashlib
import tempfile
from pathlib import Path

from flask import Blueprint, Flask, Response, request, send_file
from werkzeug.exceptions import ClientDisconnected

from bff.sandbox.blueprint import NAME, host_webhook, mount_prefix, root_url, simulator
from bff.sandbox.simulator import FILES_BUCKET
from bff.sandbox.uploads.bulk import RESULTS_BUCKET, UPLOADS_BUCKET, ReceivedFile
from bff.sandbox.uploads.presigned import PATH_PREFIX, S3Error

bp = Blueprint("s3", __name__)

MAX_OBJECT_BYTES = 5 * 1024**3  # a single PUT takes at most 5 GB
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_CONTENT_TYPES = {True: "application/gzip", False: "application/octet-stream"}


def upload_path_prefix(app: Flask) -> str | None:
    """Where uploads are PUT to the simulator mounted in `app` (bodies up to MAX_OBJECT_BYTES),
    or None when none is mounted."""
    if NAME not in app.blueprints:
        return None
    with app.app_context():
        return f"{mount_prefix()}{PATH_PREFIX}{UPLOADS_BUCKET}/"


@bp.errorhandler(S3Error)
def _s3_error(error: S3Error) -> Response:
    return Response(error.xml(), status=error.status, mimetype="application/xml")


@bp.put(f"{PATH_PREFIX}{UPLOADS_BUCKET}/<upload_id>/<path:filename>")
def put_upload(upload_id: str, filename: str) -> Response:
    """Store a transaction file PUT to its presigned URL and queue it for processing."""
    sim = simulator()
    sim.upload_urls.check("PUT", f"{upload_id}/{filename}", request.args)
    session = sim.uploads.session(upload_id)
    if session is None or session.filename != filename:
        raise S3Error(404, "NoSuchUpload", "The specified upload does not exist.")
    size = request.content_length
    if size is None:
        raise S3Error(
            411, "MissingContentLength", "You must provide the Content-Length HTTP header."
        )
    if size > MAX_OBJECT_BYTES:
        details = {"ProposedSize": str(size), "MaxSizeAllowed": str(MAX_OBJECT_BYTES)}
        raise S3Error(
            400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", details
        )
    received_at = sim.now()
    body, etag = _save_body(sim.workdir, size)
    sim.uploads.receive(
        ReceivedFile(session, body, size, received_at, root_url(), fallback=host_webhook())
    )
    response = Response(status=201, headers={"ETag": f'"{etag}"'})
    del response.headers["Content-Type"]  # S3 sends none with its empty body
    return response


@bp.get(f"{PATH_PREFIX}{RESULTS_BUCKET}/<file_id>/results.json")
def get_results(file_id: str) -> Response:
    """Serve the results document of a processed file to its presigned URL."""
    sim = simulator()
    sim.results_urls.check("GET", f"{file_id}/results.json", request.args)
    path = sim.results_path(file_id)
    if not path.is_file():
        raise S3Error(404, "NoSuchKey", "The specified key does not exist.")
    return send_file(path, mimetype="application/json", conditional=False, max_age=0)


@bp.get(f"{PATH_PREFIX}{FILES_BUCKET}/<organization_id>/<file_id>/<name>")
def get_reconciliation_file(organization_id: str, file_id: str, name: str) -> Response:
    """Serve a reconciliation file (Get Files) to its presigned URL."""
    sim = simulator()
    sim.files_urls.check("GET", f"{organization_id}/{file_id}/{name}", request.args)
    for file in sim.reconciliation_files(organization_id):
        if file.id == file_id and file.name == name:
            return Response(file.body(), mimetype="text/csv")
    raise S3Error(404, "NoSuchKey", "The specified key does not exist.")


def _save_body(workdir: Path, size: int) -> tuple[Path, str]:
    """Stream the request body to a new file; return it and its MD5 (S3's ETag).

    400 when the Content-Type does not say what the body is (gzip or plain), or when the body
    is shorter than its Content-Length.
    """
    request.max_content_length = MAX_OBJECT_BYTES  # the host app's own limit is for JSON
    stream = request.stream
    digest = hashlib.md5(usedforsecurity=False)
    with tempfile.NamedTemporaryFile(dir=workdir, suffix=".upload", delete=False) as out:
        path = Path(out.name)
        try:
            head = b""  # enough of the body to tell gzip from plain
            while len(head) < min(2, size) and (more := stream.read(min(2, size) - len(head))):
                head += more
            _check_content_type(head)
            out.write(head)
            digest.update(head)
            received = len(head)
            while chunk := stream.read(min(_CHUNK, size - received)):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
            if received < size:
                raise ClientDisconnected()
        except ClientDisconnected:
            path.unlink()
            raise S3Error(
                400,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length header",
            ) from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return path, digest.hexdigest()


def _check_content_type(start: bytes) -> None:
    """400 unless the Content-Type is application/gzip for gzip data, else octet-stream."""
    expected = _CONTENT_TYPES[start.startswith(_GZIP_MAGIC)]
    if request.mimetype != expected:
        raise S3Error(
            400,
            "InvalidArgument",
            f"Content-Type must be {expected} for this body",
            {"ArgumentName": "Content-Type", "ArgumentValue": request.content_type or ""},
        )
