"""Scope (issue #28): a manager of store A sees and exports only A. Every
page that shows a store's data, with a crafted address, picker value or
download for store B: refused or shown as if B did not exist, nothing of B
in the page or the file, nothing changed in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from cxlog.access import accounts, sessions
from cxlog.calendar import periods
from cxlog.core.model import utc_now
from cxlog.core.roles import MANAGER
from cxlog.dashboard import dashboard
from cxlog.export import downloads
from cxlog.server import api
from cxlog.stores import catalog
from tests.conftest import as_role, log_visit_in
from tests.helpers import asgi
from tests.helpers.pages import open_page, text_of

SECRET = "Harbour Hideaway"  # store B's name: never on a page of A's manager
BEA = "Bea Beyond"  # B's associate


@pytest.fixture
def two(app_env, shop) -> dict:
    """Store A (the shop, 3 visits), store B (5 visits) and Mia, manager of A."""
    b = catalog.create_store(app_env, SECRET, "Europe/Paris")
    bea = catalog.add_associate(app_env, b, BEA, actor="test")
    now = utc_now() - timedelta(minutes=30)
    for _ in range(3):
        log_visit_in(app_env, shop, now, units=1)
    for _ in range(5):
        log_visit_in(app_env, shop, now, units=2, store=b, associate=bea)
    accounts.add(app_env, "Mia", MANAGER, "mia-pass-01", [shop["store"]], actor="test")
    return {"storage": app_env, "a": shop["store"], "b": b}


def as_mia(page: str, **query) -> AppTest:
    at = as_role(open_page(), "Mia").run()
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    return at.run()


def audit_count(storage) -> int:
    with storage.read() as db:
        return db.execute("SELECT count(*) FROM audit").fetchone()[0]


@pytest.mark.parametrize(
    "page",
    [
        "pages/dashboard.py",
        "pages/huddle.py",
        "pages/visits.py",
        "pages/settings.py",
        "pages/imports.py",
        "pages/export.py",
    ],
)
def test_no_page_shows_another_store_to_its_manager(two, page):
    at = as_mia(page)
    assert not at.exception
    assert at.title[0].value != "Sign in"
    shown = text_of(at)
    assert SECRET not in shown and BEA not in shown, page
    # The owner, on the same page, does see B (so the check above can fail).
    owner = as_role(open_page(), "owner").run()
    owner.switch_page(page)
    owner.run()
    if page not in ("pages/visits.py", "pages/huddle.py"):  # one store's page: A first
        assert SECRET in text_of(owner), page


def test_a_crafted_dashboard_address_for_store_b_shows_only_a(two):
    at = as_mia("pages/dashboard.py", store=str(two["b"]))
    assert not at.exception
    assert any("does not exist" in i.value for i in at.info)
    assert SECRET not in text_of(at)
    # "All stores" is all of Mia's: A's 3 visits, not B's 5.
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Visits"] == "3"


def test_the_dashboard_numbers_of_a_scope_leave_other_stores_out(two):
    storage = two["storage"]
    now = utc_now()
    mine = dashboard.build(
        storage, dashboard.DashboardFilters(period=periods.LAST_30, scope=(two["a"],)), now
    )
    every = dashboard.build(storage, dashboard.DashboardFilters(period=periods.LAST_30), now)
    crafted = dashboard.build(
        storage,
        dashboard.DashboardFilters(period=periods.LAST_30, store_id=two["b"], scope=(two["a"],)),
        now,
    )
    assert (mine.totals.visits, every.totals.visits, crafted.totals.visits) == (3, 8, 0)
    assert set(mine.spans) == {two["a"]} and crafted.spans == {}


def test_a_crafted_picker_value_for_store_b_shows_only_a(two):
    for page, key in (
        ("pages/visits.py", "visits-store"),
        ("pages/settings.py", "settings-store"),
        ("pages/huddle.py", "huddle-store"),
        ("pages/imports.py", "imports-store"),
    ):
        at = as_role(open_page(), "Mia").run()
        at.session_state[key] = two["b"]
        at.switch_page(page)
        at.run()
        shown = text_of(at)
        assert SECRET not in shown and BEA not in shown, page


def offer_as(storage, login: str, kind: str, store_ids: list[int]) -> tuple[str, str]:
    account = accounts.get(storage, accounts.find(storage, login)["id"])
    _, claim = sessions.start(storage, account, device="d", client="10.0.0.5")
    cookie = sessions.claim(storage, claim)
    session_id = sessions.check(storage, cookie).session_id
    choices = {
        "first_day": None,
        "last_day": None,
        "store_ids": store_ids,
        "include_voided": False,
        "for_excel": False,
    }
    return downloads.offer(storage, session_id, kind, "x.csv", choices), cookie


def fetch(token: str, cookie: str) -> tuple[int, bytes]:
    from starlette.applications import Starlette

    status, _, body = asgi.request(
        Starlette(routes=api.routes()),
        "GET",
        f"{downloads.ROUTE}/{token}",
        cookie=f"{sessions.COOKIE}={cookie}",
    )
    return status, body


def test_a_crafted_download_for_store_b_is_refused_and_leaks_nothing(two, monkeypatch):
    storage = two["storage"]
    before = audit_count(storage)
    for store_ids, kind in (
        ([two["b"]], "visits"),
        ([two["a"], two["b"]], "summary"),
        ([], "visits"),
        ([two["a"]], downloads.BACKUP),
    ):
        token, cookie = offer_as(storage, "Mia", kind, store_ids)
        status, body = fetch(token, cookie)
        assert status == 404, (store_ids, kind)
        assert SECRET.encode() not in body and BEA.encode() not in body
        assert b"no such download" in body
    with storage.read() as db:
        assert db.execute(
            "SELECT count(*) FROM downloads WHERE used_at IS NOT NULL"
        ).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM audit WHERE action = 'download'").fetchone() == (0,)
    # Her own store's file comes, with A's rows only.
    token, cookie = offer_as(storage, "Mia", "visits", [two["a"]])
    status, body = fetch(token, cookie)
    assert status == 200 and body.count(b"\n") == 1 + 3 and SECRET.encode() not in body
    assert audit_count(storage) > before


def test_a_link_made_before_the_store_was_taken_off_the_account_is_refused(two):
    storage = two["storage"]
    mia = accounts.find(storage, "Mia")["id"]
    token, cookie = offer_as(storage, "Mia", "visits", [two["a"]])
    accounts.set_scope(storage, mia, MANAGER, [two["b"]], actor="owner:owner")
    assert fetch(token, cookie)[0] == 404


def test_the_export_page_counts_and_offers_only_the_managers_stores(two):
    at = as_mia("pages/export.py")
    assert any("**3 visits**" in m.value for m in at.markdown)
    assert at.selectbox(key="export-store").options == ["All stores", "Corner Shop"]
    at.button(key="export-visits-prepare").click().run()
    _, token, _ = at.session_state["export_visits_file"]
    with two["storage"].read() as db:
        (choices,) = db.execute("SELECT choices FROM downloads").fetchone()
    assert f'"store_ids": [{two["a"]}]' in choices  # "all stores" written as hers
    assert token


def test_a_manager_session_opens_no_associate_api_route(two):
    """The /api/v1 routes act for the associate on shift on the device (its
    store); a manager's session cookie is no way into them."""
    from starlette.applications import Starlette

    storage = two["storage"]
    mia = accounts.get(storage, accounts.find(storage, "Mia")["id"])
    _, claim = sessions.start(storage, mia, device="d", client="10.0.0.5")
    cookie = f"{sessions.COOKIE}={sessions.claim(storage, claim)}"
    app = Starlette(routes=api.routes())
    before = audit_count(storage)
    for method, path in (("GET", "/api/v1/open-visits"), ("GET", "/api/v1/followups")):
        status, _, body = asgi.request(app, method, path, cookie=cookie)
        assert status == 401 and SECRET.encode() not in body, path
    assert audit_count(storage) == before


def test_chain_wide_settings_need_an_account_that_sees_every_store(two):
    at = as_mia("pages/settings.py")
    assert any("the owner's to change" in i.value for i in at.info)  # the lists
    assert at.toggle(key="pin-required").disabled
    assert "Accounts" not in [t.label for t in at.tabs]
