"""`POST /dev/session` in sandbox: its tokens, and the dev key kept in `BFF_STATE_DIR`."""

import stat
import subprocess
import sys

import jwt
import pytest

HS_SECRET = "an-hs256-secret-of-at-least-32-bytes!"
WORKERS = 6
# A worker process: import everything, say so, then build the app when told (all at once).
WORKER = """
import sys
from bff import create_app
print("ready", flush=True)
sys.stdin.readline()
client = create_app({"BFF_STATE_DIR": sys.argv[1]}).test_client()
print(client.post("/dev/session", json={"userId": sys.argv[2]}).get_json()["token"])
"""


def _dev_session(client, user_id="u"):
    response = client.post("/dev/session", json={"userId": user_id})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def _session(client, token):
    return client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def dev_client(make_app):
    return make_app().test_client()


def test_dev_session_round_trip(dev_client):
    token = _dev_session(dev_client, "sandbox-demo-new-customer")
    assert _session(dev_client, token).get_json() == {
        "userId": "sandbox-demo-new-customer",
        "authMode": "dev",
    }


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"userId": ""}, 422), ({"userId": 7}, 422), ({"userId": "a\nb"}, 422)],
)
def test_dev_session_validates_the_user_id(dev_client, body, status):
    response = dev_client.post("/dev/session", json=body)
    assert response.status_code == status
    assert response.get_json()["errors"][0]["source"] == {"pointer": "/userId"}


def test_dev_session_does_not_exist_outside_sandbox(make_app, outside_sandbox):
    response = make_app(**outside_sandbox).test_client().post("/dev/session", json={"userId": "u"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"BFF_JWT_ISSUER": "https://issuer.example.com"},
        {"BFF_JWT_AUDIENCE": "kard-bff"},
        {"BFF_JWT_ISSUER": "https://issuer.example.com", "BFF_JWT_AUDIENCE": "kard-bff"},
        {"BFF_USER_CLAIM": "kard_user"},
    ],
)
def test_hs256_sandbox_mints_tokens_its_verifier_accepts(make_app, claims):
    client = make_app(BFF_AUTH_MODE="hs256", BFF_JWT_SECRET=HS_SECRET, **claims).test_client()
    token = _dev_session(client, "user-7")
    assert _session(client, token).get_json() == {"userId": "user-7", "authMode": "hs256"}
    minted = jwt.decode(token, options={"verify_signature": False})
    assert minted.get("iss") == claims.get("BFF_JWT_ISSUER")
    assert minted.get("aud") == claims.get("BFF_JWT_AUDIENCE")
    assert minted[claims.get("BFF_USER_CLAIM", "sub")] == "user-7"


def test_jwks_sandbox_has_no_dev_sessions_to_mint(make_app):
    """In jwks mode only the issuer holds a signing key: a clear 404, not a 500."""
    app = make_app(BFF_AUTH_MODE="jwks", BFF_JWKS_URL="http://127.0.0.1:9/jwks.json")
    response = app.test_client().post("/dev/session", json={"userId": "u"})
    assert response.status_code == 404
    assert "jwks" in response.get_json()["errors"][0]["detail"]


def test_dev_sessions_survive_a_restart(make_app):
    token = _dev_session(make_app().test_client())
    restarted = make_app().test_client()
    assert _session(restarted, token).status_code == 200
    assert _session(restarted, _dev_session(restarted)).status_code == 200


def test_a_fresh_state_dir_refuses_the_old_dev_sessions(make_app, tmp_path):
    token = _dev_session(make_app(BFF_STATE_DIR=str(tmp_path / "old")).test_client())
    response = _session(make_app(BFF_STATE_DIR=str(tmp_path / "new")).test_client(), token)
    assert response.status_code == 401
    assert "signature" in response.get_json()["errors"][0]["detail"]


def test_the_dev_key_file_is_private(make_app, state_dir):
    make_app()
    key_file = state_dir / "dev-session.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes()) >= 32


def test_workers_starting_at_once_share_one_dev_key(make_app, state_dir):
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(state_dir), f"user-{number}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for number in range(WORKERS)
    ]
    for worker in workers:
        assert worker.stdout.readline() == "ready\n"
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    tokens = [worker.communicate(timeout=60)[0].strip() for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * WORKERS

    client = make_app().test_client()
    users = [_session(client, token).get_json().get("userId") for token in tokens]
    assert users == [f"user-{number}" for number in range(WORKERS)]
    assert [path.name for path in state_dir.iterdir()] == ["dev-session.key"]


def test_dev_session_enrolls_the_user_with_kard(client, simulator):
    assert not simulator.directory.is_enrolled("org-sandbox", "newcomer-1")
    _dev_session(client, "newcomer-1")
    assert simulator.directory.is_enrolled("org-sandbox", "newcomer-1")
    _dev_session(client, "newcomer-1")  # Kard's 409, already enrolled, is no failure
    creates = simulator.calls_to(r"/users$", "POST")
    assert [call.status for call in creates] == [201, 409]
    assert creates[0].json == {
        "data": [
            {"type": "user", "id": "newcomer-1", "attributes": {"enrolledRewards": ["CARDLINKED"]}}
        ]
    }


def test_dev_session_answers_kards_failure_to_enroll_and_mints_nothing(client, simulator):
    simulator.faults.inject(status=503, path=r"/users$", times=3)
    response = client.post("/dev/session", json={"userId": "newcomer-2"})
    assert response.status_code == 503, response.get_json()
    assert "token" not in response.get_json()
    assert not simulator.directory.is_enrolled("org-sandbox", "newcomer-2")
