"""Mount the simulator: as a standalone app at the root, or inside a host app under a prefix."""

from flask import Flask

from bff.jsonio import OrjsonProvider
from bff.sandbox.blueprint import NAME, create_blueprint
from bff.sandbox.routes import register_routes
from bff.sandbox.simulator import Simulator

URL_PREFIX = "/sandbox/kard"


def init_app(app: Flask, simulator: Simulator | None = None, *, under: str = "") -> Simulator:
    """Serve the simulator under /sandbox/kard of `app` (`under` a prefix: /rewards/sandbox/kard);
    return the simulator."""
    return _mount(app, simulator, under + URL_PREFIX)


def create_simulator_app(simulator: Simulator | None = None) -> Flask:
    """Build a standalone Flask app serving the simulator at its root ("/v2/...")."""
    app = Flask(__name__, static_folder=None)
    # As when mounted in the BFF: orjson refuses JSON nested too deep with an error, not a crash.
    app.json = OrjsonProvider(app)
    _mount(app, simulator, "")
    return app


def _mount(app: Flask, simulator: Simulator | None, url_prefix: str) -> Simulator:
    simulator = simulator or Simulator()
    app.extensions[NAME] = simulator
    bp = create_blueprint()
    register_routes(bp)
    app.register_blueprint(bp, url_prefix=url_prefix or None)
    return simulator
