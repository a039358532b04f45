"""The simulator's blueprint, built once per mount: call logging, fault injection, Kard-shaped
errors, 404/405 for what no route serves; and what its views use (the simulator, the mount, query
args, JSON answers, bearer auth)."""

import functools
import json
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask.sansio.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException

from bff.routing import ROUTABLE_METHODS, methods_routed_elsewhere
from bff.sandbox.calls import Call
from bff.sandbox.catalog import Catalog
from bff.sandbox.documents.resources import Viewer
from bff.sandbox.errors import KardError, error_object
from bff.sandbox.faults import Fault
from bff.sandbox.params import QueryArgs
from bff.sandbox.simulator import Simulator
from bff.sandbox.uploads.presigned import PATH_PREFIX as STORAGE_PREFIX
from bff.sandbox.uploads.webhooks import Target

NAME = "kard_simulator"  # the blueprint's, and the simulator's key in app.extensions
_PREFIX_EXTENSION = "kard_simulator.url_prefix"
CONTROL_PREFIX = "/_sandbox/"

# A catalog query's answer for one viewing user: Get Offers or Get Locations By User.
CatalogDocument = Callable[[Catalog, Viewer, QueryArgs], dict[str, Any]]


def create_blueprint() -> Blueprint:
    """Build the blueprint the simulator's routes are registered on, for one mount."""
    bp = Blueprint(NAME, __name__)
    bp.record(_remember_prefix)
    bp.before_request(_log_and_inject)
    bp.after_request(_record_status)
    bp.register_error_handler(KardError, _kard_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected)
    bp.add_url_rule("/", defaults={"unknown": ""}, view_func=_unrouted, methods=ROUTABLE_METHODS)
    bp.add_url_rule("/<path:unknown>", view_func=_unrouted, methods=ROUTABLE_METHODS)
    return bp


def _remember_prefix(state: BlueprintSetupState) -> None:
    # Paths are logged and matched relative to the simulator root, wherever it is mounted.
    state.app.extensions[_PREFIX_EXTENSION] = (state.url_prefix or "").rstrip("/")


def simulator() -> Simulator:
    """Return the simulator of the current app."""
    return current_app.extensions[NAME]


def mount_prefix() -> str:
    """Return the path the simulator is mounted under ("" at the root of its own app)."""
    return current_app.extensions.get(_PREFIX_EXTENSION, "")


def relative_path() -> str:
    """Return the request path relative to the simulator root."""
    return request.path.removeprefix(mount_prefix()) or "/"


def root_url() -> str:
    """Return the absolute URL of the simulator root, as the client reached it."""
    return request.url_root.rstrip("/") + mount_prefix()


def host_webhook() -> Target | None:
    """The host app's own webhook endpoint, reached in process, where notifications go when no
    subscription names a URL: only when the simulator is mounted in a host app that takes them
    (`Simulator.host_webhook`)."""
    path = simulator().host_webhook
    if not mount_prefix() or path is None:
        return None
    return Target.in_process(request.url_root + path, current_app._get_current_object())


def query_args() -> QueryArgs:
    """Return the request's query parameters, in order."""
    return QueryArgs.parse(request.query_string.decode("utf-8", "replace"))


def json_response(
    document: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialise a document without relying on the host app's JSON provider."""
    return Response(
        json.dumps(document), status=status, headers=headers, mimetype="application/json"
    )


def authenticated(
    view: Callable[..., Response] | None = None, *, other_organization: int = 401
) -> Any:
    """Require a valid issuer bearer token, for the organization in the path, before running the
    view: `@authenticated`, or `@authenticated(other_organization=403)` where Kard's reference
    lists a 403 for a token of another organization."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Response:
            token = simulator().tokens.check(request.headers.get("Authorization"))
            if kwargs["organization_id"] != token.organization_id:
                raise KardError(
                    other_organization,
                    f"This access token cannot act for issuer {kwargs['organization_id']}",
                )
            return view(**kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def enrolled(status: int) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Answer `status` for a user the organization has not enrolled (Create Users): 404 where
    Kard's reference lists it, else 400."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Response:
            organization_id, user_id = kwargs["organization_id"], kwargs["user_id"]
            if not simulator().directory.is_enrolled(organization_id, user_id):
                raise KardError(status, f"User {user_id} is not enrolled")
            return view(**kwargs)

        return wrapper

    return decorate


def catalog_response(
    document: CatalogDocument, organization_id: str, user_id: str, args: QueryArgs
) -> Response:
    """Answer a catalog query as the user sees it, with the components `args` asks for."""
    sim = simulator()
    viewer = sim.viewer(organization_id, user_id, args.components())
    return json_response(document(sim.catalog, viewer, args))


def _log_and_inject() -> Response | None:
    path = relative_path()
    if path.startswith(CONTROL_PREFIX):
        return None
    sim = simulator()
    call = Call(
        method=request.method,
        path=path,
        query=query_args().pairs,
        # File bodies (up to 5 GB) are streamed by their view, never read here.
        json=None if path.startswith(STORAGE_PREFIX) else request.get_json(silent=True),
        headers=dict(request.headers),
    )
    sim.record_call(call)
    g.kard_simulator_call = call
    fault = sim.faults.take(request.method, path)
    return _apply(fault) if fault else None


def _apply(fault: Fault) -> Response | None:
    """Sleep for the fault's delay, then answer its status (or let the real view answer)."""
    if fault.delay:
        time.sleep(fault.delay)
    if fault.status is None:
        return None
    body = fault.body
    if body is None:
        body = {"errors": [error_object(fault.status, "Injected fault")]}
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    return json_response(body, fault.status, headers)


def _record_status(response: Response) -> Response:
    call: Call | None = g.pop("kard_simulator_call", None)
    if call is not None:
        call.status = response.status_code
    return response


def _kard_error(error: KardError) -> Response:
    return json_response(error.document(), error.status, error.headers)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return json_response({"errors": [error_object(status, error.description or "")]}, status)


def _unexpected(error: Exception) -> Response:
    current_app.logger.exception("Kard simulator failed", exc_info=error)
    return json_response({"errors": [error_object(500, "Internal simulator error")]}, 500)


def _unrouted(unknown: str) -> Response:
    """Answer unknown paths with 404 and known paths with the wrong method with 405."""
    allowed = methods_routed_elsewhere()
    if allowed:
        raise KardError(
            405,
            f"{request.method} is not allowed here",
            headers={"Allow": ", ".join(allowed)},
        )
    raise KardError(404, f"No such resource: {relative_path()}")
