"""The WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`."""

import sys

from bff import create_app, start_workers
from bff.redact import redact_logs
from bff.settings import ConfigError

# The dev server's request lines, gunicorn's and httpx's carry URLs with tokens in their queries.
redact_logs()
try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"kard-bff: configuration error: {error}")
# Hand on what earlier runs left in the attribution outbox and the webhook inbox; hand back what
# this process holds when it ends.
start_workers(app)
