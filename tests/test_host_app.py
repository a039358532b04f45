"""kard-bff mounted in an issuer's own Flask app: the example host app (examples/host_app), with
its own login (flask-login), its own JSON error shape and its own page, kard-bff at /rewards.

Its Kard is the simulator over real HTTP; the host's sessions are real Flask session cookies."""

import logging
import re

import httpx
import pytest
from flask import Flask

from bff.current import EXTENSION, parts
from bff.workers import stop_workers
from examples.host_app.app import create_app
from tests.openapi_conformance import under
from tests.readme_examples import Shell, parse_blocks
from tests.servers import ROOT, ServerProcess
from tests.test_readme import clean_environment

ADA, GRACE = "1001", "1002"  # the example's users' IDs, their Kard user IDs too
API = "/rewards/api/v1"
MUTATING = "X-Kard-BFF"
EVENT = {
    "type": "offerAttribution",
    "attributes": {
        "entityId": "offer-0001",
        "eventCode": "IMPRESSION",
        "medium": "BROWSE",
        "eventDate": "2026-11-20T10:00:00Z",
    },
}
_USER_IN_PATH = re.compile(r"/users/([^/]+)")


@pytest.fixture
def make_host(state_dir, kard_url):
    """`make_host(rewards=True, **config)`: the example host app, kard-bff's Kard the simulator
    on its port; with `rewards=False`, the same app without kard-bff."""
    apps = []

    def make(*, rewards: bool = True, **config) -> Flask:
        settings = {"KARD_API_URL": kard_url, "BFF_STATE_DIR": str(state_dir)}
        app = create_app({"SECRET_KEY": "s" * 32, **settings, **config}, rewards=rewards)
        apps.append(app)
        return app

    yield make
    for app in apps:
        if EXTENSION in app.extensions:  # built with rewards
            stop_workers(app)


@pytest.fixture
def host(make_host):
    return make_host()


def signed_in(app: Flask, username: str = "ada"):
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": "rewards"})
    assert answer.status_code == 302
    return client


def users_named(simulator) -> set[str]:
    """Every Kard user the simulator's calls named, in their paths or Create Users bodies."""
    named = set()
    for call in simulator.calls:
        named.update(_USER_IN_PATH.findall(call.path))
        if call.method == "POST" and call.path.endswith("/users"):
            named.update(user["id"] for user in call.json["data"])
    return named


def test_a_signed_in_user_has_offers_ctas_attributions_a_webview_and_rewards(host, simulator):
    ada = signed_in(host)
    signed_in(host, "grace")  # another user of the app, signed in elsewhere
    before = len(simulator.calls)  # grace's enrollment is in the log: ada's requests follow

    offers = ada.get(f"{API}/offers?page[size]=5")
    assert offers.status_code == 200
    links = offers.get_json()["links"]
    assert links["next"].startswith(f"{API}/offers?")  # the app's pages follow them as they are
    ctas = [
        offer["attributes"]["components"]["cta"]["action"]
        for offer in offers.get_json()["data"]
        if "cta" in offer["attributes"]["components"]
    ]
    assert ctas and ctas[0]["url"].startswith(f"{API}/")
    cta = ada.open(ctas[0]["url"], method=ctas[0]["method"], headers={MUTATING: "1"})
    assert cta.status_code == 201
    offer_id = offers.get_json()["data"][0]["id"]
    boost = ada.post(f"{API}/offers/{offer_id}/activate", headers={MUTATING: "1"})
    assert boost.status_code == 201

    batch = ada.post(f"{API}/attributions", headers={MUTATING: "1"}, json={"data": [EVENT]})
    assert batch.status_code == 202
    assert batch.get_json()["data"]["accepted"] == 1
    received = [event["attributes"] for event in simulator.attribution_events(ADA)]
    assert {"entityId": "offer-0001", "eventCode": "IMPRESSION"}.items() <= received[-1].items()

    session = ada.post(f"{API}/webview/session", headers={MUTATING: "1"})
    assert session.status_code == 200
    assert "/rewards/sandbox/webview?token=" in session.get_json()["url"]
    rewards = ada.get(f"{API}/rewards")
    assert rewards.status_code == 200
    assert rewards.get_json()["links"]["self"] == f"{API}/rewards"

    ada_calls = simulator.calls[before:]
    assert ada_calls
    assert {user for call in ada_calls for user in _USER_IN_PATH.findall(call.path)} == {ADA}
    assert users_named(simulator) == {ADA, GRACE}  # each enrolled at sign-in, nobody else


