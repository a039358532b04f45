"""The WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi run`."""

import sys

from bff import create_app, start_workers
from bff.observability import logs, tracing
from bff.settings import ConfigError, load_settings

try:
    settings = load_settings()
    # In BFF_LOG_FORMAT, with the URLs in the dev server's, gunicorn's and httpx's lines redacted.
    logs.configure(settings.log_format)
    app = create_app(settings, tracer_provider=tracing.from_environment())
except ConfigError as error:
    sys.exit(f"kard-bff: configuration error: {error}")
# Hand on what earlier runs left in the attribution outbox and the webhook inbox; hand back what
# this process holds when it ends.
start_workers(app)
