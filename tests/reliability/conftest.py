"""Fixtures of the reliability suite (issue #7)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def never_the_real_database(tmp_path_factory, monkeypatch):
    """A safety net: a test that forgets CXLOG_DB gets a throwaway file, never data/cxlog.db."""
    monkeypatch.setenv("CXLOG_DB", str(tmp_path_factory.mktemp("unset") / "cxlog.db"))