def test_each_signed_in_user_is_acted_for_alone(host, simulator):
    ada, grace = signed_in(host), signed_in(host, "grace")
    before = len(simulator.calls)
    assert ada.get(f"{API}/rewards").status_code == 200
    between = len(simulator.calls)
    assert grace.get(f"{API}/rewards").status_code == 200
    named = [set(_USER_IN_PATH.findall(call.path)) for call in simulator.calls]
    assert set().union(*named[before:between]) == {ADA}
    assert set().union(*named[between:]) == {GRACE}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/offers", None),
        ("GET", "/locations", None),
        ("POST", "/offers/some-offer/activate", None),
        ("POST", "/offers/some-offer/boost", None),
        ("POST", "/attributions", {"data": [EVENT]}),
        ("POST", "/webview/session", None),
        ("POST", "/webview/token", None),
        ("GET", "/rewards", None),
        ("POST", "/audits", {"data": []}),
        ("GET", "/session", None),
    ],
)
def test_without_a_session_it_answers_401_in_kard_bff_shape(host, simulator, method, path, body):
    client = host.test_client()
    answer = client.open(f"{API}{path}", method=method, json=body, headers={MUTATING: "1"})
    assert answer.status_code == 401
    assert answer.get_json()["errors"][0]["status"] == "401"
    assert "WWW-Authenticate" not in answer.headers  # the host's login is no Bearer scheme
    assert simulator.calls == []


def test_signed_out_it_answers_401_again(host, simulator):
    ada = signed_in(host)
    assert ada.get(f"{API}/rewards").status_code == 200
    ada.post("/logout")
    assert ada.get(f"{API}/rewards").status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no X-Kard-BFF: a plain form or fetch of another page
        {MUTATING: ""},
        {MUTATING: "1", "Sec-Fetch-Site": "cross-site"},
        {MUTATING: "1", "Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "same-origin"},
    ],
    ids=["no-header", "empty-header", "cross-site", "same-site", "same-origin-no-header"],
)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/offers/some-offer/activate", None),
        ("/attributions", {"data": [EVENT]}),
        ("/webview/session", None),
        ("/audits", {"data": []}),
    ],
)
def test_a_cross_site_request_is_refused_before_anything_goes_upstream(
    host, simulator, path, body, headers
):
    ada = signed_in(host)
    before = simulator.calls
    answer = ada.post(f"{API}{path}", json=body, headers=headers)
    assert answer.status_code == 403
    assert answer.get_json()["errors"][0]["title"] == "Forbidden"
    assert simulator.calls == before
    # Nothing was accepted either: the next batch is the only one Kard gets.
    own_page = {MUTATING: "1", "Sec-Fetch-Site": "same-origin"}
    allowed = ada.post(f"{API}/attributions", json={"data": [EVENT]}, headers=own_page)
    assert allowed.get_json()["data"]["forwarded"] == 1
    assert len(simulator.attribution_events(ADA)) == 1


