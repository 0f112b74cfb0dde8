"""Shared fixtures: a real SQLite file per test (WAL needs a file), seeded with
one store, two associates and the default lists."""

from __future__ import annotations

import functools
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cxlog.access import credentials
from cxlog.core import roles
from cxlog.storage.db import Storage, open_storage
from cxlog.storage.postgres import PostgresStorage, close_pools
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.e2e import harness
from tests.helpers import postgres

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"


# The engine the `storage` fixture opens (#27): SQLite by default;
# CXLOG_TEST_ENGINE=postgresql gives each test a fresh database of the
# worker's own PostgreSQL cluster instead, copied from a migrated template.
ENGINE = os.environ.get("CXLOG_TEST_ENGINE", "sqlite")


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL (make test's second pass), only the tests that store
    something there: those that use the ``storage`` fixture, and the browser
    and reliability tests marked on_postgresql (their servers' databases come
    from ``engine_storage``). A test that never touches the engine (a pure
    function, a file's own SQLite) would only repeat the first pass."""
    if ENGINE != "postgresql":
        return
    keep, drop = [], []
    for item in items:
        uses = "storage" in getattr(item, "fixturenames", ()) or item.get_closest_marker(
            "on_postgresql"
        )
        (keep if uses else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def pg_template():
    """This worker's cluster and the name of its migrated template database."""
    with postgres.own_folder() as folder, postgres.cluster(folder) as running:
        template = PostgresStorage(running.database("template_cxlog"))
        template.migrate()
        close_pools()
        yield running, "template_cxlog"
        close_pools()


@pytest.fixture
def storage(tmp_path: Path, request) -> Storage:
    if ENGINE == "postgresql" and request.node.get_closest_marker("sqlite"):
        pytest.skip("SQLite's by nature (marked sqlite)")
    if ENGINE == "postgresql":
        running, template = request.getfixturevalue("pg_template")
        name = f"t{uuid.uuid4().hex[:12]}"
        yield PostgresStorage(running.database(name, template=template))
        close_pools()  # the test's pool: a cluster takes 100 connections
        return
    storage = Storage(tmp_path / "cxlog.db")
    storage.migrate()
    yield storage


@pytest.fixture
def shop(storage: Storage) -> dict:
    """A store with two active associates; ids and the default list ids by name."""
    store_id = catalog.create_store(storage, "Corner Shop", "Europe/London")
    ana = catalog.add_associate(storage, store_id, "Ana", actor="test")
    ben = catalog.add_associate(storage, store_id, "Ben", actor="test")
    reasons = {r["name"]: r["id"] for r in catalog.list_reasons(storage, "reason")}
    no_sale = {r["name"]: r["id"] for r in catalog.list_reasons(storage, "no_sale_reason")}
    return {"store": store_id, "ana": ana, "ben": ben, "reasons": reasons, "no_sale": no_sale}


def new_id() -> str:
    return uuid.uuid4().hex


def utc(text: str) -> datetime:
    """An ISO 8601 time with its offset, as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def log_visit_in(storage: Storage, shop: dict, when: datetime, engagement="warm", **close) -> str:
    """One visit started at ``when`` in ``shop``; its id. ``close``: units=…,
    amount=… (cents) for a purchase, or no_sale=name (None: no reason) for
    none, or nothing (open); reason=name, recommended=True, used_name=True,
    voided=True; store=, associate= for another store or associate; vid= for
    a fixed id."""
    vid = close.pop("vid", None) or new_id()
    store = close.pop("store", shop["store"])
    associate = close.pop("associate", shop["ana"])
    visits.create_visit(storage, vid, store, associate, engagement, at=when)
    actor = f"associate:{associate}"
    if "reason" in close:
        visits.set_reason(storage, vid, shop["reasons"][close.pop("reason")], actor=actor)
    if close.pop("recommended", False):
        visits.set_marker(storage, vid, "recommended", True, actor=actor)
    if close.pop("used_name", False):
        visits.set_marker(storage, vid, "used_name", True, actor=actor)
    if "units" in close:
        visits.record_purchase(
            storage, vid, close.pop("units"), amount_cents=close.pop("amount", None), actor=actor
        )
    elif "no_sale" in close:
        name = close.pop("no_sale")
        reason = shop["no_sale"][name] if name else None
        visits.record_no_purchase(storage, vid, no_sale_reason_id=reason, actor=actor)
    if close.pop("voided", None):
        visits.void_visit(storage, vid, "Logged twice", actor="manager")
    assert not close, f"log_visit_in does not know {sorted(close)}"
    return vid


@pytest.fixture
def two_stores(storage, shop):
    """The Corner Shop (London) and a New York store, with a month of visits
    of every kind, voids included."""
    ny = catalog.create_store(storage, "Uptown", "America/New_York")
    cy = catalog.add_associate(storage, ny, "Cy", actor="test")
    shop = {**shop, "ny": ny, "cy": cy}
    base = utc("2026-11-01T09:00:00+00:00")
    kinds = [
        {"units": 2, "amount": 1999, "reason": "Gift", "recommended": True},
        {"units": 1, "reason": "Not learned"},
        {"no_sale": "Price", "reason": "Browsing", "used_name": True},
        {"no_sale": None},
        {},
        {"units": 5, "amount": 5, "voided": True},
        {"units": 99, "amount": 100_000_000, "reason": "Specific item"},
    ]
    for i in range(28):
        kind = dict(kinds[i % len(kinds)])
        engagement = ("warm", "neutral", "missed")[i % 3]
        when = base + timedelta(days=i, hours=i % 9, minutes=i)
        log_visit_in(storage, shop, when, engagement, **kind)
        log_visit_in(storage, shop, when, engagement, store=ny, associate=cy, **dict(kind))
    return shop


@pytest.fixture
def log_visit(storage: Storage, shop: dict):
    """``log_visit(when, engagement, **close)``: log_visit_in for this test's shop."""
    return functools.partial(log_visit_in, storage, shop)


OWNER_PASSWORD, MANAGER_PASSWORD = "owner-secret-1", "manager-secret-1"


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    # Hashing is slow on purpose (scrypt); do it once per test run.
    return {
        roles.OWNER: credentials.hash_secret(OWNER_PASSWORD),
        roles.MANAGER: credentials.hash_secret(MANAGER_PASSWORD),
    }


def engine_storage(folder: Path, request) -> Storage | PostgresStorage:
    """A new database of the suite's engine for a module's server: a SQLite
    file in ``folder``, or under CXLOG_TEST_ENGINE=postgresql a database of
    this worker's cluster (closed with its pool when the session ends)."""
    if ENGINE != "postgresql":
        return Storage(folder / "cxlog.db")
    running, template = request.getfixturevalue("pg_template")
    return PostgresStorage(running.database(f"s{uuid.uuid4().hex[:12]}", template=template))


def set_up(
    where: Path | Storage | PostgresStorage, hashes: dict[str, str], store_name: str = "Corner Shop"
) -> tuple:
    """A migrated database past its first run: owner and manager passwords and
    one store in Europe/London. ``where``: a file, or a storage of either
    engine (``engine_storage``). Returns (storage, store id)."""
    storage = Storage(where) if isinstance(where, Path) else where
    storage.migrate()
    store_id = catalog.create_store(storage, store_name, "Europe/London")
    with_passwords(storage, hashes)
    return storage, store_id


def with_passwords(storage: Storage, hashes: dict[str, str]) -> None:
    """Accounts named after the roles ("owner", "manager": what a database
    from before #28 upgrades to), with these password hashes; the manager
    sees every store there is now."""
    from cxlog.access import accounts

    everywhere = tuple(accounts.every_store(storage))
    with storage.write() as db:
        for role, hashed in hashes.items():
            stores = () if role == roles.OWNER else everywhere
            accounts.insert_account(db, role, role, hashed, stores, actor="test")


def account_of(storage: Storage, login: str):
    """The Account signed in as ``login``."""
    from cxlog.access import accounts

    return accounts.get(storage, accounts.find(storage, login)["id"])


@pytest.fixture
def app_env(storage, shop, password_hashes, monkeypatch) -> Storage:
    """A set-up server: the shop, owner and manager passwords, CXLOG_DB pointing at it."""
    with_passwords(storage, password_hashes)
    monkeypatch.setenv("CXLOG_DB", storage.address)
    return storage


def as_role(at, role: str):
    """Mark an AppTest session as signed in with a role, as the sign-in form
    does: a server-side session whose token the tab holds until its cookie."""
    from cxlog.access import sessions

    storage = open_storage(os.environ["CXLOG_DB"])
    token, _ = sessions.start(storage, account_of(storage, role), device="AppTest", client="local")
    at.session_state["role_token"] = token
    return at


# --- browser fixtures, shared by tests/e2e and tests/reliability -------------


@pytest.fixture(scope="session")
def browser():
    path = harness.chromium_path()
    if path is None:
        if os.environ.get("CXLOG_REQUIRE_BROWSER"):
            pytest.fail("CXLOG_REQUIRE_BROWSER is set but no Chromium was found")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=harness.CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        """The whole page, however long: the viewport grows to the content."""
        path = SCREENSHOTS / f"{name}.png"
        size = page.viewport_size
        height = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
            "[data-testid=stAppScrollToBottomContainer]')].map(e => e.scrollHeight), 0)"
        )
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
        page.screenshot(path=path)
        page.set_viewport_size(size)
        return path

    return take


def sign_in_role(storage: Storage, role: str, password: object, *, now=None) -> None:
    """A manager's or owner's password check from one device on the network
    (``role``: the account's name, as tests name accounts after their role)."""
    from cxlog.access import accounts

    accounts.check_sign_in(storage, role, password, client="10.0.0.2", now=now)
