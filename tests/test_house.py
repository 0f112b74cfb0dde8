"""The test suite's own house rules (issue #26): shared helpers live in
tests/helpers (and tests/e2e/harness.py for the browser), never in a test
module another imports, so any test module runs alone."""

from __future__ import annotations

import re
from pathlib import Path

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
