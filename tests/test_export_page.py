"""The Export page through AppTest (issue #6): the owner prepares and gets the
files; a manager gets the sign-in form and no data."""

from __future__ import annotations

import io
import sqlite3
from datetime import date

import pandas as pd
from starlette.applications import Starlette
from streamlit.testing.v1 import AppTest

from cxlog.access import sessions
from cxlog.export import downloads
from cxlog.export.export import ExportSelection
from cxlog.server import api
from tests.conftest import as_role, log_visit_in, utc
from tests.helpers import asgi
from tests.helpers.pages import open_page


def page(role: str | None) -> AppTest:
    at_ = open_page()
    if role:
        as_role(at_, role)
    at_.run()
    at_.switch_page("pages/export.py")
    return at_.run()


def seed(storage, shop) -> list[str]:
    """Three purchases in November (the ids, in order), a voided visit and
    one in December."""
    bought = [
        log_visit_in(storage, shop, utc(f"2026-11-{day:02d}T10:00:00+00:00"), units=1, amount=999)
        for day in (3, 4, 5)
    ]
    log_visit_in(
        storage, shop, utc("2026-11-04T11:00:00+00:00"), "missed", no_sale="Price", voided=True
    )
    log_visit_in(storage, shop, utc("2026-12-04T11:00:00+00:00"), "neutral")  # outside the range
    return bought


def fetched(storage, at_: AppTest, token: str) -> downloads.File:
    """The file behind a prepared link, fetched as this tab's owner session."""
    return downloads.make(storage, downloads.take(storage, token, at_.session_state["role_token"]))


def links(at_: AppTest) -> list:
    return at_.get("link_button")


def choose_november(at_: AppTest) -> AppTest:
    return (
        at_.date_input(key="export-days").set_value((date(2026, 11, 1), date(2026, 11, 30))).run()
    )


def test_owner_prepares_the_visits_csv_for_the_chosen_range(app_env, shop):
    bought = seed(app_env, shop)
    at_ = choose_november(page("owner"))
    assert not at_.exception
    assert at_.title[0].value == "Export"
    assert any("3 visits" in m.value for m in at_.markdown)
    assert not links(at_)  # nothing prepared yet

    at_.button(key="export-visits-prepare").click().run()
    assert not at_.exception
    choice, token, name = at_.session_state["export_visits_file"]
    data = fetched(app_env, at_, token).data
    november = ExportSelection(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
    assert choice == (november, False)  # kept with the choice it was made for
    # The file, worked out by hand: November in London is GMT (+00:00).
    lines = data.decode().split("\r\n")
    assert lines[0] == (
        "visit_id,store,started_local,started_utc,associate,first_engagement,reason,"
        "used_name,recommended,connection_depth,outcome,no_sale_reason,units,amount,"
        "closed_local,closed_by,hour_visitors,arrived_local,greet_seconds,left_before_greeting"
    )
    assert lines[-1] == "" and len(lines) == 1 + 3 + 1
    for vid, line, day in zip(bought, lines[1:4], (3, 4, 5), strict=True):
        cells = line.split(",")
        assert cells[:10] == [
            vid,
            "Corner Shop",
            f"2026-11-{day:02d}T10:00:00+00:00",
            f"2026-11-{day:02d}T10:00:00.000Z",
            "Ana",
            "warm",
            "",
            "0",
            "0",
            "1",
        ]
        assert cells[10:14] == ["purchased", "", "1", "9.99"] and cells[15] == "Ana"
        assert cells[16] == ""  # no door-counter figures for that hour (#13)
    assert name == "cxlog-visits-2026-11-01-to-2026-11-30.csv"
    [button] = links(at_)
    assert button.label == f"Download {name}"
    assert button.proto.url == f"/api/v1/downloads/{token}"

    # Another choice: the prepared file is no longer offered.
    at_.checkbox(key="export-voided").check().run()
    assert any("4 visits" in m.value for m in at_.markdown)
    assert not links(at_)


def test_owner_gets_the_summary_for_one_store_for_excel(app_env, shop):
    seed(app_env, shop)
    at_ = choose_november(page("owner"))
    at_.selectbox(key="export-store").set_value(shop["store"]).run()
    at_.checkbox(key="export-excel").check().run()
    at_.button(key="export-summary-prepare").click().run()
    assert not at_.exception
    _, token, name = at_.session_state["export_summary_file"]
    data = fetched(app_env, at_, token).data
    assert data.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig").set_index(["table", "group"])
    # By hand: 3 warm purchases of 1 unit at 9.99; the voided and the
    # December visit do not count.
    totals = table.loc[("all", "all")]
    assert totals[["visits", "open", "closed", "purchased", "no_purchase"]].tolist() == [
        3,
        0,
        3,
        3,
        0,
    ]
    assert totals[["conversion", "units_per_sale", "average_sale", "warm_rate"]].tolist() == [
        1.0,
        1.0,
        9.99,
        1.0,
    ]
    assert table.loc["store"].index.tolist() == ["Corner Shop"]
    assert name == "cxlog-summary-2026-11-01-to-2026-11-30-corner-shop.csv"


def test_owner_makes_a_verified_backup(app_env, shop, tmp_path):
    seed(app_env, shop)
    at_ = page("owner")
    at_.button(key="export-backup-make").click().run()
    assert not at_.exception
    token, name = at_.session_state["export_backup_file"]
    made = fetched(app_env, at_, token)
    assert (made.name, made.media_type) == (name, "application/vnd.sqlite3")
    copy = tmp_path / "downloaded.db"
    copy.write_bytes(made.data)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 5
    assert [b.label for b in links(at_)] == [f"Download {name}"]


def test_a_failed_backup_is_a_sentence_not_a_file(app_env, shop, monkeypatch):
    """The backup is made when its link is followed: a failure is the
    route's sentence (503), and the page's link offered no file."""
    from cxlog.core.errors import StorageError
    from cxlog.storage import backup

    def broken(storage):
        raise StorageError("The backup copy failed its integrity check, so it was not kept.")

    monkeypatch.setattr(backup, "backup_bytes", broken)
    at_ = page("owner")
    at_.button(key="export-backup-make").click().run()
    assert not at_.exception
    token, _ = at_.session_state["export_backup_file"]
    cookie = f"{sessions.COOKIE}={at_.session_state['role_token']}"
    status, headers, body = asgi.request(
        Starlette(routes=api.routes()), "GET", f"/api/v1/downloads/{token}", cookie=cookie
    )
    assert (status, body.decode()) == (
        503,
        "The file could not be made: "
        "The backup copy failed its integrity check, so it was not kept.",
    )
    assert headers["cache-control"] == "no-store"


def test_a_stranger_gets_the_sign_in_form_not_the_data(app_env, shop):
    seed(app_env, shop)
    for role in (None,):
        at_ = page(role)
        assert not at_.exception
        assert at_.title[0].value == "Sign in"
        assert not links(at_)
        assert not [b for b in at_.button if b.key and b.key.startswith("export-")]
        assert "export_visits_file" not in at_.session_state
