"""Fixtures of the reliability suite (issue #7)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest

from tests.e2e import harness
from tests.e2e.conftest import screenshot  # noqa: F401

BROWSER_TEST_TIMEOUT_S = 120


@pytest.fixture(autouse=True)
def never_the_real_database(tmp_path_factory, monkeypatch):
    """A safety net: a test that forgets CXLOG_DB gets a throwaway file, never data/cxlog.db."""
    monkeypatch.setenv("CXLOG_DB", str(tmp_path_factory.mktemp("unset") / "cxlog.db"))


@pytest.fixture
def in_browser() -> Callable[[Callable], None]:
    """Run a browser test's body with a Chromium of its own, on a thread of its own.

    The e2e suite's session-wide `browser` fixture keeps a sync Playwright
    (and its event loop) open on the main thread until the session ends; a
    second fixture instance in this folder cannot start another one there
    ("Sync API inside the asyncio loop"). A fresh thread has no loop, so each
    body gets its own Playwright, started and stopped within the test.
    """
    path = harness.chromium_path()
    if path is None:
        if os.environ.get("CXLOG_REQUIRE_BROWSER"):
            pytest.fail("CXLOG_REQUIRE_BROWSER is set but no Chromium was found")
        pytest.skip("no Chromium installed (apt-get install chromium)")

    def run(body: Callable) -> None:
        failure: list[BaseException] = []

        def target() -> None:
            from playwright.sync_api import sync_playwright

            try:
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=path, args=harness.CHROMIUM_FLAGS
                    )
                    try:
                        body(browser)
                    finally:
                        browser.close()
            except BaseException as exc:  # handed to the test's own thread below
                failure.append(exc)

        thread = threading.Thread(target=target, name="browser-test", daemon=True)
        thread.start()
        thread.join(BROWSER_TEST_TIMEOUT_S)
        if thread.is_alive():
            pytest.fail(f"the browser test did not finish within {BROWSER_TEST_TIMEOUT_S} s")
        if failure:
            raise failure[0]

    return run
