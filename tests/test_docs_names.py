"""The README and docs/ name only tests that exist (issue #24: docs named two
double-tap tests that had been deleted with the page they guarded)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.helpers import module_map

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEST_FILES = sorted((ROOT / "tests").rglob("test_*.py"))


def defined_tests(path: Path) -> set[str]:
    return set(re.findall(r"^\s*(?:async )?def (test_\w+)", path.read_text(), re.M))


def named_in_docs(docs: list[Path]) -> list[tuple[str, int, str]]:
    """(doc, line, token) for every test module, test function or
    ``file::function`` a doc names."""
    found = []
    for doc in docs:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            tokens = re.findall(r"[\w./]*test_\w+(?:\.py)?(?:::test_\w+)?", line)
            # Any file under tests/ too (a helper, a fixture).
            tokens += [t for t in re.findall(r"tests/[\w/]+\.py", line) if t not in tokens]
            found += [(doc.name, number, token) for token in tokens]
    return found


def missing_tests(docs: list[Path]) -> list[tuple[str, int, str]]:
    modules = {p.stem for p in TEST_FILES}
    functions = set().union(*(defined_tests(p) for p in TEST_FILES))
    missing = []
    for doc, number, token in named_in_docs(docs):
        path, _, function = token.partition("::")
        if function:
            file = ROOT / path
            if not file.is_file() or function not in defined_tests(file):
                missing.append((doc, number, token))
        elif path.endswith(".py") and "/" in path:
            if not (ROOT / path).is_file():
                missing.append((doc, number, token))
        else:
            name = Path(path).name.removesuffix(".py")
            if name not in modules and name not in functions:
                missing.append((doc, number, token))
    return missing


def test_every_test_the_docs_name_exists():
    assert len(named_in_docs(DOCS)) > 20
    assert missing_tests(DOCS) == []


def test_a_doc_naming_a_deleted_test_is_caught(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "Re-check: `tests/test_log_page.py::test_double_tap_on_start_logs_once`.\n"
        "Also `tests/e2e/test_log_browser.py::test_sixty_second_cut_loses_nothing`,"
        " `test_taps.py`, `tests/e2e/gone_helper.py` and test_no_such_thing.\n"
    )
    assert sorted((n, t) for _, n, t in missing_tests([doc])) == [
        (1, "tests/test_log_page.py::test_double_tap_on_start_logs_once"),
        (2, "test_no_such_thing"),
        (2, "tests/e2e/gone_helper.py"),
    ]


# --- files, modules, make targets and commands (issue #26 will lean on these) ---

PATH = re.compile(
    r"(?<![\w/.-])((?:cxlog|pages|tests|bench|docs|deploy|\.ci|\.streamlit)/[\w./@-]*[\w/]"
    r"|app\.py|Makefile|requirements(?:-dev)?\.txt)"
)
MODULE = re.compile(r"(?<![\w/.])cxlog\.([a-z_]+(?:\.[a-z_]+)*)")
MAKE = re.compile(r"`make ([a-z][\w-]*)")
COMMAND = re.compile(r"python -m cxlog ([a-z][\w-]*)")
# A command with what follows it on the line, up to the end of its code span.
COMMAND_LINE = re.compile(r"python -m cxlog ([a-z][\w-]*)([^`]*)")
FLAG = re.compile(r"(?<![\w-])(--[a-z][\w-]*)")


def command_flags() -> dict[str, set[str]]:
    """Each ``python -m cxlog`` command's flags, as its parser knows them."""
    import argparse

    from cxlog import cli

    parser = cli.build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {
        name: {flag for action in sub._actions for flag in action.option_strings}
        for name, sub in commands.choices.items()
    }


def lines_of(docs: list[Path]):
    for doc in docs:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            yield doc.name, number, line


