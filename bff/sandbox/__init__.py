"""An embedded, stateful simulator of the Kard rewards API for sandbox runs and tests.

What the code outside this package uses is here; import it only in sandbox mode (or to run the
simulator alone), never the modules inside.
"""

from bff.sandbox.app import create_simulator_app, init_app
from bff.sandbox.documents.locations import haversine_miles
from bff.sandbox.routes.s3 import MAX_OBJECT_BYTES, upload_path_prefix
from bff.sandbox.simulator import DEFAULT_WEBHOOK_KEY, Simulator

__all__ = [
    "DEFAULT_WEBHOOK_KEY",
    "MAX_OBJECT_BYTES",
    "Simulator",
    "create_simulator_app",
    "haversine_miles",
    "init_app",
    "upload_path_prefix",
]
