"""Opening Kard's hosted WebView: a token for the session user, and the URL with a theme."""

from bff.api.bodies import json_object
from bff.current import now, settings
from bff.errors import Unprocessable
from bff.jsonio import JsonBlueprint
from bff.kard.extension import webview_tokens
from bff.session import session_user
from bff.themes import codec
from bff.themes.extension import named_themes
from bff.timestamps import utc_timestamp
from bff.webview import absolute_webview_url, session_url

bp = JsonBlueprint("webview", __name__, url_prefix="/api/v1/webview")

SESSION_KEYS = ("theme", "themeName")


@bp.post("/token")
def create_token():
    """Answer a Kard WebView token for the session user (reused until shortly before expiry)."""
    token = webview_tokens().get(session_user())
    return {
        "token": token.token,
        "tokenType": "Bearer",
        "expiresIn": int(token.expires_at - now()),
        "expiresAt": utc_timestamp(token.expires_at),
    }


@bp.post("/session")
def create_session():
    """Answer the WebView URL for the session user, with the requested or default theme."""
    user_id = session_user()
    theme = _requested_theme(json_object(optional=True))
    token = webview_tokens().get(user_id)
    webview_url = absolute_webview_url(settings().kard_webview_url, settings().public_url)
    return {
        "url": session_url(webview_url, token.token, theme),
        "token": token.token,
        "expiresAt": utc_timestamp(token.expires_at),
        "theme": theme,
    }


def _requested_theme(body: dict) -> str | None:
    """The encoded theme: from the body's theme, its themeName, or BFF_DEFAULT_THEME."""
    unknown = [key for key in body if key not in SESSION_KEYS]
    if unknown or len(body) > 1:
        pointer = f"/{unknown[0]}" if unknown else "/themeName"
        detail = 'Send {"theme": {...}}, {"themeName": "..."}, or no body.'
        raise Unprocessable(detail, pointer=pointer)
    if "theme" in body:
        return codec.encode(body["theme"], pointer="/theme")[0]
    name = body.get("themeName", settings().default_theme)
    if name is None:
        return None
    named = named_themes().get(name) if isinstance(name, str) else None
    if named is None:
        detail = f"No theme named {name!r}; see GET /api/v1/themes."
        raise Unprocessable(detail, pointer="/themeName")
    return named.theme
