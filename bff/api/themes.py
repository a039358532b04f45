"""Themes for the WebView: encode, decode, and the named themes. No session needed."""

from flask import Blueprint

from bff.api.bodies import json_object
from bff.errors import NotFound, Unprocessable, error_object
from bff.themes import codec
from bff.themes.extension import named_themes

bp = Blueprint("themes", __name__, url_prefix="/api/v1/themes")

DECODE_KEYS = ("theme", "url")


@bp.post("/encode")
def encode_theme():
    """Validate and normalize a theme; answer its base64url value and normalized JSON."""
    try:
        value, normalized = codec.encode(json_object())
    except codec.ThemeError as exc:
        raise theme_error(exc) from exc
    return {"theme": value, "json": normalized}


@bp.post("/decode")
def decode_theme():
    """Decode `{"theme": "<base64url>"}` or `{"url": "<a WebView URL>"}` to the theme's JSON."""
    body = json_object()
    given = [key for key in body if key in DECODE_KEYS]
    unknown = [key for key in body if key not in DECODE_KEYS]
    if unknown or len(given) != 1 or not isinstance(body[given[0]], str):
        detail = 'Send {"theme": "<base64url>"} or {"url": "<a WebView URL>"}.'
        pointer = f"/{unknown[0]}" if unknown else ""
        raise Unprocessable(detail, pointer=pointer)
    try:
        return {"json": codec.decode(body[given[0]])}
    except codec.ThemeError as exc:
        raise theme_error(exc, field=f"/{given[0]}") from exc


@bp.get("")
def list_themes():
    """List the named themes of BFF_THEMES_DIR."""
    return {"themes": [theme.to_json() for theme in named_themes().values()]}


@bp.get("/<name>")
def get_theme(name: str):
    """Answer one named theme."""
    theme = named_themes().get(name)
    if theme is None:
        raise NotFound(f"No theme named {name!r}; see GET /api/v1/themes.")
    return theme.to_json()


def theme_error(error: codec.ThemeError, *, field: str = "") -> Unprocessable:
    """One 422 error object per problem; a problem with the whole value points at `field`."""
    return Unprocessable(
        errors=[
            error_object(422, "Invalid theme", problem.detail, pointer=problem.pointer or field)
            for problem in error.problems
        ],
        unreported=error.unreported,
    )
