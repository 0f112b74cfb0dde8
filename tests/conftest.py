"""Shared fixtures: a real SQLite file per test (WAL needs a file), seeded with
one store, two associates and the default lists."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from cxlog import access, catalog
from cxlog.db import Storage

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    storage = Storage(tmp_path / "cxlog.db")
    storage.migrate()
    return storage


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


OWNER_PASSWORD, MANAGER_PASSWORD = "owner-secret-1", "manager-secret-1"


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    # Hashing is slow on purpose (scrypt); do it once per test run.
    return {
        access.OWNER: access.hash_secret(OWNER_PASSWORD),
        access.MANAGER: access.hash_secret(MANAGER_PASSWORD),
    }


@pytest.fixture
def app_env(storage, shop, password_hashes, monkeypatch) -> Storage:
    """A set-up server: the shop, owner and manager passwords, CXLOG_DB pointing at it."""
    for role, hashed in password_hashes.items():
        access.set_setting(storage, f"password_hash:{role}", hashed, actor="test")
    monkeypatch.setenv("CXLOG_DB", str(storage.path))
    return storage


def as_role(at, role: str):
    """Mark an AppTest session as signed in with a role (as the sign-in form does)."""
    import time

    at.session_state["role"] = role
    at.session_state["role_seen"] = time.time()
    return at
