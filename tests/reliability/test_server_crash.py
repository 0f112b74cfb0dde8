"""Server crash in the browser (issue #7): the `streamlit run` process is
SIGKILLed while a visit is open on a tablet, then started again on the same
address. The tablet's open visit card comes back, in the same tab and after a
reload, and can be closed: the visit lived in the database, not in the
server's memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlite_utils

from cxlog.stores import catalog
from tests.conftest import set_up
from tests.e2e.harness import (
    ROOT,
    TABLET,
    free_port,
    server_flags,
    stop,
    wait_healthy,
)

pytestmark = pytest.mark.browser
CARD_TIMEOUT_MS = 30_000


class Server:
    """The cxlog server on a fixed 127.0.0.1 port, so a restart keeps the address
    the tablet has open. Killed by its process group id (its own session)."""

    def __init__(self, db_path: Path, log: Path) -> None:
        self.db_path, self.log = db_path, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            # Started as `make run` starts it (python -m cxlog.serve).
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cxlog.serve", *server_flags(self.port)],
                cwd=ROOT,
                env={**os.environ, "CXLOG_DB": str(self.db_path)},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_healthy(self.url, self.process)

    def crash(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a power cut or an OOM kill."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def running(db_path: Path, log: Path) -> Iterator[Server]:
    server = Server(db_path, log)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            stop(server.process)


@pytest.fixture
def seeded(tmp_path, password_hashes):
    storage, store = set_up(tmp_path / "cxlog.db", password_hashes)
    ana = catalog.add_associate(storage, store, "Ana", actor="test")
    return storage, ana


def card_ids(page) -> list[str]:
    return page.locator(".cx-card").evaluate_all("els => els.map(e => e.dataset.visit)")


def test_open_visit_card_survives_a_server_crash(browser, seeded, tmp_path, screenshot):
    storage, ana = seeded
    opened: list[str] = []
    with running(storage.path, tmp_path / "server.log") as server:
        crash_with_a_visit_open(browser, server, ana, opened, screenshot)
    (vid,) = opened
    row = next(sqlite_utils.Database(storage.path).query("SELECT * FROM visits"))
    assert (row["id"], row["outcome"], row["units"]) == (vid, "purchased", 2)


def crash_with_a_visit_open(browser, server: Server, ana: int, opened: list, screenshot) -> None:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    try:
        page.goto(server.url)
        page.locator(f"[data-associate='{ana}']").click()
        page.locator("[data-start=warm]").wait_for(timeout=CARD_TIMEOUT_MS)
        page.locator("[data-start=warm]").click()
        page.locator(".cx-card[data-state=saved]").wait_for(timeout=CARD_TIMEOUT_MS)
        (vid,) = card_ids(page)
        opened.append(vid)
        assert "shift=" not in page.url  # the shift is in an HttpOnly cookie

        server.crash()
        server.start()

        # Same tab: Streamlit reconnects by itself and reruns the page on
        # the new server, which finds the open visit in the database.
        page.wait_for_function(
            "() => !document.querySelector('[data-testid=stApp][data-test-connection-state]')"
            " || document.querySelector('[data-testid=stApp]').dataset.testConnectionState"
            " === 'CONNECTED'",
            timeout=CARD_TIMEOUT_MS,
        )
        card = page.locator(f".cx-card[data-visit='{vid}']")
        card.wait_for(timeout=CARD_TIMEOUT_MS)
        assert card_ids(page) == [vid]
        screenshot(page, "reliability-after-server-crash")
        # The restarted server runs the router, not Streamlit's legacy list of
        # the raw pages/ files (cxlog.serve).
        assert page.locator("[data-testid='stSidebarNav']").count() == 0
        # A reload (or another tab of this tablet) shows it too.
        page.goto(server.url)
        card.wait_for(timeout=CARD_TIMEOUT_MS)
        assert card_ids(page) == [vid]

        card.locator("[data-tap=purchase][data-value='2']").click()
        card.get_by_text("Saved: purchase, 2 units", exact=True).wait_for(timeout=CARD_TIMEOUT_MS)
    finally:
        context.close()
