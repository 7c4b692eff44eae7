"""The layers of server/ (docs/architecture.md), checked by walking every import.

    api, live  →  domain, printing, forwarding  →  store
    (app.py, cli.py, keys.py, settings.py, housekeeping.py assemble them)

A module may import its own layer and the layers below it, never above; the
domain knows nothing of aiohttp; there are no import cycles; and no module is
over ~400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"server": "clearhall.server", "printer": "clearhall.printer"}
# What each layer of the server may import, besides itself and the printer library.
MAY_IMPORT = {
    "store": set(),
    "domain": {"store"},
    "printing": {"domain", "store"},
    "forwarding": {"domain", "store"},
    "api": {"domain", "printing", "forwarding", "store", "assembly"},
    "live": {"domain", "store", "assembly", "api"},
    "assembly": {"api", "live", "domain", "printing", "forwarding", "store"},
}
LONGEST = 420  # "about 400"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGES[parts[0]], *parts[1:]])


def sources() -> dict[str, Path]:
    return {module_name(p): p for top in PACKAGES for p in (ROOT / top).rglob("*.py")}


def imports(name: str, path: Path) -> set[str]:
    """The clearhall modules `name` imports at module level or in functions (not under TYPE_CHECKING)."""
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], base]).strip(".")
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("clearhall.")}


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[1] != "server":
        return None  # the printer library: below everything, imports nothing of the server
    if len(parts) >= 3 and parts[2] in MAY_IMPORT:
        return parts[2]
    return "assembly"


def known(modules: dict[str, Path], name: str) -> str | None:
    """`name` itself if it is a module, or the module it names something in."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = sources()
    edges = {}
    for name, path in modules.items():
        edges[name] = {m for m in (known(modules, i) for i in imports(name, path)) if m and m != name}
    return edges


def test_imports_point_down(graph: dict[str, set[str]]) -> None:
    wrong = []
    for source, targets in graph.items():
        for target in targets:
            src, dst = layer(source), layer(target)
            if src is None:  # the printer library imports only itself
                if dst is not None:
                    wrong.append(f"{source} → {target}")
            elif dst is not None and dst != src and dst not in MAY_IMPORT[src]:
                wrong.append(f"{source} ({src}) → {target} ({dst})")
    assert not wrong, "imports that point up a layer:\n" + "\n".join(sorted(wrong))


def test_the_domain_knows_nothing_of_http() -> None:
    for name, path in sources().items():
        if layer(name) in ("domain", "store"):
            text = path.read_text(encoding="utf-8")
            assert "import aiohttp" not in text and "from aiohttp" not in text, name


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        assert node not in visiting, "import cycle: " + " → ".join([*visiting[visiting.index(node) :], node])
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            visit(target)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def test_no_module_is_too_long() -> None:
    """Every Python module and page script of the project, tests and benchmarks too;
    vendored libraries are not ours to split."""
    files = [
        p
        for pattern in ("*.py", "*.js")
        for top in ("server", "printer", "kiosk", "display", "tests", "bench")
        for p in (ROOT / top).rglob(pattern)
        if "vendor" not in p.parts and "__pycache__" not in p.parts
    ]
    assert len(files) > 100
    long = {
        str(p.relative_to(ROOT)): n
        for p in files
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > LONGEST
    }
    assert not long, f"modules over {LONGEST} lines: {long}"


def test_the_walk_sees_the_layers(graph: dict[str, set[str]]) -> None:
    """The checks above would pass on an empty graph: make sure they look at the real one."""
    assert "clearhall.server.domain.calling" in graph["clearhall.server.domain.window_calls"]
    assert "clearhall.server.domain.tickets" in graph["clearhall.server.domain.issuing"]
    assert {layer(m) for m in graph} == {None, *MAY_IMPORT}
