"""What an operator installs is a wheel, not this checkout: it must carry the package, the pages
and the themes, and nothing of the tests, and serve the pages once installed."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "/": "index.html",
    "/theme-studio": "theme-studio.html",
    "/embed": "embed.html",
    "/docs": "docs.html",
    "/sandbox/webview": "sandbox-webview.html",
}
# What /docs serves instead of docs.html from a wheel built without Swagger UI.
DOCS_FALLBACK = "docs-unavailable.html"
# Swagger UI, copied into static/ by `make swagger-ui`, with its licences.
SWAGGER_UI = {
    f"bff/static/vendor/swagger-ui/{name}"
    for name in (
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "LICENSE",
        "NOTICE",
        "swagger-ui-bundle.js.LICENSE.txt",
    )
}
# Run by the installed wheel's Python, outside the checkout: GET each path of argv[2:], and print
# where bff and its pages were found and what each path answered.
SERVE = """
import json, sys
import bff, bff.pages
client = bff.create_app({"BFF_STATE_DIR": sys.argv[1]}).test_client()
answers = {}
for path in sys.argv[2:]:
    response = client.get(path)
    answers[path] = [response.status_code, response.get_data(as_text=True)]
print(json.dumps({"bff": bff.__file__, "static": str(bff.pages.STATIC_DIR), "answers": answers}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of a copy of the checkout's project files (so no build output lands in it)."""
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    for name in ("bff", "static"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q"]
    subprocess.run([*build, "-w", str(folder), str(source)], check=True, capture_output=True)
    (built,) = folder.glob("kard_bff-*.whl")
    return built


def _checkout_files(folder: str, pattern: str = "*") -> list[Path]:
    return [
        path
        for path in (ROOT / folder).rglob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    ]


def test_the_wheel_carries_every_module_page_file_and_bundled_theme(wheel):
    packaged = set(zipfile.ZipFile(wheel).namelist())
    pages = {f"bff/{path.relative_to(ROOT).as_posix()}" for path in _checkout_files("static")}
    modules = {path.relative_to(ROOT).as_posix() for path in _checkout_files("bff", "*.py")}
    themes = {path.relative_to(ROOT).as_posix() for path in _checkout_files("bff/themes/bundled")}
    assert len(pages) > 15 and len(themes) >= 2
    assert pages - packaged == set()
    assert modules - packaged == set()  # a package left out of pyproject's list is missed here
    assert themes - packaged == set()
    assert SWAGGER_UI - packaged == set(), "no Swagger UI to ship: `make swagger-ui` copies it in"
    assert {name.split("/")[0] for name in packaged} == {"bff", "kard_bff-0.1.0.dist-info"}
    assert not [name for name in packaged if "probe" in name]  # the tests' own page
    assert len([name for name in packaged if name.endswith(".html")]) == len(PAGES) + 1  # fallback


def test_an_installed_wheel_serves_every_page_and_asset(wheel, tmp_path):
    """Installed (not editable) into a fresh environment, the BFF serves the wheel's pages."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = (venv / "lib").glob("python*/site-packages")
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q"]
    subprocess.run([*install, "--target", str(site), str(wheel)], check=True, capture_output=True)
    # The dependencies from this environment; its editable bff stays out (the .pth files of a
    # folder named in a .pth are not run).
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    files = {
        name.removeprefix("bff/static/"): zipfile.ZipFile(wheel).read(name).decode()
        for name in zipfile.ZipFile(wheel).namelist()
        if name.startswith("bff/static/") and name.endswith((".html", ".css", ".js"))
    }
    assets = [name for name in files if not name.endswith(".html")]
    pages = [*PAGES.values(), DOCS_FALLBACK]
    refused = ["/static/__init__.py", *(f"/static/{page}" for page in pages)]
    paths = [*PAGES, *(f"/static/{name}" for name in assets), "/static/theme-limits.js", *refused]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [venv / "bin" / "python", "-c", SERVE, str(tmp_path / "state"), *paths],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    served = json.loads(result.stdout)

    assert Path(served["bff"]).parent == site / "bff"
    assert Path(served["static"]) == site / "bff" / "static"
    assert not (site / "static").exists()  # no top-level `static` package
    answers = served["answers"]
    for path, name in PAGES.items():
        assert answers[path] == [200, files[name]], path
    for name in assets:
        assert answers[f"/static/{name}"] == [200, files[name]], name
    assert answers["/static/theme-limits.js"][0] == 200  # rendered by bff.pages, not a file
    for path in refused:  # a page only through its route, with its headers; no Python file
        assert answers[path][0] == 404, path
