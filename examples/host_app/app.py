"""An issuer's own Flask app, with its own login, that mounts kard-bff at /rewards.

    make example    # http://127.0.0.1:8000/, sign in as ada or grace, password "rewards"

Everything here but the `kard_bff` lines (mounting it, enrolling users at sign-in) is the
issuer's app as it was before rewards: its users and their login (flask-login), its JSON answers
and error shape, its page, its hooks. kard-bff takes the signed-in user from `current_user`
(`user_loader`), so the app's pages call /rewards/api/v1/... with the session cookie they already
have: no second login, no token.

Offline by default (KARD_ENV=sandbox: Kard's simulator, mounted with kard-bff); the environment
can point it at Kard's test environment instead (the README's "Pointing it at Kard's test
environment": KARD_ENV=test and the issuer's credentials).
"""

import logging
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash, generate_password_hash

from bff import KardBFF
from bff.errors import BffError

log = logging.getLogger(__name__)

REWARDS_PREFIX = "/rewards"
DEMO_PASSWORD = "rewards"


@dataclass(frozen=True)
class User:
    """One of the app's users. Its `id` is also its Kard user ID: the ID the issuer enrolls."""

    id: str
    username: str
    name: str
    password_hash: str
    member_since: datetime

    # What flask-login asks of a user.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.id


_HASH = generate_password_hash(DEMO_PASSWORD)
USERS = {
    user.username: user
    for user in (
        User("1001", "ada", "Ada Lovelace", _HASH, datetime(2024, 3, 1, tzinfo=UTC)),
        User("1002", "grace", "Grace Hopper", _HASH, datetime(2025, 6, 15, tzinfo=UTC)),
    )
}
USERS_BY_ID = {user.id: user for user in USERS.values()}

login_manager = LoginManager()
kard_bff = KardBFF(url_prefix=REWARDS_PREFIX)
pages = Blueprint("pages", __name__)  # names kard-bff also uses inside its own: no collision
api = Blueprint("api", __name__, url_prefix="/api")


def create_app(config: dict | None = None, *, rewards: bool = True) -> Flask:
    """The app; `rewards=False` builds it as it was before kard-bff (tests compare the two)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("HOST_SECRET_KEY") or secrets.token_hex(32),
        SESSION_COOKIE_SAMESITE="Lax",
        # Offline unless the environment names a Kard environment.
        KARD_ENV=os.environ.get("KARD_ENV", "sandbox"),
    )
    app.config.update(config or {})
    app.json.sort_keys = False
    login_manager.init_app(app)
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.before_request(_start_timer)
    app.after_request(_log_answer)
    app.register_error_handler(404, _answer_not_found)
    app.register_error_handler(413, _answer_too_large)
    app.register_error_handler(HTTPException, _answer_http_error)
    app.register_error_handler(500, _answer_server_error)
    if rewards:
        kard_bff.init_app(app, user_loader=signed_in_kard_user)
    return app


def signed_in_kard_user() -> str | None:
    """kard-bff's `user_loader`: the Kard user ID of the signed-in user, or None."""
    return current_user.id if current_user.is_authenticated else None


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return USERS_BY_ID.get(user_id)


@login_manager.unauthorized_handler
def _unauthorized():
    return _error(401, "Sign in first.")


@pages.get("/")
def index():
    user = current_user if current_user.is_authenticated else None
    return render_template("index.html", user=user, rewards=REWARDS_PREFIX)


@pages.post("/login")
def login():
    user = USERS.get(request.form.get("username", ""))
    password = request.form.get("password", "")
    if user is None or not check_password_hash(user.password_hash, password):
        return render_template("index.html", user=None, error="Wrong username or password."), 401
    login_user(user)
    if "kard_bff" in current_app.extensions:
        _enroll(user)
    return redirect(url_for("pages.index"))


@pages.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("pages.index"))


@api.get("/account")
@login_required
def account():
    """The app's own JSON: its provider writes dates as HTTP dates, keys in their order."""
    user = current_user
    return {"username": user.username, "name": user.name, "memberSince": user.member_since}


def _enroll(user: User) -> None:
    """Enroll the user in rewards as they sign in (Kard answers "already enrolled" after the
    first time). A failure does not stop the sign-in: the rewards answer an error meanwhile."""
    try:
        kard_bff.enroll_user(user.id)
    except BffError as failure:
        log.warning("Could not enroll user %s in rewards: %s", user.id, failure)


def _start_timer() -> None:
    g.started = time.perf_counter()


def _log_answer(response):
    """The app's own hooks see every request, kard-bff's under /rewards too."""
    elapsed = (time.perf_counter() - g.started) * 1000
    log.info("%s %s %s %.1f ms", request.method, request.path, response.status_code, elapsed)
    response.headers["X-Example-Bank"] = "1"
    return response


def _answer_not_found(_error_: HTTPException):
    return _error(404, "There is nothing here.")


def _answer_too_large(_error_: HTTPException):
    return _error(413, "That is more than we take at once.")


def _answer_http_error(error: HTTPException):
    return _error(error.code or 500, error.description or error.name)


def _answer_server_error(_error_: Exception):
    return _error(500, "Something went wrong on our side.")


def _error(status: int, message: str):
    """The app's own error shape (not kard-bff's: that one is only under /rewards)."""
    return jsonify(error={"code": status, "message": message}), status
