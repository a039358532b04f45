"""An embedded, stateful simulator of the Kard rewards API for sandbox runs and tests."""

from bff.sandbox.app import create_simulator_app, init_app
from bff.sandbox.blueprint import bp
from bff.sandbox.simulator import Simulator

__all__ = ["Simulator", "bp", "create_simulator_app", "init_app"]
