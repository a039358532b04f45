"""What an operator installs is a wheel, not this checkout: it must carry the pages and themes,
and nothing of the tests."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from bff import create_app

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_every_page_file_and_bundled_theme(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "bff", source / "bff", ignore=shutil.ignore_patterns("__pycache__"))
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q"]
    subprocess.run([*build, "-w", str(tmp_path), str(source)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("kard_bff-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(source).as_posix()
        for folder in ("bff/static", "bff/themes/bundled")
        for path in (source / folder).rglob("*")
        if path.is_file()
    }
    assert len(expected) > 15
    assert expected - packaged == set()
    assert not [name for name in packaged if "probe" in name]  # the tests' own page

    pages = [name for name in packaged if name.startswith("bff/static/") and name.endswith(".html")]
    assert len(pages) == 4
    client = create_app({}).test_client()
    for name in pages:  # served only through their page routes, with their headers
        assert client.get(name.removeprefix("bff")).status_code == 404
