"""Keys a chain will need and the upgrade of an existing database (#12)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlite_utils

from cxlog.calendar import localday
from cxlog.dashboard import dashboard
from cxlog.numbers import rollups
from cxlog.numbers.metrics import Counts
from cxlog.storage.db import Storage
from tests.helpers.oracles import GROUPINGS, recount

FIXTURE = Path(__file__).parent / "fixtures" / "made_by_main_ab5c5ae.sqlite3"
STORE_SCOPED = ("visits", "audit", "rollups", "shifts")
# Indexes that may lead with another column, each looked up by a key that is
# unique across the chain (so it needs no store to find its row) or scanning
# the whole chain by design.
NOT_BY_STORE = {
    "visits": {
        "sqlite_autoindex_visits_1": "the visit's own id, unique chain-wide",
        "visits_started": "the chain's first and last visit (min/max) for the export",
        "visits_unsafe_id": "ids the export must escape, chain-wide (normally none)",
    },
    "audit": {
        "audit_entity": "one entity's history by its id",
        "audit_actor_at": "an actor's last action for Undo; an associate belongs to one store",
    },
    "shifts": {"sqlite_autoindex_shifts_1": "a random token's hash"},
}


def _keys(db: sqlite_utils.Database, table: str) -> dict[str, list[str]]:
    """Every index of a table (the primary key of a WITHOUT ROWID table too)
    with its columns in order."""
    keys = {}
    for index in db.execute(f"PRAGMA index_list({table})").fetchall():
        name = index[1]
        columns = [row[2] for row in db.execute(f"PRAGMA index_info({name})").fetchall()]
        keys[name] = columns
    return keys


@pytest.mark.parametrize("made_by", ["fresh", "main"])
def test_every_store_scoped_table_carries_and_leads_with_store_id(tmp_path, made_by):
    path = tmp_path / "cxlog.db"
    if made_by == "main":
        shutil.copy(FIXTURE, path)
    Storage(path).migrate()
    db = sqlite_utils.Database(path)
    for table in STORE_SCOPED:
        assert "store_id" in {c.name for c in db[table].columns}, table
        keys = _keys(db, table)
        assert keys, table
        leading = {name for name, columns in keys.items() if columns[0] == "store_id"}
        assert leading, f"{table} has no key led by store_id"
        others = set(keys) - leading
        assert others <= set(NOT_BY_STORE.get(table, {})), (table, others - leading)
    assert _keys(db, "rollups")["sqlite_autoindex_rollups_1"][:3] == ["store_id", "grain", "bucket"]
    # The hot paths read by store: the dashboard, the open visits, the rollups.
    for table, sql, params in (
        ("visits", "SELECT count(*) FROM visits WHERE store_id = ? AND started_at >= ?", [1, ""]),
        (
            "visits",
            "SELECT id FROM visits WHERE store_id = ? AND outcome IS NULL AND voided_at IS NULL",
            [1],
        ),
        (
            "rollups",
            "SELECT sum(visits) FROM rollups"
            " WHERE store_id = ? AND grain = 0 AND bucket BETWEEN 1 AND 9",
            [1],
        ),
        ("audit", "SELECT id FROM audit WHERE store_id = ? AND at >= ?", [1, ""]),
    ):
        plan = " ".join(str(r[3]) for r in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert "(store_id=?" in plan, (table, plan)


def test_a_database_made_by_main_gains_exact_rollups_on_upgrade(tmp_path):
    path = tmp_path / "cxlog.db"
    shutil.copy(FIXTURE, path)
    before = sqlite_utils.Database(path)
    assert "rollups" not in before.table_names()
    assert "store_id" not in {c.name for c in before["audit"].columns}
    before.conn.close()

    storage = Storage(path)
    storage.migrate()
    db = sqlite_utils.Database(path)
    assert db["rollups"].count > 0
    # Audit rows of visits, stores and associates know their store now.
    missing = db.execute(
        "SELECT count(*) FROM audit WHERE entity IN ('visit', 'store', 'associate')"
        " AND store_id IS NULL"
    ).fetchone()[0]
    assert missing == 0
    assert db.execute(
        "SELECT count(*) FROM audit a JOIN visits v ON v.id = a.entity_id"
        " WHERE a.entity = 'visit' AND a.store_id != v.store_id"
    ).fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM shifts WHERE store_id IS NULL").fetchone() == (0,)
    stores = [r[0] for r in db.execute("SELECT id FROM stores").fetchall()]
    assert len(stores) == 2
    with storage.read() as rdb:
        for store_id in stores:
            for first, last in (
                (date(2026, 10, 1), date(2026, 10, 31)),
                (date(2026, 10, 25), date(2026, 10, 25)),
            ):
                for by in GROUPINGS:
                    assert rollups.counts(rdb, {store_id: (first, last)}, by=by) == recount(
                        storage, store_id, first, last, by
                    ), (store_id, by)
    built = dashboard.build(
        storage,
        dashboard.DashboardFilters("custom", date(2026, 10, 24), date(2026, 10, 26)),
        localday.local_midnight_utc(date(2026, 10, 27), "UTC"),
    )
    # 40 visits logged, 2 voided; every one of them falls in these three local days.
    assert built.totals.visits == 38
    assert built.totals == sum(
        (
            c
            for s in stores
            for c in recount(storage, s, date(2026, 10, 24), date(2026, 10, 26), ()).values()
        ),
        Counts(),
    )