def test_reading_needs_no_header(host):
    ada = signed_in(host)
    answer = ada.get(f"{API}/rewards", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 200  # a read changes nothing; CORS keeps its answer from a site


def test_cors_stays_off_unless_configured(make_host):
    origin = {"Origin": "https://app.example-bank.com"}
    preflight = {**origin, "Access-Control-Request-Method": "POST"}
    plain = make_host().test_client()
    answer = plain.options(f"{API}/webview/session", headers=preflight)
    assert "Access-Control-Allow-Origin" not in answer.headers
    configured = make_host(BFF_CORS_ORIGINS="https://app.example-bank.com")
    answer = configured.test_client().options(f"{API}/webview/session", headers=preflight)
    assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example-bank.com"
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"  # the session cookie
    assert MUTATING in answer.headers["Access-Control-Allow-Headers"]


def test_a_listed_origin_may_post_across_sites_and_no_other(make_host):
    ada = signed_in(make_host(BFF_CORS_ORIGINS="https://app.example-bank.com"))
    across = {MUTATING: "1", "Sec-Fetch-Site": "same-site"}
    listed = {**across, "Origin": "https://app.example-bank.com"}
    assert ada.post(f"{API}/webview/session", headers=listed).status_code == 200
    unlisted = {**across, "Origin": "https://evil.example-bank.com"}
    assert ada.post(f"{API}/webview/session", headers=unlisted).status_code == 403
    assert ada.post(f"{API}/webview/session", headers=across).status_code == 403


HOST_REQUESTS = [
    ("GET", "/", None),
    ("GET", "/nope", None),
    ("GET", "/boom", None),
    ("GET", "/api/account", None),
    ("POST", "/api/account", None),
    ("GET", "/api/nope", None),
    ("POST", "/login", {"username": "ada", "password": "wrong"}),
    ("GET", "/rewards-and-more", None),
]
SIGNED_IN_REQUESTS = [("GET", "/", None), ("GET", "/api/account", None)]


def _host_answers(app: Flask) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    @app.get("/boom")
    def boom():
        raise RuntimeError("the host's own failure")

    def answers(client, requests):
        got = []
        for method, path, form in requests:
            answer = client.open(path, method=method, data=form)
            headers = [(k, v) for k, v in answer.headers if k != "Set-Cookie"]
            got.append((answer.status_code, headers, answer.get_data()))
        return got

    anonymous = answers(app.test_client(), HOST_REQUESTS)
    return anonymous + answers(signed_in(app), SIGNED_IN_REQUESTS)


def test_the_hosts_own_answers_are_byte_identical_with_and_without_kard_bff(make_host):
    with_rewards = _host_answers(make_host())
    without = _host_answers(make_host(rewards=False))
    assert with_rewards == without
    statuses = [status for status, _, _ in without]
    assert statuses == [200, 404, 500, 401, 405, 404, 401, 404, 200, 200]
    assert b'"error":{"code":500' in without[2][2]  # the host's own 500, not kard-bff's


def test_the_hosts_setup_is_as_it_was(make_host):
    root_logging = (logging.root.level, list(logging.root.handlers))
    with_rewards, without = make_host(), make_host(rewards=False)
    assert (logging.root.level, list(logging.root.handlers)) == root_logging
    assert type(with_rewards.json) is type(without.json)
    assert type(with_rewards.session_interface) is type(without.session_interface)
    assert with_rewards.response_class is without.response_class
    assert with_rewards.config["MAX_CONTENT_LENGTH"] == without.config["MAX_CONTENT_LENGTH"]
    for hooks in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs"):
        assert getattr(with_rewards, hooks).get(None) == getattr(without, hooks).get(None)
    assert with_rewards.error_handler_spec[None] == without.error_handler_spec[None]
    assert (with_rewards.logger.level, with_rewards.logger.handlers) == (
        without.logger.level,
        without.logger.handlers,
    )
    simulator = {"kard_simulator", "kard_simulator.url_prefix"}  # Kard's, in sandbox only
    assert set(with_rewards.extensions) - set(without.extensions) == {"kard_bff", *simulator}
    added = set(with_rewards.blueprints) - set(without.blueprints)
    assert {name.split(".")[0] for name in added} == {"kard_bff", "kard_simulator"}
    host_rules = {rule.rule for rule in without.url_map.iter_rules()}
    mounted_rules = {rule.rule for rule in with_rewards.url_map.iter_rules()} - host_rules
    assert mounted_rules and all(under(rule, "/rewards") for rule in mounted_rules)


def test_kard_bff_keeps_its_own_error_shape_under_its_prefix(host):
    # The host has handlers of its own for 404, 413 and every HTTP error: under /rewards,
    # kard-bff's shape still applies (Flask looks for a code's handler in the app before a
    # class's in the blueprint).
    client = signed_in(host)
    mutating = {MUTATING: "1"}
    too_large = b'{"data": [' + b" " * 2_000_000 + b"]}"
    for answer in (
        client.get(f"{API}/nope"),
        client.get("/rewards"),
        client.get("/rewards/"),
        client.put(f"{API}/rewards", headers=mutating),
        client.post(f"{API}/attributions", headers=mutating, data="{", content_type="x/y"),
        client.post(f"{API}/attributions", headers=mutating, json={"data": "x"}),
        client.post(
            f"{API}/attributions", headers=mutating, data=too_large, content_type="application/json"
        ),
    ):
        assert answer.get_json()["errors"][0]["status"] == str(answer.status_code)
        assert "error" not in answer.get_json()


def test_its_openapi_document_describes_the_host_sessions(host):
    document = host.test_client().get("/rewards/openapi.json").get_json()
    assert document["servers"][0]["url"] == "/rewards"
    assert document["components"]["securitySchemes"]["sessionToken"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": document["components"]["securitySchemes"]["sessionToken"]["description"],
    }
    session = document["paths"]["/api/v1/webview/session"]["post"]
    assert {"name": MUTATING, "in": "header"}.items() <= session["parameters"][-1].items()
    assert session["responses"]["403"] == {"$ref": "#/components/responses/Forbidden"}
    assert "/dev/session" not in document["paths"]  # the host's login names users
    assert "/webhooks/kard" not in document["paths"]  # not mounted
    assert "/theme-studio" not in document["paths"]


def test_the_background_workers_start_with_the_first_rewards_request(host):
    client = host.test_client()
    client.get("/")
    assert not parts(host).get("workers_started")
    client.get(f"{API}/rewards")
    assert parts(host).get("workers_started")


def test_enroll_user_refuses_what_names_no_kard_user(host):
    from examples.host_app.app import kard_bff

    with host.app_context(), pytest.raises(ValueError, match="cannot name a Kard user"):
        kard_bff.enroll_user("..")


def example_server(state_dir, **env: str) -> ServerProcess:
    """`make example`'s command, started: the host app under `flask run`, offline."""
    server = ServerProcess(
        ["--app", "examples.host_app.app", "run"], env={}, module="flask", health_path="/"
    )
    # PORT: its WebView URLs name its port, as `make example` has them.
    ours = {"BFF_STATE_DIR": str(state_dir), "PORT": str(server.port), **env}
    server.start(env={**clean_environment(), **ours})
    return server


def test_make_example_serves_it_and_stops_at_ctrl_c(tmp_path, kard_url):
    server = example_server(tmp_path, KARD_API_URL=kard_url)
    try:
        with httpx.Client(base_url=server.url) as browser:
            browser.post("/login", data={"username": "ada", "password": "rewards"})
            assert browser.get(f"{API}/rewards").status_code == 200
            session = browser.post(f"{API}/webview/session", headers={MUTATING: "1"})
            assert session.json()["url"].startswith(f"{server.url}/rewards/sandbox/webview?")
    finally:
        status = server.interrupt(timeout=15)
    assert status == 0, server.output  # its workers stopped with it
    assert "Traceback" not in server.output


README_BLOCKS = [
    block
    for block in parse_blocks((ROOT / "README.md").read_text())
    if block.id.startswith("embedding-in-your-flask-app")
    and "tests/test_host_app.py runs it)" in (block.not_run or "")
]


def test_the_readmes_embedding_examples_run_against_make_example(tmp_path):
    assert README_BLOCKS, "README.md's 'Embedding in your Flask app' has no block to run"
    server = example_server(tmp_path / "state")  # its Kard: the simulator it mounts
    try:
        shell = Shell(
            env=clean_environment(), cwd=tmp_path, state=tmp_path / "vars", port=server.port
        )
        for block in README_BLOCKS:
            shell.check(block)
    finally:
        server.stop()
