"""Every answer a Flask test client of a BFF app gets, checked against that app's OpenAPI document.

tests/conftest.py makes `ConformingClient` every Flask app's test client class. For an app built
by `bff.create_app`, each answer is checked with openapi-core against the app's own document (the
one `GET /openapi.json` serves), and one that does not match fails the test with an
AssertionError naming the request, the status and every mismatch:

- The operation is the one of the Flask rule that routed the request, found by Werkzeug as the
  app found it, so a more specific rule wins over `/api/v1/<path:rest>` as it does in the app,
  and the paths that span several segments (`/api/v1/{ctaPath}`, `/static/{asset}`), which an
  OpenAPI path template cannot say, find their operation. openapi-core is told that operation's
  path (its `path_pattern`) and checks the answer: a documented status, a body of its schema,
  its required headers.
- A request no rule routes (a 404 for an unknown path, a 405) has no operation: its answer must
  still be in the one error shape, `#/components/schemas/Errors`.
- Only answers are checked: tests send bad requests on purpose, and the request serves only to
  find the operation.
- kard-bff mounted under a prefix (`/rewards`) in a host app: its document's server is that
  prefix, its paths are those under it, and the host's own answers, outside it, are not checked.
- Not checked: Kard's simulator (under `/sandbox/kard`: Kard's API, not ours), answers to HEAD and
  OPTIONS (Flask's own for every route, not in the document), and the paths a test names with
  `@pytest.mark.openapi_exempt("/path", ...)`: routes it added to an app itself.

An openapi-core `OpenAPI` is built once per distinct document (a sandbox one, one outside the
sandbox, ...), not once per app.
"""

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from flask import Flask
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.deserializing.media_types.util import plain_loads
from openapi_core.validation.response.exceptions import DataValidationError
from openapi_schema_validator import OAS31Validator
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import parse_converter_args
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request

from bff.current import EXTENSION, mount, settings, url_prefix
from bff.mount import UNROUTED
from bff.openapi import build_document
from bff.settings import Settings

SIMULATOR_PREFIX = "/sandbox/kard"
ERRORS_SCHEMA = "#/components/schemas/Errors"
UNCHECKED_METHODS = frozenset({"HEAD", "OPTIONS"})
# openapi-core reads the media types it does not know as bytes, which no `type: string` takes.
TEXT = {media_type: plain_loads for media_type in ("text/css", "text/javascript")}

# How many answers were checked, and how many passed by, in this run (the terminal summary's).
TALLY: Counter[str] = Counter()

_VARIABLE = re.compile(r"<(?:([^<>:]+):)?([^<>:]+)>")  # `<name>`, `<any(activate, boost):action>`
_PARAMETER = re.compile(r"\{[^{}]*\}")


def rule_paths(rule: str, values: Mapping[str, Any] | None = None) -> list[str]:
    """The document paths, parameter names erased (`{}`), that a Flask rule stands for: one per
    alternative of each `any(...)` converter, or only those `values` (a match's) chose."""
    pieces: list[list[str]] = []
    end = 0
    for variable in _VARIABLE.finditer(rule):
        converter, name = variable.groups()
        pieces.append([rule[end : variable.start()]])
        if converter and converter.startswith("any("):
            alternatives, _ = parse_converter_args(converter.removeprefix("any(")[:-1])
            pieces.append([values[name]] if values else list(alternatives))
        else:
            pieces.append(["{}"])
        end = variable.end()
    pieces.append([rule[end:]])
    return ["".join(parts) for parts in itertools.product(*pieces)]


def erased(path: str) -> str:
    """A document path with its parameters' names erased: `/offers/{offerId}` is `/offers/{}`."""
    return _PARAMETER.sub("{}", path)


@dataclass(frozen=True)
class Description:
    """One OpenAPI document, ready to check answers against."""

    openapi: OpenAPI
    paths: dict[str, str]  # erased -> as the document writes it
    errors: OAS31Validator  # the error shape

    @classmethod
    def of(cls, document: dict[str, Any]) -> "Description":
        """Read `document` (openapi-core checks that it is valid OpenAPI first)."""
        schemas = document.get("components", {}).get("schemas", {})
        assert "Errors" in schemas, f"the OpenAPI document has no {ERRORS_SCHEMA}"
        return cls(
            openapi=OpenAPI.from_dict(document, config=Config(extra_media_type_deserializers=TEXT)),
            paths={erased(path): path for path in document["paths"]},
            errors=OAS31Validator({"$ref": ERRORS_SCHEMA, "components": document["components"]}),
        )


DOCUMENTS: dict[bytes, Description] = {}  # by the document's JSON: one per distinct document
_BY_APP: WeakKeyDictionary[Flask, Description] = WeakKeyDictionary()


def description(app: Flask) -> Description:
    """The description of `app`'s own document, as `/openapi.json` serves it."""
    if app not in _BY_APP:
        document = _kept(app).get("openapi") or build_document(settings(app), mount(app))
        key = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        if key not in DOCUMENTS:
            DOCUMENTS[key] = Description.of(document)
        _BY_APP[app] = DOCUMENTS[key]
    return _BY_APP[app]


