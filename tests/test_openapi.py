"""`GET /openapi.json`: valid OpenAPI 3.1, in sandbox and outside it; every route of the app in
it and every operation of it served; and the conformance check (tests/openapi_conformance.py)
that every test-client answer gets really fails a test on an answer off the document."""

import pytest
from flask import Flask
from openapi_spec_validator import OpenAPIV31SpecValidator

from bff import KardBFF
from bff.current import url_prefix
from bff.mount import UNROUTED
from tests.openapi_conformance import SIMULATOR_PREFIX, erased, rule_paths, under

IGNORED_METHODS = {"HEAD", "OPTIONS"}  # Flask's own for every route, not in the document
OPERATION_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


# How a host app mounts kard-bff at /rewards: with its own sessions (no pages, no webhook), or with
# bearer sessions, its pages and the webhook.
MOUNTS = {
    "mounted with a host's sessions": {"user_loader": lambda: "host-user"},
    "mounted with its pages and webhook": {"pages": True, "webhook": True},
}


@pytest.fixture(params=["sandbox", "outside the sandbox", *MOUNTS])
def configured_app(request, make_app, state_dir):
    """A BFF in the sandbox, one outside it (the sandbox's own operations are only in one), and
    kard-bff mounted in a host app (what it serves there depends on how)."""
    if request.param == "sandbox":
        return make_app()
    if request.param in MOUNTS:
        host = Flask("host")
        host.config["BFF_STATE_DIR"] = str(state_dir)
        KardBFF(host, url_prefix="/rewards", background=False, **MOUNTS[request.param])
        return host
    return make_app(**request.getfixturevalue("outside_sandbox"))


def _document(app) -> dict:
    response = app.test_client().get(f"{url_prefix(app)}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(configured_app):
    document = _document(configured_app)
    assert document["openapi"].startswith("3.1.")
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '/'}: {error.message}"
        for error in OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert errors == []


def test_sandbox_operations_are_described_only_in_the_sandbox(make_app, outside_sandbox):
    sandbox_paths = {"/dev/session", "/sandbox/webview"}
    assert sandbox_paths <= set(_document(make_app())["paths"])
    assert sandbox_paths.isdisjoint(_document(make_app(**outside_sandbox))["paths"])


def test_every_route_is_described_and_every_operation_is_served(configured_app):
    prefix = url_prefix(configured_app)  # the document's paths are under it
    simulator = prefix + SIMULATOR_PREFIX
    served = {
        (path, method): rule.rule
        for rule in configured_app.url_map.iter_rules()
        if under(rule.rule, prefix)
        and not under(rule.rule, simulator)
        and rule.endpoint != UNROUTED  # kard-bff's answer to what it does not serve
        for path in rule_paths(rule.rule.removeprefix(prefix))
        for method in rule.methods - IGNORED_METHODS
    }
    described = {
        (erased(path), method.upper()): path
        for path, item in _document(configured_app)["paths"].items()
        for method in item.keys() & OPERATION_METHODS
    }
    not_described = sorted(f"{key[1]} {served[key]}" for key in served.keys() - described.keys())
    not_served = sorted(f"{key[1]} {described[key]}" for key in described.keys() - served.keys())
    mismatches = {"routes not described": not_described, "operations not served": not_served}
    assert mismatches == {"routes not described": [], "operations not served": []}


@pytest.mark.parametrize(
    ("rule", "paths"),
    [
        ("/healthz", ["/healthz"]),
        ("/api/v1/themes/<name>", ["/api/v1/themes/{}"]),
        (
            "/api/v1/offers/<offer_id>/<any(activate, boost):action>",
            ["/api/v1/offers/{}/activate", "/api/v1/offers/{}/boost"],
        ),
        ("/api/v1/<path:rest>", ["/api/v1/{}"]),
    ],
)
def test_a_flask_rule_stands_for_document_paths(rule, paths):
    assert rule_paths(rule) == paths


def test_a_routed_match_stands_for_the_path_of_its_alternative():
    rule = "/api/v1/offers/<offer_id>/<any(activate, boost):action>"
    assert rule_paths(rule, {"offer_id": "o1", "action": "boost"}) == ["/api/v1/offers/{}/boost"]


def _endpoint(app, path: str, method: str = "GET") -> str:
    endpoint, _ = app.url_map.bind("localhost").match(path, method=method)
    return endpoint


@pytest.mark.parametrize(
    ("path", "answer", "mismatch"),
    [
        ("/healthz", ({"status": "ok"}, 418), "ResponseNotFound"),  # a status not described
        ("/api/v1/themes/dark", ({"name": "dark"}, 200), "'json' is a required property"),
    ],
)
def test_an_answer_off_the_document_fails_the_test(app, monkeypatch, path, answer, mismatch):
    monkeypatch.setitem(app.view_functions, _endpoint(app, path), lambda **values: answer)
    with pytest.raises(AssertionError, match=f"GET {path} -> {answer[1]} ") as failure:
        app.test_client().get(path)
    assert mismatch in str(failure.value)


def test_a_call_to_action_of_several_segments_is_checked_against_its_operation(app, monkeypatch):
    endpoint = _endpoint(app, "/api/v1/a/b/c", "POST")
    monkeypatch.setitem(app.view_functions, endpoint, lambda rest: ({"rest": rest}, 418))
    with pytest.raises(AssertionError, match=r"POST /api/v1/a/b/c -> 418 .*\(POST /api/v1/\{"):
        app.test_client().post("/api/v1/a/b/c")


def test_an_unrouted_answer_off_the_error_shape_fails_the_test(make_app):
    app = make_app()
    app.view_functions[UNROUTED] = lambda unknown: ({"message": "not found"}, 404)
    with pytest.raises(AssertionError, match=r"GET /nowhere -> 404 .*the error shape"):
        app.test_client().get("/nowhere")


def test_answers_of_the_simulator_and_to_head_and_options_are_not_checked(client):
    assert client.get(f"{SIMULATOR_PREFIX}/_sandbox/calls").get_json() == {"data": []}
    assert client.head("/healthz").status_code == 200
    assert client.options("/healthz").status_code == 200
