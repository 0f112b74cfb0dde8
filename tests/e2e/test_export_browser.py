"""The Export page in Chromium against the real server (#6): the owner signs
in, prepares the visits CSV and the backup, and the browser downloads them."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import OWNER_PASSWORD, new_id
from tests.e2e.harness import by_key, sign_in_with_password, wait_idle

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def week(served):
    storage = served["storage"]
    # A manager-typed name that looks like a formula: must arrive as text.
    catalog.rename_associate(storage, served["ben"], "=Ben+1", actor="test")
    now = datetime.now(UTC)
    for i in range(6):
        vid = new_id()
        who = served["ana"] if i % 2 else served["ben"]
        visits.create_visit(
            storage, vid, served["store"], who, "warm", at=now - timedelta(days=i, hours=1)
        )
        visits.record_purchase(storage, vid, 1 + i, amount_cents=1000 + i, actor="test")
    return served


def fetch_once(page, url: str, key: str) -> bytes:
    """Follow a prepared download link as this browser (its cookies), once;
    the same link again, or from a browser without the sign-in, gives no file
    (issue #25)."""
    link = by_key(page, key).locator("a")
    link.wait_for()
    href = link.get_attribute("href")
    assert href.startswith("/api/v1/downloads/")
    got = page.context.request.get(url + href)
    assert got.status == 200 and got.headers["cache-control"] == "no-store"
    assert got.headers["content-disposition"].startswith("attachment;")
    body = got.body()
    assert page.context.request.get(url + href).status == 404  # once
    return body


def test_owner_downloads_the_visits_csv_and_a_backup(browser, week, screenshot, tmp_path):
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{week['url']}/export")
    wait_idle(page)
    sign_in_with_password(page, OWNER_PASSWORD, "owner")
    page.get_by_role("heading", name="Export").wait_for()
    wait_idle(page)
    assert "6 visits" in page.inner_text("body")

    by_key(page, "export-visits-prepare").locator("button").click()
    saved = tmp_path / "visits.csv"
    saved.write_bytes(fetch_once(page, week["url"], "export-visits-download"))
    frame = pd.read_csv(io.BytesIO(saved.read_bytes()), dtype=str, keep_default_na=False)
    assert len(frame) == 6
    assert set(frame["associate"]) == {"Ana", "'=Ben+1"}
    assert sorted(frame["units"].astype(int)) == [1, 2, 3, 4, 5, 6]

    by_key(page, "export-backup-make").locator("button").click()
    by_key(page, "export-backup-download").wait_for()
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "export-laptop")
    copy = tmp_path / "backup.db"
    copy.write_bytes(fetch_once(page, week["url"], "export-backup-download"))
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 6
    context.close()
