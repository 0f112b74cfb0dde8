"""The house rules (issue #26), for the tests and for cxlog: shared test
helpers live in tests/helpers (and tests/e2e/harness.py for the browser),
never in a test module another imports, so any test module runs alone; no
module of cxlog imports itself round a circle, and the import contracts
(pyproject.toml) fail when one is planted."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
IMPORTS_A_TEST = re.compile(r"^\s*(?:from|import)\s+tests\.(?:\w+\.)*test_\w+", re.M)


def test_no_test_module_imports_another():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if IMPORTS_A_TEST.search(path.read_text())
    ]
    assert offenders == []


def test_the_rule_sees_an_import_of_a_test_module():
    for line in (
        "from tests.test_log_page import device",
        "    from tests.e2e.test_log_browser import card",
        "import tests.reliability.test_load",
    ):
        assert IMPORTS_A_TEST.search(line), line
    assert not IMPORTS_A_TEST.search("from tests.helpers.pages import device")


def _circles(graph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.find_modules_directly_imported_by(nxt)))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def test_no_module_of_cxlog_imports_itself_round_a_circle():
    """The floors (pyproject.toml, lint-imports) keep circles out between
    wings; this keeps them out inside a wing too, lazy imports included."""
    assert _circles(grimp.build_graph("cxlog")) == []


def test_the_circle_finder_sees_a_circle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    class Graph:
        modules = frozenset(edges)

        def find_modules_directly_imported_by(self, module):
            return edges[module]

    assert _circles(Graph()) == [["a", "b", "c"]]


def test_a_planted_circle_breaks_the_import_contracts(tmp_path):
    """`make lint` (so `make test`) runs lint-imports; a core module importing
    the server, which imports it back, must fail it."""
    shutil.copytree(ROOT / "cxlog", tmp_path / "cxlog", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    money = tmp_path / "cxlog" / "core" / "money.py"
    money.write_text(money.read_text() + "\nfrom cxlog.server import server  # planted\n")
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "cxlog.core.money -> cxlog.server.server (l." in done.stdout, done.stdout
    kept = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert kept.returncode == 0, kept.stdout


PAGE_LIMIT = 250
# What a page may not import: the server, storage's insides and the derived
# tables behind the numbers, or a data library (the domain reads; pages draw).
PAGE_FORBIDDEN = (
    "cxlog.server",
    "cxlog.storage.migrations",
    "cxlog.numbers.rollups",
    "cxlog.numbers.facts",
    "cxlog.numbers.derived",
    "cxlog.numbers.coverage_sums",
    "sqlite3",
    "sqlite_utils",
    "pandas",
    "numpy",
    "plotly",
    "zoneinfo",
)


def _imported(source: str) -> set[str]:
    """Every module (or module.name) an import statement in ``source`` names."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def _reaching(source: str) -> set[str]:
    return {
        name
        for name in _imported(source)
        for bad in PAGE_FORBIDDEN
        if name == bad or name.startswith(bad + ".")
    }


def test_pages_only_draw():
    """#26: a page is under 250 lines and imports Streamlit, cxlog/web/ and the
    domain's entry points, never what is beneath them."""
    pages = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    long = {p.name: n for p in pages if (n := len(p.read_text().splitlines())) > PAGE_LIMIT}
    assert long == {}
    reaching = {p.name: _reaching(p.read_text()) for p in pages}
    assert {k: v for k, v in reaching.items() if v} == {}


def test_the_page_rule_sees_a_page_reaching_under_the_domain():
    for line in (
        "from cxlog.numbers import rollups",
        "from cxlog.numbers.facts import read",
        "import sqlite3",
        "from zoneinfo import ZoneInfo",
        "from cxlog.server import server",
    ):
        assert _reaching(line), line
    assert not _reaching("from cxlog.numbers import figures")


# An import written inside a string (a child process's code in bench/ and
# tests/) is not checked by ruff or the import contracts: #26's move left one
# naming a module where it no longer is.
IMPORT_TEXT = re.compile(r"from (cxlog[\w.]*) import ([\w ,]+)")


def test_imports_written_in_strings_name_what_exists():
    import importlib

    missing = []
    for path in [
        *ROOT.glob("bench/*.py"),
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("cxlog/**/*.py"),
    ]:
        if path.name == "test_house.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            for module, names in IMPORT_TEXT.findall(node.value):
                owner = importlib.import_module(module)
                for name in (n.strip() for n in names.split(",") if n.strip()):
                    if not hasattr(owner, name):
                        try:
                            importlib.import_module(f"{module}.{name}")
                        except ModuleNotFoundError:
                            missing.append(f"{path.relative_to(ROOT)}: {module}.{name}")
    assert missing == []
