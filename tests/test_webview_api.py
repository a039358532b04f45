"""WebView tokens and session URLs against the simulator, and the commands that print them."""

import json
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bench.harness import free_port
from bff.cli import main
from bff.kard import KardClient
from bff.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, ConfigError
from bff.themes import codec
from bff.webview import RENEW_MARGIN, WebViewTokens
from tests.servers import ServerProcess, kard_bff

TOKEN_PATH = r"^/v2/auth/issuers/[^/]+/users/[^/]+/token$"
WEBVIEW = "https://webview-test-us-east-1.getkard.com/"


@pytest.fixture
def app(make_app, kard_url):
    return make_app(KARD_API_URL=kard_url, KARD_WEBVIEW_URL=WEBVIEW)


def test_token_is_reused_per_user_and_never_shared(client, as_user, simulator):
    a, b = as_user("user-a"), as_user("user-b")
    first = client.post("/api/v1/webview/token", headers=a).get_json()
    second = client.post("/api/v1/webview/token", headers=a).get_json()
    assert first["token"] == second["token"]
    assert len(simulator.calls_to(TOKEN_PATH)) == 1

    other = client.post("/api/v1/webview/token", headers=b).get_json()
    assert other["token"] != first["token"]
    assert len(simulator.calls_to(TOKEN_PATH)) == 2
    assert simulator.verify_webview_token(first["token"])["sub"] == "user-a"
    assert simulator.verify_webview_token(other["token"])["sub"] == "user-b"
    assert simulator.verify_webview_token(other["token"])["issuer_id"] == "org-sandbox"
    assert first["tokenType"] == "Bearer"
    assert 3500 < first["expiresIn"] <= 3600
    assert first["expiresAt"].endswith("Z")


def test_the_token_lifetime_is_counted_on_the_apps_clock(make_app, kard_url, clock, as_user):
    client = make_app(KARD_API_URL=kard_url, clock=clock).test_client()
    headers = as_user("user-a", client)
    first = client.post("/api/v1/webview/token", headers=headers).get_json()
    assert first["expiresIn"] == 3600
    clock.advance(600)
    later = client.post("/api/v1/webview/token", headers=headers).get_json()
    assert (later["token"], later["expiresIn"]) == (first["token"], 3000)


@pytest.mark.parametrize(
    "lifetime", [10**300, 1e308, 86_401], ids=["googol-cubed", "max-float", "a-day-and-a-second"]
)
def test_a_token_that_claims_to_live_for_ages_is_taken_to_live_a_day(
    client, as_user, simulator, monkeypatch, lifetime
):
    monkeypatch.setattr(simulator.webview, "ttl", lifetime)
    response = client.post("/api/v1/webview/token", headers=as_user("user-a"))
    assert response.status_code == 200
    assert 86_399 <= response.get_json()["expiresIn"] <= 86_400


def test_a_token_within_60_seconds_of_expiry_is_renewed(kard_url, simulator, clock):
    kard = KardClient(
        api_url=kard_url,
        token_url=f"{kard_url}/v2/auth/token",
        client_id=SANDBOX_CLIENT_ID,
        client_secret=SANDBOX_CLIENT_SECRET,
        organization_id="org-sandbox",
    )
    tokens = WebViewTokens(kard.webview_token, clock=clock)
    first = tokens.get("user-a")
    assert first.expires_at == clock.now + 3600
    clock.now += 3600 - RENEW_MARGIN - 1
    assert tokens.get("user-a") == first
    clock.now += 1
    renewed = tokens.get("user-a")
    assert renewed != first
    assert len(simulator.calls_to(TOKEN_PATH)) == 2
    kard.close()


def test_the_token_cache_is_bounded():
    minted = []

    def mint(user):
        minted.append(user)
        return f"token-{user}", 3600.0

    tokens = WebViewTokens(mint, max_users=2)
    for user in ("a", "b", "c", "a"):
        tokens.get(user)
    assert minted == ["a", "b", "c", "a"]  # "a" was pushed out by "c"


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_session_url_carries_the_token_and_the_theme(client, as_user, simulator):
    theme = {"theme": "dark", "labels": {"offersTitle": "Offres"}}
    body = client.post("/api/v1/webview/session", headers=as_user("u-1"), json={"theme": theme})
    session = body.get_json()
    assert body.status_code == 200
    assert session["url"].startswith(WEBVIEW + "?token=")
    query = _query(session["url"])
    assert query["token"] == [session["token"]]
    assert simulator.verify_webview_token(query["token"][0])["sub"] == "u-1"
    assert query["theme"] == [session["theme"]]
    assert codec.decode(session["theme"]) == theme
    assert session["expiresAt"].endswith("Z")


