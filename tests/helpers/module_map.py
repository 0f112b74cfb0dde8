"""docs/architecture.md's module map, made from the code (#26): a section per
wing (its __init__ docstring's first paragraph) and a row per module (its
docstring's first sentence), so the map cannot drift from the house.

    .venv/bin/python -m tests.helpers.module_map --write   # after adding a module
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
BEGIN = "<!-- module map: made by tests/helpers/module_map.py; edit the docstrings -->"
END = "<!-- end of module map -->"
ENTRY_POINTS = ("cli", "__main__", "demo", "serve", "local_chain")


def _first_sentence(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    match = re.match(r"(.+?\.)(\s|$)", paragraph)
    return (match.group(1) if match else paragraph).replace("|", "\\|")


def _paragraph(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def _may_import(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    found = re.search(r"May import:\s*(.+)", doc, re.S)
    return " ".join(found.group(1).split()) if found else ""


def module_map() -> str:
    package = ROOT / "cxlog"
    lines = [BEGIN, "", "Entry points, at the top of `cxlog/`:", ""]
    lines += ["| module | one job |", "| --- | --- |"]
    for name in ENTRY_POINTS:
        path = package / f"{name}.py"
        lines.append(f"| `cxlog/{name}.py` | {_first_sentence(path)} |")
    wings = sorted(p.parent for p in package.glob("*/__init__.py"))
    for wing in wings:
        init = wing / "__init__.py"
        lines += ["", f"### `cxlog/{wing.name}/`", "", _paragraph(init)]
        if may := _may_import(init):
            lines += ["", f"May import: {may}"]
        lines += ["", "| module | one job |", "| --- | --- |"]
        for path in sorted(wing.rglob("*.py")):
            if path.name == "__init__.py" and path.parent == wing:
                continue
            shown = path.relative_to(ROOT).as_posix()
            if path.name == "__init__.py":
                shown = path.parent.relative_to(ROOT).as_posix() + "/"
            lines.append(f"| `{shown}` | {_first_sentence(path)} |")
    lines += ["", END]
    return "\n".join(lines)


def in_doc() -> str:
    text = DOC.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def write() -> None:
    text = DOC.read_text()
    DOC.write_text(text.replace(in_doc(), module_map()))


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(module_map())