def module_exists(dotted: str) -> bool:
    """cxlog.<dotted> names a module or package, or a name defined at the top
    of one (``cxlog.numbers.derived.rebuild``)."""
    parts = dotted.split(".")
    folder = ROOT / "cxlog" / Path(*parts)
    if folder.with_suffix(".py").exists() or (folder / "__init__.py").exists():
        return True
    owner = ROOT / "cxlog" / Path(*parts[:-1]) if len(parts) > 1 else None
    if owner is None:
        return False
    source = owner.with_suffix(".py")
    if not source.exists():
        source = owner / "__init__.py"
    return source.exists() and bool(
        re.search(rf"^(def|class) {parts[-1]}\b|^{parts[-1]}\b.*=", source.read_text(), re.M)
    )


def missing_things(docs: list[Path]) -> list[tuple[str, int, str]]:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    cli = (ROOT / "cxlog" / "cli.py").read_text()
    commands = set(re.findall(r'add_parser\(\s*"([\w-]+)"', cli))
    flags = command_flags()
    missing = []
    for doc, number, line in lines_of(docs):
        for path in PATH.findall(line):
            if not (ROOT / path.rstrip("/")).exists():
                missing.append((doc, number, path))
        for module in MODULE.findall(line):
            # cxlog.example.lan: a host name
            if not module.startswith("example") and not module_exists(module):
                missing.append((doc, number, f"cxlog.{module}"))
        for target in MAKE.findall(line):
            if target not in targets:
                missing.append((doc, number, f"make {target}"))
        for command in COMMAND.findall(line):
            if command not in commands:
                missing.append((doc, number, f"python -m cxlog {command}"))
        for command, rest in COMMAND_LINE.findall(line):
            known = flags.get(command, set())
            for flag in FLAG.findall(rest):
                if command in flags and flag not in known:
                    missing.append((doc, number, f"python -m cxlog {command} {flag}"))
    return missing


def test_docs_name_only_files_modules_targets_and_commands_that_exist():
    assert missing_things(DOCS) == []


def test_every_command_is_in_the_readme():
    cli = (ROOT / "cxlog" / "cli.py").read_text()
    commands = set(re.findall(r'add_parser\(\s*"([\w-]+)"', cli))
    assert len(commands) >= 8
    readme = (ROOT / "README.md").read_text()
    assert {c for c in commands if f"python -m cxlog {c}" not in readme} == set()


def test_a_doc_naming_a_missing_file_module_target_or_command_is_caught(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "See `cxlog/gone.py`, `cxlog.vanished.thing`, `make deploy-moon` and"
        " `python -m cxlog teleport`; `cxlog/visits/visits.py`, `make test` and"
        " `python -m cxlog migrate` exist. `cxlog.numbers.derived.rebuild` and"
        " `cxlog.storage` exist; `cxlog.numbers.derived.nowhere` does not.\n"
        "`python -m cxlog rollup --rebuild --db x` exists; `python -m cxlog export --colour` not.\n"
    )
    assert sorted(t for _, _, t in missing_things([doc])) == [
        "cxlog.numbers.derived.nowhere",
        "cxlog.vanished.thing",
        "cxlog/gone.py",
        "make deploy-moon",
        "python -m cxlog export --colour",
        "python -m cxlog teleport",
    ]


def test_the_module_map_is_made_from_the_code():
    """docs/architecture.md's module map lists every module under its wing
    with its docstring's first sentence: a new, moved or renamed module fails
    here until the map is made again."""
    assert module_map.in_doc() == module_map.module_map(), (
        "run: .venv/bin/python -m tests.helpers.module_map --write"
    )


def test_the_module_map_sees_a_module_it_does_not_list(tmp_path, monkeypatch):
    fake = tmp_path / "cxlog"
    shutil.copytree(ROOT / "cxlog", fake, ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
    (fake / "visits" / "brand_new.py").write_text('"""A module nobody mapped."""\n')
    monkeypatch.setattr(module_map, "ROOT", tmp_path)
    made = module_map.module_map()
    assert "| `cxlog/visits/brand_new.py` | A module nobody mapped. |" in made
    assert made != module_map.in_doc()
