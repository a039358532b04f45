"""What no route serves answers in Kard's shape; the simulator mounted in a host app."""

import flask
import httpx

from bff.sandbox import init_app
from tests.sandbox.helpers import (
    CREDENTIALS,
    assert_error,
)
from tests.servers import serve


def test_unknown_paths_and_methods_answer_in_kard_shape(client: httpx.Client) -> None:
    assert_error(client.get("/v2/nowhere"), 404)
    response = client.get("/v2/auth/token")
    assert_error(response, 405)
    assert "POST" in response.headers["Allow"]


def test_init_app_mounts_under_prefix_without_taking_over_host_errors() -> None:
    host = flask.Flask("host")

    @host.errorhandler(404)
    def host_not_found(error):
        return {"host": True}, 404

    simulator = init_app(host)
    assert host.extensions["kard_simulator"] is simulator
    with serve(host) as url, httpx.Client(base_url=url) as client:
        token = client.post("/sandbox/kard/v2/auth/token", json=CREDENTIALS)
        assert token.status_code == 200
        assert_error(client.get("/sandbox/kard/v2/nowhere"), 404)
        assert client.get("/elsewhere").json() == {"host": True}
    assert [call.path for call in simulator.calls] == ["/v2/auth/token", "/v2/nowhere"]
