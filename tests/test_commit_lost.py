"""A connection lost while committing, on PostgreSQL (#27): the server may or
may not have saved the write, and nobody can tell which. The tap is answered
"may not have been saved. Tap again.", and the pad's resend of the same tap
(the same tap id) is applied once whichever it was: one visit, one audit
row, one taps row.

Runs wherever PostgreSQL's server binaries are, whichever engine the rest
of the suite uses (SQLite has no connection to lose)."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from cxlog.access import shifts
from cxlog.core.errors import StorageError
from cxlog.storage.postgres import PostgresStorage, close_pools
from cxlog.stores import catalog
from cxlog.visits import taps
from tests.conftest import new_id
from tests.helpers.peek import peek

pytestmark = pytest.mark.first_pass  # uses both engines itself


@pytest.fixture
def shop(pg_template):
    running, template = pg_template
    storage = PostgresStorage(running.database(f"c{uuid.uuid4().hex[:12]}", template=template))
    store = catalog.create_store(storage, "Corner Shop", "Europe/London")
    ana = catalog.add_associate(storage, store, "Ana", actor="test")
    shift = shifts.check(storage, shifts.start(storage, ana, shifts.new_device_id()))
    yield storage, shift, ana
    close_pools()


def lose_the_visit_s_commit(monkeypatch, storage, *, reached: bool) -> list[str]:
    """The COMMIT of the transaction that writes the visit loses its
    connection: before it reaches the server (the backend is terminated;
    nothing is saved), or after (the commit is saved; its answer never comes
    back)."""
    real = psycopg.Connection.execute
    happened: list[str] = []
    writing: list[bool] = []

    def execute(self, query, params=None, **kwargs):
        if isinstance(query, str) and query.startswith("INSERT INTO visits "):
            writing.append(True)
        if query != "COMMIT" or not writing or happened:
            return real(self, query, params, **kwargs)
        happened.append("commit")
        if reached:
            real(self, query)
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        with psycopg.connect(storage.url, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [self.info.backend_pid])
        return real(self, query)  # the server is gone: OperationalError

    monkeypatch.setattr(psycopg.Connection, "execute", execute)
    return happened


@pytest.mark.parametrize("reached", [False, True], ids=["lost-before", "saved-unanswered"])
def test_a_commit_whose_connection_is_lost_is_tap_again_and_the_retry_applies_once(
    shop, monkeypatch, reached
):
    storage, shift, ana = shop
    vid = new_id()
    batch = {
        "sent_at": int(time.time() * 1000),
        "taps": [
            {
                "id": new_id(),
                "visit": vid,
                "kind": "start",
                "at": int(time.time() * 1000),
                "by": ana,
                "engagement": "warm",
            }
        ],
    }
    happened = lose_the_visit_s_commit(monkeypatch, storage, reached=reached)
    with pytest.raises(StorageError) as refused:
        taps.apply_batch(storage, shift, batch)
    assert happened == ["commit"]
    assert "may not have been saved. Tap again." in str(refused.value)
    db = peek(storage)
    saved = db.execute("SELECT count(*) FROM visits WHERE id = ?", [vid]).fetchone()[0]
    assert saved == (1 if reached else 0)

    answer = taps.apply_batch(storage, shift, batch)  # the pad's resend, same tap id
    (one,) = answer["taps"]
    assert one["ok"] and one.get("replayed", False) is reached
    assert db.execute("SELECT count(*) FROM visits WHERE id = ?", [vid]).fetchone()[0] == 1
    audited = db.execute(
        "SELECT count(*) FROM audit WHERE entity = 'visit' AND action = 'create' AND entity_id = ?",
        [vid],
    ).fetchone()[0]
    assert audited == 1
    assert db.execute("SELECT count(*) FROM taps WHERE visit_id = ?", [vid]).fetchone()[0] == 1
    assert vid in answer["visits"]
