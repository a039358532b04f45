"""`KardBFF` itself: where its settings come from, what it refuses at mount, one extension for
several apps (application factories), bearer sessions, pages and the webhook under a prefix, and
the body limit that is its own. The example host app's tests are in tests/test_host_app.py."""

import pytest
from flask import Flask, request

from bff import KardBFF
from bff.current import settings
from bff.settings import load_settings
from bff.workers import stop_workers


@pytest.fixture
def make_host(state_dir, kard_url):
    """`make_host(**options)`: a bare Flask app with kard-bff mounted by `KardBFF(app, ...)`, its
    Kard the simulator on its port, its workers stopped when the test ends."""
    apps = []

    def make(*, extension: KardBFF | None = None, **options) -> Flask:
        app = Flask("host")
        app.config.update(KARD_API_URL=kard_url, BFF_STATE_DIR=str(state_dir))
        (extension or KardBFF()).init_app(app, **options)
        apps.append(app)
        return app

    yield make
    for app in apps:
        stop_workers(app)


def test_config_beats_app_config_which_beats_the_environment(make_host, monkeypatch):
    monkeypatch.setenv("BFF_RATE_LIMIT", "5/minute")
    monkeypatch.setenv("BFF_CLIENT_RATE_LIMIT", "50/minute")
    monkeypatch.setenv("BFF_DEFAULT_THEME", "branding")
    app = Flask("host")
    app.config.update(BFF_RATE_LIMIT="6/minute", BFF_CLIENT_RATE_LIMIT="60/minute", OTHER="x")
    KardBFF(app, config={"BFF_RATE_LIMIT": "7/minute"}, background=False)
    assert settings(app).rate_limit == "7/minute"
    assert settings(app).client_rate_limit == "60/minute"
    assert settings(app).default_theme == "branding"


def test_settings_already_loaded_are_taken_as_they_are():
    app = Flask("host")
    loaded = load_settings({"BFF_RATE_LIMIT": "8/minute"})
    KardBFF(app, config=loaded, background=False)
    assert settings(app) is loaded


@pytest.mark.parametrize("prefix", ["rewards", "/rewards/", "/re wards", "//rewards"])
def test_a_prefix_must_be_path_segments(prefix):
    with pytest.raises(ValueError, match="url_prefix must be"):
        KardBFF(Flask("host"), url_prefix=prefix)


def test_pages_cannot_open_sessions_for_a_hosts_users():
    with pytest.raises(ValueError, match="pages=False"):
        KardBFF(Flask("host"), pages=True, user_loader=lambda: "someone")


def test_host_sessions_need_a_user_loader():
    host_settings = load_settings({}, host_sessions=True)
    with pytest.raises(ValueError, match="need a user_loader"):
        KardBFF(Flask("host"), config=host_settings)


def test_it_mounts_once_per_app():
    app = Flask("host")
    KardBFF(app, background=False)
    with pytest.raises(RuntimeError, match="already mounted"):
        KardBFF(app, background=False)


def test_one_extension_mounts_in_several_apps_each_its_own(make_host):
    extension = KardBFF(background=False, user_loader=lambda: "factory-user")
    first = make_host(extension=extension, url_prefix="/rewards")
    second = make_host(extension=extension, url_prefix="/kard", config={"BFF_RATE_LIMIT": "2/hour"})
    assert settings(first).rate_limit != settings(second).rate_limit
    assert first.test_client().get("/rewards/healthz").status_code == 200
    assert first.test_client().get("/kard/healthz").status_code == 404
    assert second.test_client().get("/kard/healthz").status_code == 200


def test_bearer_sessions_work_under_a_prefix(make_host):
    client = make_host(url_prefix="/rewards").test_client()
    session = client.post("/rewards/dev/session", json={"userId": "prefixed-user"})
    headers = {"Authorization": f"Bearer {session.get_json()['token']}"}
    offers = client.get("/rewards/api/v1/offers?supportedComponents=cta", headers=headers)
    assert offers.status_code == 200
    actions = [
        offer["attributes"]["components"]["cta"]["action"]
        for offer in offers.get_json()["data"]
        if "cta" in offer["attributes"]["components"]
    ]
    assert actions and all(a["url"].startswith("/rewards/api/v1/") for a in actions)
    done = client.open(actions[0]["url"], method=actions[0]["method"], headers=headers)
    assert done.status_code == 201
    # No cookie session: no cross-site header needed, and no 401 without a Bearer challenge.
    refused = client.get("/rewards/api/v1/offers")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_pages_and_the_webhook_only_where_asked(make_host):
    bare = make_host(url_prefix="/rewards").test_client()
    assert bare.get("/rewards/theme-studio").status_code == 404
    assert bare.post("/rewards/webhooks/kard", json={}).status_code == 404
    full = make_host(
        url_prefix="/rewards", pages=True, webhook=True, config={"KARD_WEBHOOK_KEY": "k"}
    )
    studio = full.test_client().get("/rewards/theme-studio")
    assert studio.status_code == 200
    assert b'src="/rewards/static/' in studio.data
    assert b'src="/static/' not in studio.data
    unsigned = full.test_client().post("/rewards/webhooks/kard", json={})
    assert unsigned.status_code == 401  # served: the signature is missing


@pytest.mark.openapi_exempt("/upload")
def test_the_body_limit_under_the_prefix_is_its_own(make_host):
    limited = make_host(url_prefix="/rewards")
    limited.config["MAX_CONTENT_LENGTH"] = 10  # the host's own, for its own routes
    limited.add_url_rule("/upload", "upload", lambda: request.get_data(), methods=["POST"])
    client = limited.test_client()
    assert client.post("/upload", data=b"x" * 11).status_code == 413  # the host's limit
    session = client.post("/rewards/dev/session", json={"userId": "big-body-user"})
    assert session.status_code == 200  # a body over the host's 10 bytes, under kard-bff's 1 MB
    too_large = client.post(
        "/rewards/dev/session", data=b"x" * 1_100_000, content_type="application/json"
    )
    assert too_large.status_code == 413
    assert too_large.get_json()["errors"][0]["status"] == "413"


def test_a_loaders_integer_id_is_its_decimal_text(make_host, simulator):
    client = make_host(url_prefix="/rewards", user_loader=lambda: 4217).test_client()
    session = client.get("/rewards/api/v1/session")
    assert session.get_json()["userId"] == "4217"
    client.get("/rewards/api/v1/rewards")
    assert simulator.calls_to(r"/users/4217/")
