"""Streamlit's legacy pages mode, which cxlog.serve ends (docs/architecture.md).

cxlog keeps its pages in a pages/ folder beside app.py. Streamlit 1.67 then
starts every new server process as a legacy multipage app (the raw file list
as a menu, a page's URL run without the router) until the first
st.navigation call; the only switch is the internal
``PagesManager.uses_pages_directory``. These tests fail on a Streamlit upgrade
that changes any of that: then revisit cxlog.serve.end_legacy_pages_mode and
the architecture doc. The browser test
tests/e2e/test_access_browser.py::test_fresh_server_direct_urls_are_guarded
shows the same on real servers.
"""

from __future__ import annotations

import inspect
import re

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner

from cxlog import serve
from tests.conftest import ROOT


@pytest.fixture
def fresh_process(monkeypatch):
    """The flag as in a process where no session has started yet."""
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)


def test_a_pages_folder_still_starts_streamlit_in_legacy_mode(fresh_process):
    assert (ROOT / "pages").is_dir() and (ROOT / "app.py").is_file()
    PagesManager(str(ROOT / "app.py"))  # what each new session makes
    assert PagesManager.uses_pages_directory is True


def test_the_legacy_mode_runs_the_pages_folder_instead_of_app_py():
    source = inspect.getsource(script_runner)
    assert re.search(
        r"if PagesManager\.uses_pages_directory:\s+_mpa_v1\(self\._main_script_path\)", source
    )
    assert '"pages"' in inspect.getsource(script_runner._mpa_v1)


def test_cxlog_serve_ends_the_legacy_mode_before_the_first_session(fresh_process):
    serve.end_legacy_pages_mode()
    PagesManager(str(ROOT / "app.py"))
    assert PagesManager.uses_pages_directory is False


def test_a_renamed_flag_stops_the_server_with_a_sentence(monkeypatch):
    monkeypatch.delattr(PagesManager, "uses_pages_directory")
    with pytest.raises(RuntimeError, match="legacy pages mode"):
        serve.end_legacy_pages_mode()
