"""The HTML pages served from `static/`."""

from flask import Blueprint, current_app

bp = Blueprint("pages", __name__)


@bp.get("/")
def show_index():
    """Serve the index: what this service is, and where to go next."""
    return current_app.send_static_file("index.html")
