"""Fixtures of the reliability suite (issue #7)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def never_the_real_database(tmp_path_factory, monkeypatch):
    """A safety net: a test that forgets CXLOG_DB gets a throwaway file, never data/cxlog.db."""
    monkeypatch.setenv("CXLOG_DB", str(tmp_path_factory.mktemp("unset") / "cxlog.db"))


def pytest_collection_modifyitems(config, items):
    """Every test of this folder carries the ``reliability`` marker
    (``pytest -m reliability`` runs them alone, ``-m "not reliability"`` skips them)."""
    folder = Path(__file__).parent
    for item in items:
        if folder in Path(item.fspath).parents:
            item.add_marker(pytest.mark.reliability)
