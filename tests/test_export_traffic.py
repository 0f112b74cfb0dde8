"""Counter and POS figures in the visits CSV and the summary CSV (#13)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from cxlog.coverage import traffic
from cxlog.export import export, summary
from cxlog.export.export import ExportSelection
from cxlog.numbers import derived
from tests.conftest import new_id


def visit(shop, at: str, outcome: str | None = None) -> dict:
    return {
        "id": new_id(),
        "store_id": shop["store"],
        "associate_id": shop["ana"],
        "started_at": at,
        "updated_at": at,
        "first_engagement": "warm",
        "outcome": outcome,
        "units": 1 if outcome == "purchased" else None,
        "closed_at": at if outcome else None,
    }


def test_visits_and_summary_carry_the_counter(storage, shop):
    """London, 25 Oct 2026 (clocks go back at 02:00 BST): the counter's two
    01:00 hours are 6 and 9 visitors; a visit in each pass and one at 03:00
    (no counter figure). Two-way beams with 1 staff entry an hour:
    (7+7)/2-1 = 6, (10+10)/2-1 = 9."""
    traffic.save_counter_settings(
        storage, shop["store"], traffic.CounterSettings(True, 1, 0.7), actor="t"
    )
    text = (
        "start,in,out\n"
        "2026-10-25T01:00:00+01:00,7,7\n"  # 00:00 UTC, first pass
        "2026-10-25T01:00:00+00:00,10,10\n"  # 01:00 UTC, second pass
    )
    traffic.import_file(storage, "traffic", shop["store"], text, actor="t")
    traffic.import_file(
        storage, "pos", shop["store"], "date,transactions,units\n2026-10-25,3,7\n", actor="t"
    )
    with storage.write() as db:
        db.insert_rows(
            "visits",
            [
                visit(shop, "2026-10-25T00:30:00.000Z", "purchased"),
                visit(shop, "2026-10-25T01:30:00.000Z", "no_purchase"),
                visit(shop, "2026-10-25T03:00:00.000Z"),
            ],
        )
        # Written behind cxlog's back: recount the dashboard's rollups (#12).
        derived.rebuild(db)
    selection = ExportSelection(first_day=date(2026, 10, 25), last_day=date(2026, 10, 25))
    rows = list(csv.DictReader(io.StringIO(export.visits_csv(storage, selection).decode())))
    by_time = {r["started_local"]: r["hour_visitors"] for r in rows}
    assert by_time == {
        "2026-10-25T01:30:00+01:00": "6",
        "2026-10-25T01:30:00+00:00": "9",
        "2026-10-25T03:00:00+00:00": "",
    }
    table = list(csv.DictReader(io.StringIO(summary.summary_csv(storage, selection).decode())))
    first = {r["table"]: r for r in table}
    for row in (first["all"], first["store"]):
        # 15 visitors, 2 logged in counter hours → 0.1333; POS 3 ÷ 15 = 0.2; 7 ÷ 3 units.
        assert row["visitors"] == "15.0"
        assert row["coverage"] == "0.1333"
        assert row["pos_transactions"] == "3"
        assert row["pos_conversion"] == "0.2"
        assert row["units_per_transaction"] == "2.33"
    engagement = next(r for r in table if r["table"] == "first_engagement")
    assert engagement["visitors"] == "" and engagement["coverage"] == ""
    lift = next(r for r in table if r["table"] == "lift")
    assert lift["visitors"] == "" and lift["too_few"] == "1"


@pytest.mark.sqlite  # SQLite's own line SQL; PostgreSQL's: tests/test_export_postgres.py
def test_the_join_to_counter_hours_is_made_only_when_the_selection_has_some(storage, shop):
    """A selection without counter hours skips the join (its key costs every
    visit a datetime()); one with them, through the scan a large export
    uses, still finds each visit's hour (#12, #13)."""
    import sqlite3

    from cxlog.export import csvlines
    from cxlog.stores import catalog

    other = catalog.create_store(storage, "No Counter", "Europe/London", actor="t")
    traffic.import_file(
        storage, "traffic", shop["store"], "start,in\n2026-11-03T10:00:00+00:00,12\n", actor="t"
    )
    with storage.write() as db:
        db.insert_rows("visits", [visit(shop, "2026-11-03T10:20:00.000Z", "purchased")])
        derived.rebuild(db)
    conn = sqlite3.connect(storage.path)
    for stores, joined in (((other,), False), ((shop["store"],), True), ((), True)):
        selection = ExportSelection(store_ids=stores)
        lookups = export.sqlite_lookups(conn, selection)
        for sql in (csvlines.chunk_sql(False, lookups), csvlines.indexed_sql(False, lookups)):
            assert ("export_traffic" in sql) is joined, stores
    conn.close()
    # Every day of every store: the scan path, with the join.
    out = io.BytesIO()
    export.write_visits(storage, out, ExportSelection())
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert [r["hour_visitors"] for r in rows] == ["12"]
