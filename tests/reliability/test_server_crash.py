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

from cxlog import catalog
from tests.conftest import set_up
from tests.e2e.harness import (
    ROOT,
    TABLET,
    by_key,
    free_port,
    server_flags,
    stop,
    tap_key,
    wait_healthy,
    wait_idle,
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
    classes = page.locator("[class*='st-key-card-']").evaluate_all(
        "els => els.map(e => [...e.classList].find(c => c.startsWith('st-key-card-')))"
    )
    return [c.removeprefix("st-key-card-") for c in classes]


def start_key(page) -> str:
    classes = page.locator("[class*='st-key-start-warm-']").first.get_attribute("class")
    key = next(c for c in classes.split() if c.startswith("st-key-start-warm-"))
    return key.removeprefix("st-key-")


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
        wait_idle(page)
        tap_key(page, f"name-{ana}")
        page.wait_for_selector(".st-key-start-row")
        wait_idle(page)
        old_start = start_key(page)
        page.locator(f".st-key-{old_start} button").click()
        page.wait_for_selector("[class*='st-key-card-']")
        (vid,) = card_ids(page)
        opened.append(vid)
        shift_url = page.url
        assert "shift=" in shift_url

        server.crash()
        server.start()

        # Same tab: Streamlit reconnects by itself and reruns the page on
        # the new server (a new session draws start buttons with a new
        # nonce), which finds the open visit in the database.
        page.wait_for_function(
            "old => { const b = document.querySelector(\"[class*='st-key-start-warm-']\");"
            " return b && !b.className.includes(old); }",
            arg=old_start,
            timeout=CARD_TIMEOUT_MS,
        )
        wait_idle(page)
        card = by_key(page, f"card-{vid}")
        card.wait_for(timeout=CARD_TIMEOUT_MS)
        assert card_ids(page) == [vid]
        screenshot(page, "reliability-after-server-crash")
        # The restarted server runs the router, not Streamlit's legacy list of
        # the raw pages/ files (cxlog.serve).
        assert page.locator("[data-testid='stSidebarNav']").count() == 0
        # A reload (or another tablet opening the same address) shows it too.
        page.goto(shift_url)
        wait_idle(page)
        card.wait_for(timeout=CARD_TIMEOUT_MS)
        assert card_ids(page) == [vid]

        tap_key(page, f"units-2-{vid}")
        page.get_by_text("Saved: purchase, 2 units", exact=True).wait_for()
    finally:
        context.close()
