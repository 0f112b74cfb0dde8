"""Browser fixtures: Debian's Chromium via Playwright, a real server per test
module on a free 127.0.0.1 port, with a temporary seeded database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cxlog import access, catalog
from cxlog.db import Storage
from tests.e2e import harness

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture(scope="session")
def browser():
    path = harness.chromium_path()
    if path is None:
        if os.environ.get("CXLOG_REQUIRE_BROWSER"):
            pytest.fail("CXLOG_REQUIRE_BROWSER is set but no Chromium was found")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=harness.CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory, password_hashes):
    """A set-up store (two associates, owner and manager passwords) behind a
    real streamlit server."""
    folder = tmp_path_factory.mktemp("served")
    storage = Storage(folder / "cxlog.db")
    storage.migrate()
    for role, hashed in password_hashes.items():
        access.set_setting(storage, f"password_hash:{role}", hashed, actor="test")
    store = catalog.create_store(storage, "Corner Shop", "Europe/London")
    ana = catalog.add_associate(storage, store, "Ana", actor="test")
    ben = catalog.add_associate(storage, store, "Ben", actor="test")
    with harness.streamlit_server(storage.path, log=folder / "server.log") as url:
        yield {"url": url, "storage": storage, "store": store, "ana": ana, "ben": ben}


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        """The whole page, however long: the viewport grows to the content."""
        path = SCREENSHOTS / f"{name}.png"
        size = page.viewport_size
        height = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
            "[data-testid=stAppScrollToBottomContainer]')].map(e => e.scrollHeight), 0)"
        )
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
        page.screenshot(path=path)
        page.set_viewport_size(size)
        return path

    return take
