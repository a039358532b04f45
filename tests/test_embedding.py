"""kard-bff inside an app it does not own: nothing of it may rely on, or change, what belongs to
the app (its JSON provider, its extensions)."""

from flask.json.provider import DefaultJSONProvider

from bff.current import EXTENSION


class RefusingProvider(DefaultJSONProvider):
    """An app's JSON provider that kard-bff must never use to answer."""

    def response(self, *args, **kwargs):
        raise AssertionError("kard-bff answered with the app's JSON provider")

    def dumps(self, obj, **kwargs):
        raise AssertionError("kard-bff serialised with the app's JSON provider")


def test_answers_are_made_without_the_apps_json_provider(make_app, kard_url):
    app = make_app(KARD_API_URL=kard_url)
    app.json = RefusingProvider(app)
    client = app.test_client()
    body = b'{"userId": "embedded-user"}'  # not json=: the test client would dump it with app.json
    session = client.post("/dev/session", data=body, content_type="application/json")
    assert session.status_code == 200, session.data
    headers = {"Authorization": f"Bearer {session.get_json()['token']}"}
    for path in ("/api/v1/offers", "/api/v1/rewards", "/api/v1/themes", "/healthz"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.data)
        assert answer.mimetype == "application/json"
    for path in ("/api/v1/nowhere", "/api/v1/offers?page[size]=x"):  # errors too
        assert client.get(path, headers=headers).get_json()["errors"]


def test_its_parts_are_kept_under_one_name(make_app):
    app = make_app()
    assert EXTENSION in app.extensions
    ours = {"settings", "clock", "kard", "session_verifier", "themes", "keys"}
    assert ours <= app.extensions[EXTENSION].keys()
    assert not ours & app.extensions.keys()  # nothing of kard-bff at the top, where a host's are
