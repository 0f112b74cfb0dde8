"""Fixtures of the reliability suite (issue #7). The browser fixture is the
e2e suite's: Debian's Chromium through Playwright, skipped without it unless
CXLOG_REQUIRE_BROWSER is set."""

import pytest

from tests.e2e.conftest import browser, screenshot  # noqa: F401


@pytest.fixture(autouse=True)
def never_the_real_database(tmp_path_factory, monkeypatch):
    """A safety net: a test that forgets CXLOG_DB gets a throwaway file, never data/cxlog.db."""
    monkeypatch.setenv("CXLOG_DB", str(tmp_path_factory.mktemp("unset") / "cxlog.db"))