def test_session_with_a_named_theme_or_none(client, as_user):
    headers = as_user("u-1")
    named = client.post("/api/v1/webview/session", headers=headers, json={"themeName": "branding"})
    expected = client.get("/api/v1/themes/branding").get_json()["theme"]
    assert named.get_json()["theme"] == expected
    assert _query(named.get_json()["url"])["theme"] == [expected]

    plain = client.post("/api/v1/webview/session", headers=headers).get_json()
    assert plain["theme"] is None
    assert "theme" not in _query(plain["url"])


def test_session_uses_the_default_theme(make_app, kard_url):
    app = make_app(KARD_API_URL=kard_url, BFF_DEFAULT_THEME="high-contrast")
    client = app.test_client()
    token = client.post("/dev/session", json={"userId": "u"}).get_json()["token"]
    session = client.post(
        "/api/v1/webview/session", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert session["theme"] == client.get("/api/v1/themes/high-contrast").get_json()["theme"]
    assert session["url"].startswith("http://127.0.0.1:8000/sandbox/webview?token=")


@pytest.mark.parametrize(
    ("config", "webview"),
    [
        ({}, "http://127.0.0.1:8000/sandbox/webview"),
        ({"PORT": "8001"}, "http://127.0.0.1:8001/sandbox/webview"),
        (
            {"BFF_PUBLIC_URL": "https://bff.bank.example"},
            "https://bff.bank.example/sandbox/webview",
        ),
        (
            {"BFF_PUBLIC_URL": "https://bank.example/rewards/", "KARD_WEBVIEW_URL": "/wv/"},
            "https://bank.example/rewards/wv/",
        ),
    ],
)
def test_a_webview_path_is_made_absolute_from_configuration_not_the_host(
    make_app, kard_url, config, webview
):
    client = make_app(KARD_API_URL=kard_url, **config).test_client()
    token = client.post("/dev/session", json={"userId": "u"}).get_json()["token"]
    for host in ("evil.example", "localhost:8000"):
        session = client.post(
            "/api/v1/webview/session",
            headers={"Authorization": f"Bearer {token}", "Host": host},
        ).get_json()
        assert session["url"] == f"{webview}?token={session['token']}"
    # The embed example may frame it there.
    with client.get("/embed") as page:
        policy = page.headers["Content-Security-Policy"]
    origin = "/".join(webview.split("/")[:3])
    assert f"frame-src 'self' {origin};" in policy


def test_the_token_is_url_encoded_in_the_url():
    from bff.webview import session_url

    assert session_url("https://w/", "a+b/c=", None) == "https://w/?token=a%2Bb%2Fc%3D"
    assert session_url("https://w/?x=1", "t", "abc") == "https://w/?x=1&token=t&theme=abc"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"theme": {"theme": "dim"}}, "/theme/theme"),
        ({"theme": {"styles": {"light": {"primary": "red; x"}}}}, "/theme/styles/light/primary"),
        ({"theme": "abc"}, "/theme"),
        ({"themeName": "nope"}, "/themeName"),
        ({"themeName": 7}, "/themeName"),
        ({"theme": {}, "themeName": "branding"}, "/themeName"),
        ({"userId": "someone-else"}, "/userId"),
    ],
)
def test_bad_session_bodies_are_422_and_mint_nothing(client, as_user, simulator, body, pointer):
    response = client.post("/api/v1/webview/session", headers=as_user("u-1"), json=body)
    assert response.status_code == 422
    assert pointer in [error["source"]["pointer"] for error in response.get_json()["errors"]]
    assert simulator.calls_to(TOKEN_PATH) == []


def test_a_bad_theme_is_pointed_at_under_theme_in_the_body(client, as_user):
    body = {"theme": {"labels": {"offersTitle": ""}, "layout": []}}
    response = client.post("/api/v1/webview/session", headers=as_user("u-1"), json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {
            "status": "422",
            "title": "Invalid theme",
            "detail": "A label must be 1 to 60 characters after trimming.",
            "source": {"pointer": "/theme/labels/offersTitle"},
        },
        {
            "status": "422",
            "title": "Invalid theme",
            "detail": "layout must be an object.",
            "source": {"pointer": "/theme/layout"},
        },
    ]


def test_webview_endpoints_need_a_session(client):
    assert client.post("/api/v1/webview/token").status_code == 401
    assert client.post("/api/v1/webview/session").status_code == 401


