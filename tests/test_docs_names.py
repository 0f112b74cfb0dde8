"""The README and docs/ name only tests that exist (issue #24: docs named two
double-tap tests that had been deleted with the page they guarded)."""

from __future__ import annotations

import re
from pathlib import Path

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
