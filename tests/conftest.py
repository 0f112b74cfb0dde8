"""Shared fixtures: a real SQLite file per test (WAL needs a file), seeded with
one store, two associates and the default lists."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from cxlog import catalog
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
