"""The layers of server/ (docs/architecture.md), checked by walking every import.

    api, live  →  domain, printing, forwarding  →  store
    (app.py, cli.py, keys.py, settings.py, housekeeping.py assemble them)

A module may import its own layer and the layers below it, never above; the
domain knows nothing of aiohttp; there are no import cycles; no module is over
~400 lines; every sentence for a person is written in the catalogue; and a test
module imports no other test module (what tests share is in a helpers module).
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
    "live": {"domain", "store", "assembly"},
    "assembly": {"api", "live", "domain", "printing", "forwarding", "store"},
}
LONGEST = 420  # "about 400"
# The one catalogue of sentences for a person (docs/architecture.md), and the `Text` they are.
CATALOGUE = {f"clearhall.server.domain.{m}" for m in ("messages", "booking_texts", "signal_texts", "text")}


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


def aiohttp_imports(source: str) -> list[str]:
    """Every import of aiohttp or a module of it in `source`, however written (and even
    under TYPE_CHECKING: the domain's types do not come from HTTP either)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "aiohttp"]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module.split(".")[0] == "aiohttp":
                found.append(node.module)
    return found


def test_the_check_for_aiohttp_sees_every_way_to_import_it() -> None:
    for source in ("import asyncio, aiohttp", "import aiohttp.web as w", "from aiohttp import web",
                   "from aiohttp.web import Request", "def f():\n    import aiohttp"):  # fmt: skip
        assert aiohttp_imports(source), source
    for source in ("import aiohttp_jinja2", "from .aiohttp import x", "import asyncio  # aiohttp"):
        assert not aiohttp_imports(source), source


def test_the_domain_knows_nothing_of_http() -> None:
    checked = 0
    for name, path in sources().items():
        if layer(name) in ("domain", "store"):
            assert not aiohttp_imports(path.read_text(encoding="utf-8")), name
            checked += 1
    assert checked > 50


def sentences_outside(source: str) -> list[str]:
    """Sentences `source` writes itself: a `Text(...)` of words (separators such as "、"
    are not words), or a catalogue text filled in by hand (`X.zh.format(...)`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id == "Text":
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                written = [
                    c for c in ast.walk(arg) if isinstance(c, ast.Constant) and isinstance(c.value, str)
                ]
                if any(ch.isalpha() for c in written for ch in str(c.value)):
                    found.append(f"line {node.lineno}: {ast.unparse(node)[:60]}")
                    break
        elif isinstance(f, ast.Attribute) and f.attr == "format" and isinstance(f.value, ast.Attribute):
            if f.value.attr in ("zh", "en"):
                found.append(f"line {node.lineno}: {ast.unparse(node)[:60]}")
    return found


def test_the_check_for_sentences_sees_them() -> None:
    for source in ('Text("等候超时", "long wait")', 'Text(zh="空岗", en="empty post")',
                   'Text(f"{n} 号", "no. " + n)', "Text(T.zh.format(state=zh), T.en.format(state=en))"):  # fmt: skip
        assert sentences_outside(source), source
    for source in ('Text("、".join(zh), ", ".join(en))', "Text(exc.reason, exc.reason)", "messages.NO_WINDOW(number=3)",
                   '"{} {}".format(a, b)'):  # fmt: skip
        assert not sentences_outside(source), source


def test_every_sentence_is_in_the_catalogue() -> None:
    """messages.py, with booking_texts.py and signal_texts.py beside the rules they word, are
    the one catalogue: a module elsewhere names a text from it, and fills it by calling it."""
    modules = {n: p for n, p in sources().items() if n not in CATALOGUE}
    assert len(modules) > 100
    wrong = {
        n: found for n, p in modules.items() if (found := sentences_outside(p.read_text(encoding="utf-8")))
    }
    assert not wrong, f"sentences written outside the catalogue: {wrong}"


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


def imports_of_tests(source: str, package: str) -> list[str]:
    """The test modules (`tests.….test_*`) that `source`, a module of `package`, imports from."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], base]).strip(".")
            found += [base, *(f"{base}.{a.name}" for a in node.names)]
    return [m for m in found if m.startswith("tests.") and m.rpartition(".")[2].startswith("test_")]


def test_the_check_for_test_imports_sees_every_way_to_write_one() -> None:
    for source in ("from tests.pages.test_kiosk import X", "import tests.api.test_access",
                   "from tests.pages import test_kiosk", "from .test_kiosk import X",
                   "from . import test_kiosk"):  # fmt: skip
        assert imports_of_tests(source, "tests.pages"), source
    for source in ("from tests.pages.helpers import Hall", "from tests.conftest import Api",
                   "from aiohttp.test_utils import TestServer", "import pytest"):  # fmt: skip
        assert not imports_of_tests(source, "tests.pages"), source


def test_no_test_module_imports_another() -> None:
    """A piece two test modules share lives in a helpers module (tests/helpers.py,
    tests/pages/helpers.py), not in one of them: a test module runs alone."""
    files = [p for p in (ROOT / "tests").rglob("*.py") if "__pycache__" not in p.parts]
    assert len(files) > 100
    wrong = {}
    for path in files:
        package = ".".join(path.relative_to(ROOT).parent.parts)
        if found := imports_of_tests(path.read_text(encoding="utf-8"), package):
            wrong[str(path.relative_to(ROOT))] = found
    assert not wrong, f"test modules importing from test modules: {wrong}"
