"""The HTML pages, each with a Content Security Policy fit for it, and their scripts and
stylesheets: the top-level `static/` folder, installed as the package `bff.static`.

Every page loads scripts, styles and data from this origin only (no CDNs, no inline scripts).
The WebView stand-in may be framed by this origin and `BFF_CORS_ORIGINS`; the other pages by no one.
No page sends a Referer: WebView URLs carry a token in their query.
A page is served only by its route: `/static/` serves scripts and stylesheets, never HTML, and the
stand-in's own files only in sandbox, like the stand-in. One script is not a file:
`/static/theme-limits.js` holds the limits of `bff.themes.codec` that the studio's fields enforce
too, so the page and the server share one number. `/docs` runs Swagger UI from `vendor/`, copied
in at build time, under the same policy as the other pages.
"""

import json
import re
from importlib.resources import files
from urllib.parse import urlsplit

from flask import Response, send_from_directory

from bff.current import settings, url_prefix
from bff.errors import NotFound
from bff.jsonio import JsonBlueprint
from bff.themes import codec
from bff.webview import absolute_webview_url

bp = JsonBlueprint("pages", __name__)
sandbox_bp = JsonBlueprint("sandbox_pages", __name__)  # the stand-in WebView
assets_bp = JsonBlueprint("page_assets", __name__)  # the scripts and styles of both

# A folder on disk in a checkout (an editable install) and in an installed wheel alike.
STATIC_DIR = files("bff.static")
ASSET_SUFFIXES = (".css", ".js")
SANDBOX_ASSETS = ("sandbox-webview.css", "sandbox-webview.js", "webview/")
# Swagger UI, the renderer of /docs, is a build product (`make swagger-ui`): a wheel built without
# it lacks it, and /docs then says how to get it rather than render nothing.
SWAGGER_UI_BUNDLE = "vendor/swagger-ui/swagger-ui-bundle.js"

_BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
_ROOT_PATH = re.compile(r'(href|src)="/(?!/)')  # a link or asset of the page, from the root
# Should a browser ever render an asset as a document, it may load nothing and be framed by no one.
_ASSET_POLICY = "default-src 'none'; frame-ancestors 'none'"


@bp.get("/")
def show_index():
    """Serve the index: what this service is, and where to go next."""
    return _page("index.html", frame_src="'none'", frame_ancestors="'none'")


@bp.get("/theme-studio")
def show_theme_studio():
    """Serve the theme studio for designers."""
    return _page("theme-studio.html", frame_src="'none'", frame_ancestors="'none'")


@bp.get("/embed")
def show_embed():
    """Serve the web embed example: the WebView in an iframe, with the location bridge."""
    webview_url = absolute_webview_url(settings().kard_webview_url, settings().public_url)
    frame_src = f"'self' {_origin(webview_url)}"
    return _page("embed.html", frame_src=frame_src, frame_ancestors="'none'")


@bp.get("/docs")
def show_docs():
    """Serve the API reference: Swagger UI rendering /openapi.json, or how to get Swagger UI."""
    found = STATIC_DIR.joinpath(SWAGGER_UI_BUNDLE).is_file()
    name = "docs.html" if found else "docs-unavailable.html"
    return _page(name, frame_src="'none'", frame_ancestors="'none'")


@sandbox_bp.get("/sandbox/webview")
def show_sandbox_webview():
    """Serve the offline stand-in for Kard's hosted WebView (registered in sandbox only)."""
    ancestors = " ".join(["'self'", *settings().cors_origins])
    return _page("sandbox-webview.html", frame_src="'none'", frame_ancestors=ancestors)


@assets_bp.get("/static/theme-limits.js")
def send_theme_limits():
    """Serve the theme limits the studio's fields share with the BFF, as a JavaScript module."""
    script = f"export const MAX_LABEL_LENGTH = {json.dumps(codec.MAX_LABEL_LENGTH)};\n"
    return _with_headers(Response(script, mimetype="text/javascript"), _ASSET_POLICY)


@assets_bp.get("/static/<path:filename>")
def send_asset(filename: str):
    """Serve a script or stylesheet of the pages (the stand-in's only in sandbox)."""
    sandbox_only = filename.startswith(SANDBOX_ASSETS)
    if not filename.endswith(ASSET_SUFFIXES) or (sandbox_only and not settings().sandbox):
        raise NotFound("No such endpoint.")
    return _with_headers(send_from_directory(STATIC_DIR, filename), _ASSET_POLICY)


def _page(name: str, *, frame_src: str, frame_ancestors: str) -> Response:
    policy = f"{_BASE_POLICY}; frame-src {frame_src}; frame-ancestors {frame_ancestors}"
    prefix = url_prefix()
    if not prefix:
        return _with_headers(send_from_directory(STATIC_DIR, name), policy)
    # Mounted under a prefix: the page's links and assets are under it too.
    html = _ROOT_PATH.sub(rf'\1="{prefix}/', STATIC_DIR.joinpath(name).read_text())
    return _with_headers(Response(html, mimetype="text/html"), policy)


def _with_headers(response: Response, policy: str) -> Response:
    response.headers["Content-Security-Policy"] = policy
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-cache"  # a new release is seen at once
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
