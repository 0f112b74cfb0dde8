"""What cxlog relies on inside Streamlit beyond its public API (#26), each
guarded so that an upgrade that changes it fails here, not in a store. The
list, with the other guards, is in docs/stack-facts.md ("What cxlog relies
on inside Streamlit")."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import streamlit
from streamlit import config
from streamlit.runtime.scriptrunner import script_runner

ROOT = Path(__file__).resolve().parent.parent
STATIC = Path(streamlit.__file__).parent / "static" / "static" / "js"
AIMED = re.compile(r"data-testid=\\?[\"']?([A-Za-z]+)")


def aimed_test_ids() -> dict[str, set[str]]:
    """Every data-testid our CSS and JS (in cxlog/ and pages/) aim at, by file."""
    found: dict[str, set[str]] = {}
    sources = [
        *ROOT.glob("cxlog/**/*.py"),
        *ROOT.glob("cxlog/**/*.js"),
        *ROOT.glob("cxlog/**/*.css"),
    ]
    for path in [*sources, *ROOT.glob("pages/*.py"), ROOT / "app.py"]:
        for test_id in AIMED.findall(path.read_text()):
            found.setdefault(test_id, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_data_testid_we_aim_at_is_in_streamlit_s_frontend():
    """CSS and the pad aim at Streamlit's data-testid attributes (touch
    targets, the huddle's print layout, the connection dialog). A renamed or
    dropped one silently stops a rule: 1.67 no longer draws stDecoration,
    which the huddle's print CSS still hid (removed in #26)."""
    bundle = "\n".join(p.read_text(errors="replace") for p in STATIC.glob("*.js"))
    aimed = aimed_test_ids()
    assert len(aimed) >= 15
    missing = {
        test_id: files
        for test_id, files in aimed.items()
        if not re.search(rf"[`\"']{test_id}[`\"']", bundle)
    }
    assert missing == {}


def test_the_guard_sees_a_test_id_streamlit_does_not_draw():
    assert "stDecoration" not in "\n".join(
        p.read_text(errors="replace") for p in STATIC.glob("*.js")
    )
    assert AIMED.findall('[data-testid="stDialog"] x; locator("[data-testid=stMain]")') == [
        "stDialog",
        "stMain",
    ]


def test_the_collection_after_every_run_is_still_ours_to_switch_off():
    """Streamlit runs gc.collect(2) after every script run unless
    runner.postScriptGC is off; cxlog switches it off (.streamlit/config.toml:
    ~40 ms per tap) and freezes the imported libraries for Python's own
    collections (cxlog/web/heap.py). A renamed option would turn it back on
    without a word."""
    assert config._config_options_template["runner.postScriptGC"].default_val is True
    ours = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert ours["runner"]["postScriptGC"] is False
    source = inspect.getsource(script_runner.ScriptRunner)
    assert 'if config.get_option("runner.postScriptGC"):\n            gc.collect(2)' in source
