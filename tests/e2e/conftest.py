"""A real server per test module on a free 127.0.0.1 port, with a temporary
seeded database. The `browser` and `screenshot` fixtures are in tests/conftest.py,
shared with the reliability suite (one sync Playwright per test session)."""

from __future__ import annotations

import pytest

from cxlog.stores import catalog
from tests.conftest import set_up
from tests.e2e import harness


@pytest.fixture(scope="module")
def served(tmp_path_factory, password_hashes):
    """A set-up store (two associates, owner and manager passwords) behind a
    real streamlit server."""
    folder = tmp_path_factory.mktemp("served")
    storage, store = set_up(folder / "cxlog.db", password_hashes)
    ana = catalog.add_associate(storage, store, "Ana", actor="test")
    ben = catalog.add_associate(storage, store, "Ben", actor="test")
    with harness.streamlit_server(storage.path, log=folder / "server.log") as url:
        yield {"url": url, "storage": storage, "store": store, "ana": ana, "ben": ben}
