"""Stores write side by side on PostgreSQL (issue #28): a tablet's taps hold
the global write lock shared and their store's own lock alone, so one
store's write never waits for another store's, a store's writes still take
turns, and every other write still goes alone (cxlog/storage/postgres.py)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest

from cxlog.access import shifts
from cxlog.core.model import utc_now
from cxlog.storage.postgres import PostgresStorage, close_pools
from cxlog.stores import catalog
from cxlog.visits import taps

pytestmark = pytest.mark.first_pass  # its own PostgreSQL database, in the first pass


@pytest.fixture
def pg_storage(pg_template):
    running, template = pg_template
    storage = PostgresStorage(running.database(f"w{uuid.uuid4().hex[:10]}", template=template))
    yield storage
    close_pools()


def waiting_for_a_lock(storage: PostgresStorage) -> int:
    with storage.read() as db:
        return db.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()[0]


def until(check: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


class Holder(threading.Thread):
    """A write transaction held open until released (of one store, or any)."""

    def __init__(self, storage: PostgresStorage, store: int | None) -> None:
        super().__init__(daemon=True)
        self.storage, self.store = storage, store
        self.holding, self.release = threading.Event(), threading.Event()

    def run(self) -> None:
        if self.store is None:
            self._hold()
        else:
            with self.storage.store_writes(self.store):
                self._hold()

    def _hold(self) -> None:
        with self.storage.write():
            self.holding.set()
            self.release.wait(20)


class Writer(threading.Thread):
    """One more write (of one store, or any) that records when it is done."""

    def __init__(self, action: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.action, self.done = action, threading.Event()

    def run(self) -> None:
        self.action()
        self.done.set()


def write_for(storage: PostgresStorage, store: int | None) -> Callable[[], None]:
    def write() -> None:
        if store is None:
            with storage.write() as db:
                db.execute("SELECT 1")
        else:
            with storage.store_writes(store), storage.write() as db:
                db.execute("SELECT 1")

    return write


@pytest.mark.parametrize(
    ("held", "then", "waits"),
    [
        (1, 2, False),  # another store's write goes on
        (1, 1, True),  # the same store's waits its turn
        (1, None, True),  # a write of no one store waits for every store's
        (None, 2, True),  # and a store's write waits for it
    ],
)
def test_which_writes_wait_for_which(pg_storage, held, then, waits):
    holder = Holder(pg_storage, held)
    holder.start()
    assert holder.holding.wait(10)
    writer = Writer(write_for(pg_storage, then))
    writer.start()
    try:
        if waits:
            assert until(lambda: waiting_for_a_lock(pg_storage) == 1)
            assert not writer.done.is_set()
        else:
            assert writer.done.wait(10)
    finally:
        holder.release.set()
        holder.join(20)
    assert writer.done.wait(10)
    writer.join(10)


def test_a_tablet_s_tap_waits_for_its_own_store_only(pg_storage):
    storage = pg_storage
    stores = [catalog.create_store(storage, name, "Europe/London") for name in ("A", "B")]
    shift = {}
    for store in stores:
        person = catalog.add_associate(storage, store, f"Person {store}", actor="test")
        shift[store] = shifts.check(storage, shifts.start(storage, person, shifts.new_device_id()))

    def tap(store: int) -> Callable[[], object]:
        now = int(utc_now().timestamp() * 1000)
        batch = {
            "sent_at": now,
            "taps": [
                {
                    "id": uuid.uuid4().hex,
                    "visit": uuid.uuid4().hex,
                    "kind": "start",
                    "at": now,
                    "by": shift[store]["id"],
                    "engagement": "warm",
                }
            ],
        }
        return lambda: taps.apply_batch(storage, shift[store], batch)

    holder = Holder(storage, stores[0])
    holder.start()
    assert holder.holding.wait(10)
    other, same = Writer(tap(stores[1])), Writer(tap(stores[0]))
    other.start()
    same.start()
    try:
        assert other.done.wait(10)  # B's tap is saved while A's store is busy
        assert until(lambda: waiting_for_a_lock(storage) == 1)
        assert not same.done.is_set()  # A's waits for A
    finally:
        holder.release.set()
        holder.join(20)
    assert same.done.wait(10)
    with storage.read() as db:
        counts = dict(db.execute("SELECT store_id, count(*) FROM visits GROUP BY store_id"))
    assert counts == {stores[0]: 1, stores[1]: 1}
