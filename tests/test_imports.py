"""The package's shape: pure modules load no Flask, and no module imports itself round a cycle."""

import ast
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

import bff

PACKAGE = Path(bff.__file__).parent
PURE_MODULES = [
    "bff.kard",
    "bff.themes.codec",
    "bff.themes.catalog",
    "bff.offers.rewrite",
    "bff.offers.queries",
    "bff.offers.cta",
    "bff.keys",
    "bff.fleet.cache",
    "bff.ratelimit",
    "bff.ratelimit.addresses",
    "bff.webview",
    "bff.attributions.checks",
    "bff.errors",
    "bff.observability.metrics",
]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_a_pure_module_loads_no_flask(module):
    loaded = _modules_loaded_by(f"import {module}", prefixes=("flask", "werkzeug"))
    assert loaded == [], f"import {module} loads {loaded}"


def test_the_command_line_loads_no_prometheus_client():
    # `kard-bff serve` sets PROMETHEUS_MULTIPROC_DIR before prometheus-client is imported, which
    # is when it picks one process's storage or every worker's files (bff.server.worker_metrics).
    loaded = _modules_loaded_by("import bff.cli", prefixes=("prometheus_client",))
    assert loaded == [], f"import bff.cli loads {loaded}"


def test_a_production_worker_never_imports_the_simulator(tmp_path):
    production = {
        "KARD_ENV": "production",
        "KARD_API_URL": "http://127.0.0.1:9",
        "KARD_AUTH_URL": "http://127.0.0.1:9/v2/auth/token",
        "KARD_CLIENT_ID": "id",
        "KARD_CLIENT_SECRET": "secret",
        "KARD_ORGANIZATION_ID": "org",
        "BFF_AUTH_MODE": "hs256",
        "BFF_JWT_SECRET": "s" * 32,
        "BFF_STATE_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    code = "from bff.server import worker_app; worker_app(threads=1)"
    loaded = _modules_loaded_by(code, prefixes=("bff.sandbox",), env=production)
    assert loaded == [], f"a production worker imports {loaded}"


def _modules_loaded_by(code: str, *, prefixes: tuple[str, ...], env=None) -> list[str]:
    """The modules under `prefixes` that `code` leaves loaded in a fresh interpreter."""
    probe = (
        f"import os, sys\n{code}\n"
        f"print(*sorted(m for m in sys.modules if m.startswith({prefixes!r})), flush=True)\n"
        "os._exit(0)\n"  # a worker's delivery threads would keep the process alive
    )
    found = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PACKAGE.parent,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return found.stdout.split()


def test_the_package_has_no_import_cycle():
    graph = _import_graph()
    cycles = {frozenset(knot) for knot in _knots(graph)}
    found = [_paths(sorted(knot), graph) for knot in cycles]
    assert not found, "import cycles:\n" + "\n".join(path for paths in found for path in paths)


def _import_graph() -> dict[str, set[str]]:
    """Each module of the package, and the package's modules it imports anywhere in it (in a
    function too). `from pkg import name` is the submodule when there is one, else pkg itself."""
    files = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    imported.add(submodule if submodule in files else base)
        graph[module] = {name for name in imported if name in files and name != module}
    return graph


def _knots(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    knots = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            knot = []
            while not knot or knot[-1] != module:
                knot.append(stack.pop())
            if len(knot) > 1:
                knots.append(knot)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return knots


def _paths(knot: list[str], graph: dict[str, set[str]]) -> list[str]:
    """Shortest cycles through the knot's modules, each shown as its import path, until every
    module of the knot is on one."""
    paths, covered = [], set()
    for start in knot:
        if start in covered:
            continue
        cycle = _shortest_cycle(start, graph, set(knot))
        covered.update(cycle)
        paths.append(" -> ".join(cycle))
    return paths


def _shortest_cycle(start: str, graph: dict[str, set[str]], knot: set[str]) -> list[str]:
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        for imported in sorted(graph[module] & knot):
            if imported == start:
                path = [module]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if imported not in came_from:
                came_from[imported] = module
                queue.append(imported)
    raise AssertionError(f"{start} is on no cycle")
