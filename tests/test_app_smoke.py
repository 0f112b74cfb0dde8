"""Every page st.navigation lists runs without an exception (issue #2)."""

import pytest
from streamlit.testing.v1 import AppTest

from cxlog.web import navigation
from tests.conftest import ROOT, as_role
from tests.helpers.pages import open_page


def listed_pages() -> list[str]:
    """Every page file the router registers with st.navigation."""
    return [path for path, *_ in navigation.PAGES] + ["pages/account.py", "pages/setup.py"]


def test_every_page_file_is_registered():
    source = (ROOT / "app.py").read_text()
    assert "navigation.PAGES" in source and '"pages/account.py"' in source
    assert '"pages/setup.py"' in source
    on_disk = sorted(
        f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_")
    )
    assert sorted(listed_pages()) == on_disk


def app() -> AppTest:
    return open_page()


def test_first_run_shows_only_the_setup(storage, monkeypatch):
    monkeypatch.setenv("CXLOG_DB", storage.address)
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "Welcome to cxlog"


@pytest.mark.parametrize("page", [p for p in listed_pages() if p != "pages/setup.py"])
def test_each_page_runs_for_the_owner(app_env, page):
    at = as_role(app(), "owner").run()
    at.switch_page(page)
    at.run()
    assert not at.exception
    # The Log page's title ("Who is logging?") is drawn by its tap pad.
    pad = [e for e in at.main if getattr(e, "type", None) == "bidi_component"]
    assert at.title or (page == "pages/log.py" and pad), f"{page} shows no title"