def _kept(app: Flask) -> dict:
    """What kard-bff keeps with `app`; nothing for an app that is no BFF."""
    return app.extensions.get(EXTENSION, {})


def check(app: Flask, response: TestResponse, exempt: frozenset[str] = frozenset()) -> None:
    """Fail with an AssertionError if `response`, an answer of `app`, is not what `app`'s
    document says (see the module's docstring for what passes by unchecked)."""
    if not isinstance(_kept(app).get("settings"), Settings):
        return  # not a BFF: a test's own Flask app, or the standalone simulator
    request = response.request
    unchecked = _unchecked(app, request, exempt)
    if unchecked:
        TALLY[unchecked] += 1
        return
    described, prefix = description(app), url_prefix(app)
    try:
        rule, values = app.create_url_adapter(request).match(
            method=request.method, return_rule=True
        )
        if rule.endpoint == UNROUTED:  # kard-bff's answer to a path no route of it serves
            raise NotFound()
    except HTTPException:  # NotFound, MethodNotAllowed, or a redirect the BFF refuses
        TALLY["error shape"] += 1
        operation = "no operation: the error shape"
        problems = _error_shape_problems(described, response)
    else:
        TALLY["operation"] += 1
        operation, problems = _operation_problems(
            described, request, response, rule.rule.removeprefix(prefix), values, prefix
        )
    if problems:
        listed = "".join(f"\n  - {problem}" for problem in problems)
        raise AssertionError(
            f"{request.method} {request.path} -> {response.status_code} does not match the"
            f" OpenAPI document ({operation}):{listed}"
        )


class ConformingClient(FlaskClient):
    """A Flask test client whose every answer is `check`ed (redirects followed, too)."""

    exempt: frozenset[str] = frozenset()  # paths not checked: routes a test added itself

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        """Send the request, and check each answer it got."""
        response = super().open(*args, **kwargs)
        for answer in (*response.history, response):
            check(self.application, answer, self.exempt)
        return response


def client_class(exempt: Iterable[str] = ()) -> type[ConformingClient]:
    """A `ConformingClient` class that leaves the answers for the paths in `exempt` unchecked."""
    return type("ConformingClient", (ConformingClient,), {"exempt": frozenset(exempt)})


class _RoutedRequest(WerkzeugOpenAPIRequest):
    """A request as openapi-core reads it, with the path of the operation that answered it, and
    no body: the app read it already, and only the answer is checked."""

    def __init__(self, request: Request, path_pattern: str):
        super().__init__(request)
        self.path_pattern = path_pattern

    @property
    def body(self) -> None:
        """No body."""
        return None


class _BufferedResponse(WerkzeugOpenAPIResponse):
    """An answer as openapi-core reads it, its body read through Werkzeug, so that a streamed
    body (a page's file) is still closed when the test closes the answer."""

    @property
    def data(self) -> bytes:
        """The body."""
        return self.response.get_data()


def _unchecked(app: Flask, request: Request, exempt: frozenset[str]) -> str | None:
    path, prefix = request.path, url_prefix(app)
    if prefix and not under(path, prefix):
        return "host"
    if settings(app).sandbox and under(path, f"{prefix}{SIMULATOR_PREFIX}"):
        return "simulator"
    if path in exempt:
        return "exempt"
    return request.method if request.method in UNCHECKED_METHODS else None


def under(path: str, prefix: str) -> bool:
    """Whether `path` is `prefix` or below it ("" is the root: every path is below it)."""
    return path == prefix or path.startswith(f"{prefix}/")


def _operation_problems(
    described: Description,
    request: Request,
    response: TestResponse,
    rule: str,
    values: Mapping[str, Any],
    prefix: str,
) -> tuple[str, list[str]]:
    """`rule` is the Flask rule without the prefix, as the document's paths are."""
    (routed,) = rule_paths(rule, values)
    path = described.paths.get(routed)
    if path is None:
        return f"Flask rule {rule}", [f"the document has no path for the Flask rule {rule}"]
    errors = described.openapi.iter_apicall_response_errors(
        _RoutedRequest(request, prefix + path), _BufferedResponse(response)
    )
    return f"{request.method} {path}", [line for error in errors for line in _explained(error)]


def _error_shape_problems(described: Description, response: TestResponse) -> list[str]:
    if response.mimetype != "application/json":
        return [f"body: an error is JSON, not {response.mimetype or 'nothing'}"]
    try:
        body = orjson.loads(response.get_data())
    except orjson.JSONDecodeError as exc:
        return [f"body: not JSON ({exc})"]
    return [_schema_problem("body", error) for error in described.errors.iter_errors(body)]


def _explained(error: Exception) -> list[str]:
    schema_errors = list(getattr(error.__cause__, "schema_errors", ()))
    if not schema_errors:
        return [f"{type(error).__name__}: {_shortened(str(error))}"]
    what = "body" if isinstance(error, DataValidationError) else f"header {error.name}"
    return [_schema_problem(what, schema_error) for schema_error in schema_errors]


def _schema_problem(what: str, error: Any) -> str:
    pointer = "".join(f"/{part}" for part in error.absolute_path)
    return f"{what} at {pointer or '/'}: {_shortened(error.message)}"


def _shortened(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
