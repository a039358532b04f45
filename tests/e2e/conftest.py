"""Browser tests: Playwright drives Debian's Chromium against a BFF served over real HTTP."""

import shutil
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Blueprint
from playwright.sync_api import ConsoleMessage, Page

from bench.harness import free_port
from tests.servers import require_tool, serve

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# The tests' own page (tests/e2e/probe): served by the BFF under test, on its origin, but not
# shipped with it.
PROBE_DIR = Path(__file__).resolve().parent / "probe"
PROBE_PATH = "/_tests/probe"
# Chromium's own network chatter is refused on this machine's closed network: turn it off.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium (`playwright install` cannot download a browser here)."""
    require_tool(Path(CHROMIUM).exists(), CHROMIUM, "chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def live_bff(request, make_app):
    """A sandbox BFF on a free loopback port, told it as PORT; yields its base URL.

    Its Kard is the simulator embedded in it, or with the indirect parameter "standalone" the
    simulator on its own port (as with `kard-bff sandbox` and KARD_API_URL). It also serves the
    tests' probe page at PROBE_PATH.
    """
    port = free_port()
    config = {"PORT": str(port)}
    if getattr(request, "param", "embedded") == "standalone":
        config["KARD_API_URL"] = request.getfixturevalue("kard_url")
    app = make_app(**config)
    probe = Blueprint("probe", __name__, static_folder=PROBE_DIR, static_url_path=PROBE_PATH)
    app.register_blueprint(probe)
    with serve(app, port=port) as url:
        yield url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where browser tests save screenshots (kept by CI as test artifacts)."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@dataclass
class Problems:
    """Console errors and warnings and uncaught exceptions of a page and its frames."""

    found: list[str] = field(default_factory=list)
    failing_paths: list[str] = field(default_factory=list)

    def allow_failed_loads(self, path: str) -> None:
        """Let requests to `path` (a glob) fail: the test makes them fail on purpose."""
        self.failing_paths.append(path)

    def note(self, message: ConsoleMessage) -> None:
        """Keep a console error or warning, unless it is a load the test meant to fail."""
        if message.type not in ("error", "warning"):
            return
        url = message.location.get("url", "")
        path = urlsplit(url).path
        if message.text.startswith("Failed to load resource") and any(
            fnmatch(path, pattern) for pattern in self.failing_paths
        ):
            return
        self.found.append(f"{message.type}: {message.text} ({url})")


@pytest.fixture
def problems(page: Page):
    """The page's console problems, asserted to be none when the test ends."""
    seen = Problems()
    page.on("console", seen.note)
    page.on("pageerror", lambda error: seen.found.append(f"pageerror: {error}"))
    yield seen
    assert seen.found == []
