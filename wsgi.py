"""The WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`."""

import sys

from bff import create_app
from bff.extensions import delivery
from bff.settings import ConfigError

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"kard-bff: configuration error: {error}")
delivery(app).ensure_worker()  # deliver what earlier runs left in the outbox