def test_kard_failures_reach_the_app_mapped(client, as_user, simulator):
    simulator.faults.inject(503, retry_after="9", path=TOKEN_PATH)
    response = client.post("/api/v1/webview/token", headers=as_user("u-1"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "9"


def test_a_bad_themes_folder_stops_start_up(make_app, tmp_path):
    (tmp_path / "ok.json").write_text('{"theme": "dark"}')
    with pytest.raises(ConfigError, match="BFF_DEFAULT_THEME='missing' is not in BFF_THEMES_DIR"):
        make_app(BFF_THEMES_DIR=str(tmp_path), BFF_DEFAULT_THEME="missing")
    (tmp_path / "broken.json").write_text('{"theme": "dim"}')
    with pytest.raises(ConfigError, match=r"broken.json is not a valid theme: /theme"):
        make_app(BFF_THEMES_DIR=str(tmp_path))
    with pytest.raises(ConfigError, match="BFF_THEMES_DIR is not a folder"):
        make_app(BFF_THEMES_DIR=str(tmp_path / "nowhere"))


# The command line.


def _environment(**changes: str) -> dict[str, str]:
    """This process's environment without any of the BFF's settings, with `changes`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("KARD_", "BFF_"))}
    kept.pop("PORT", None)
    return {**kept, **changes}


@pytest.fixture(scope="module")
def running_sandbox(tmp_path_factory):
    """`kard-bff serve` in sandbox (as `make run` starts it) on a free port."""
    env = _environment(BFF_STATE_DIR=str(tmp_path_factory.mktemp("state")))
    with ServerProcess(["serve"], env=env) as server:
        yield server


@pytest.fixture
def theme_file(tmp_path):
    path = tmp_path / "theme.json"
    path.write_text('{"theme": "dark"}')
    return str(path)


def _assert_the_standin_accepts(server: ServerProcess, token: str, user_id: str) -> None:
    """Ask what the stand-in page asks when it opens with `token`."""
    checked = httpx.get(
        f"{server.url}/sandbox/webview/api/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["userId"] == user_id


@pytest.mark.parametrize("named_by", ["PORT", "BFF_PUBLIC_URL"])
def test_cli_links_open_in_the_running_sandbox(running_sandbox, theme_file, named_by):
    """The URL and the token the CLI prints are the running sandbox's: its port, its simulator."""
    where = {"PORT": str(running_sandbox.port), "BFF_PUBLIC_URL": running_sandbox.url + "/"}
    env = _environment(**{named_by: where[named_by]})
    url = kard_bff(env, "theme", "url", theme_file, "--user", "u-9")
    assert url.returncode == 0, url.stderr
    assert url.stdout.startswith(f"{running_sandbox.url}/sandbox/webview?token=")
    query = _query(url.stdout.strip())
    assert codec.decode(query["theme"][0]) == {"theme": "dark"}
    _assert_the_standin_accepts(running_sandbox, query["token"][0], "u-9")

    printed = kard_bff(env, "token", "u-10")
    assert printed.returncode == 0, printed.stderr
    answer = json.loads(printed.stdout)
    assert set(answer) == {"token", "expiresAt"}
    _assert_the_standin_accepts(running_sandbox, answer["token"], "u-10")


def test_cli_theme_url_base_url_names_the_sandbox(running_sandbox, theme_file):
    env = _environment(PORT=str(free_port()))
    args = ["--user", "u-9", "--base-url", running_sandbox.url]
    url = kard_bff(env, "theme", "url", theme_file, *args)
    assert url.returncode == 0, url.stderr
    assert url.stdout.startswith(f"{running_sandbox.url}/sandbox/webview?token=")
    _assert_the_standin_accepts(running_sandbox, _query(url.stdout.strip())["token"][0], "u-9")


@pytest.mark.parametrize(
    "command",
    [
        ["token", "u-9"],
        ["theme", "url", "THEME", "--user", "u-9"],
        ["history", "results", "RESULTS"],
        ["history", "upload", "SAMPLE"],
    ],
    ids=["token", "theme-url", "history-results", "history-upload"],
)
def test_cli_commands_that_call_kard_need_a_running_sandbox(theme_file, tmp_path, command):
    port = free_port()  # nothing serves there
    sample = Path(__file__).parents[1] / "examples" / "history" / "sample.jsonl"
    results = f"http://127.0.0.1:{port}/sandbox/kard/s3/kard-results/r.json?X-Amz-Signature=x"
    named = {"THEME": theme_file, "SAMPLE": str(sample), "RESULTS": results}
    args = [named.get(arg, arg) for arg in command]
    result = kard_bff(_environment(PORT=str(port), BFF_STATE_DIR=str(tmp_path)), *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"kard-bff: no sandbox is serving at http://127.0.0.1:{port}; "
        "start it with `make run`, or set PORT or BFF_PUBLIC_URL to where it serves"
    ]


@pytest.mark.parametrize("command", [[], ["theme"], ["theme", "url"], ["token"], ["serve"]])
def test_cli_help(runner, command):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
