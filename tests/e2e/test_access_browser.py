"""A new device that opens a restricted page's URL sees the sign-in, never data (#4)."""

import pytest

from tests.conftest import MANAGER_PASSWORD, set_up
from tests.e2e.harness import PHONE, TABLET, sign_in_with_password, wait_idle

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["dashboard", "visits", "settings", "export"])
def test_direct_url_shows_the_sign_in(browser, served, path):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{served['url']}/{path}")
    wait_idle(page)
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.locator("[data-testid='stDataFrame'], .stPlotlyChart").count() == 0
    assert "Corner Shop" not in page.inner_text("body")
    context.close()


def test_manager_signs_in_and_sees_settings(browser, served, screenshot):
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    page.goto(f"{served['url']}/settings")
    wait_idle(page)
    # The form drawn whole, labels included, before the picture is taken.
    page.get_by_text("Your name (as your account was made)").wait_for()
    screenshot(page, "sign-in-tablet")
    sign_in_with_password(page, MANAGER_PASSWORD)
    page.get_by_role("heading", name="Settings").wait_for()
    wait_idle(page)
    page.locator("[data-testid='stDataFrame'] canvas").first.wait_for()
    page.get_by_text("Change an associate").wait_for()
    screenshot(page, "settings-tablet")
    page.set_viewport_size(PHONE)
    wait_idle(page)
    screenshot(page, "settings-phone")
    context.close()


@pytest.mark.parametrize("entry", ["cxlog.serve", "streamlit run"])
@pytest.mark.parametrize("path", ["settings", "setup"])
def test_fresh_server_direct_urls_are_guarded(browser, tmp_path, password_hashes, path, entry):
    """The very first request to a newly started server is a direct URL (a tablet
    reconnecting after a restart). Started by cxlog.serve (as `make run` does)
    the router handles it; started by plain `streamlit run app.py`, Streamlit
    runs the page without the router, and the pages' own guards must hold:
    still the sign-in, and /setup cannot reset the owner's password."""
    from tests.e2e import harness

    storage, _ = set_up(tmp_path / "fresh.db", password_hashes)
    script = None if entry == "cxlog.serve" else harness.ROOT / "app.py"
    with harness.streamlit_server(storage.path, script=script, log=tmp_path / "server.log") as url:
        page = browser.new_page(viewport=TABLET)
        page.goto(f"{url}/{path}")
        wait_idle(page)
        assert page.locator("[data-testid='stException']").count() == 0
        if path == "settings":
            page.get_by_role("heading", name="Sign in").wait_for()
        elif entry == "streamlit run":
            page.get_by_role("heading", name="Already set up").wait_for()
        else:  # the router does not register Setup once set up: the Log page opens
            page.get_by_role("heading", name="Who is logging?").wait_for()
        body = page.inner_text("body")
        assert "Welcome to cxlog" not in body
        # The legacy menu lists raw file names such as "setup"; the router never does.
        menu = page.locator("[data-testid='stSidebarNav'], [data-testid='stTopNavLink']")
        assert ("setup" in " ".join(menu.all_inner_texts()).split()) == (entry == "streamlit run")
        page.close()
