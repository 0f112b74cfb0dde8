"""Each visit's local start and close, kept on the visit for the export (#12)."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils

from cxlog.calendar import localtimes
from cxlog.core.model import to_utc_text
from cxlog.export import csvlines, export
from cxlog.export.export import ExportSelection
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import new_id
from tests.helpers.peek import peek

# Whole-hour, half-hour and 45-minute offsets; a 30-minute DST (Lord Howe).
ZONES = (
    "Europe/London",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Australia/Lord_Howe",
)


def stored(storage, visit_id: str) -> tuple[str | None, str | None]:
    return (
        peek(storage)
        .execute("SELECT started_local, closed_local FROM visits WHERE id = ?", [visit_id])
        .fetchone()
    )


def times_around_changes(rng: random.Random, n: int) -> list[str]:
    """UTC texts near DST changes of 2026 and anywhere, down to the last
    millisecond of a second (SQLite's datetime() drops the fraction)."""
    changes = [
        datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York springs forward
        datetime(2026, 3, 29, 1, tzinfo=UTC),  # London
        datetime(2026, 4, 4, 15, tzinfo=UTC),  # Lord Howe falls back (30 min)
        datetime(2026, 10, 25, 1, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
    ]
    out = []
    for _ in range(n):
        base = rng.choice(changes) if rng.random() < 0.7 else datetime(2026, 1, 1, tzinfo=UTC)
        reach = 7200 if base.month != 1 else 30_000_000  # near a change, or all year
        moment = base + timedelta(seconds=rng.randint(-7200, reach))
        millis = rng.choice((0, 1, 500, 999, rng.randint(0, 999)))
        out.append(to_utc_text(moment.replace(microsecond=millis * 1000)))
    return out


def test_python_and_sqlite_write_the_same_local_text(storage):
    """The write path (Python's zoneinfo) and ``fill`` (SQLite and the
    export's offset spans) give the same bytes, across DST changes and
    half-hour zones."""
    rng = random.Random(7)
    stores = {zone: catalog.create_store(storage, zone, zone) for zone in ZONES}
    people = {z: catalog.add_associate(storage, s, "Ana", actor="t") for z, s in stores.items()}
    rows = []
    for zone, store in stores.items():
        for at in times_around_changes(rng, 60):
            closed = rng.choice(
                (
                    None,
                    to_utc_text(
                        datetime.fromisoformat(at) + timedelta(seconds=rng.randint(1, 5400))
                    ),
                )
            )
            rows.append(
                {
                    "id": new_id(),
                    "store_id": store,
                    "associate_id": people[zone],
                    "started_at": at,
                    "first_engagement": "warm",
                    "outcome": "no_purchase" if closed else None,
                    "closed_at": closed,
                    "updated_at": at,
                }
            )
    with storage.write() as db:
        db.insert_rows("visits", rows)  # behind cxlog's back: no local texts yet
        assert db.execute("SELECT count(started_local) FROM visits").fetchone()[0] == 0
        assert localtimes.fill(db) == len(rows)
    zones = {store: zone for zone, store in stores.items()}
    for row in rows:
        expected = tuple(
            localtimes.local_text(row[c], zones[row["store_id"]])
            for c in ("started_at", "closed_at")
        )
        assert stored(storage, row["id"]) == expected, row


def test_visits_written_by_cxlog_carry_their_local_times(storage, shop):
    vid = new_id()
    summer = datetime(2026, 7, 1, 9, 30, 15, 999000, tzinfo=UTC)
    visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm", at=summer)
    assert stored(storage, vid) == ("2026-07-01T10:30:15+01:00", None)
    visits.record_purchase(storage, vid, 2, actor="t")
    closed = visits.get_visit(storage, vid)["closed_at"]
    assert stored(storage, vid) == (
        "2026-07-01T10:30:15+01:00",
        localtimes.local_text(closed, "Europe/London"),
    )
    visits.reopen_visit(storage, vid, actor="t")
    assert stored(storage, vid)[1] is None
    visits.record_no_purchase(storage, vid, actor="t")
    assert stored(storage, vid)[1] is not None
    visits.undo_last(storage, "t")  # back to open
    assert stored(storage, vid)[1] is None


@pytest.mark.sqlite
def test_a_time_changed_behind_cxlogs_back_loses_its_stale_text(storage, shop):
    vid = new_id()
    visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
    visits.record_no_purchase(storage, vid, actor="t")
    with sqlite3.connect(storage.path) as conn:
        conn.execute("UPDATE visits SET closed_at = '2026-07-01T12:00:00.000Z' WHERE id = ?", [vid])
    assert stored(storage, vid)[1] is None
    with sqlite3.connect(storage.path) as conn:
        conn.execute(
            "UPDATE visits SET started_at = '2026-07-01T11:00:00.000Z' WHERE id = ?", [vid]
        )
    assert stored(storage, vid) == (None, None)
    row = export.visits_csv(storage, ExportSelection()).decode().splitlines()[1].split(",")
    assert row[2] == "2026-07-01T12:00:00+01:00" and row[14] == "2026-07-01T13:00:00+01:00"
    # Only a time cxlog wrote fits the columns.
    with pytest.raises(sqlite3.IntegrityError), sqlite3.connect(storage.path) as conn:
        conn.execute("UPDATE visits SET started_local = 'Jane Doe, 07700 900123'")


def some_visits(storage, shop) -> list[str]:
    other = catalog.create_store(storage, "Far Shop", "Asia/Kolkata")
    cleo = catalog.add_associate(storage, other, "Cleo", actor="t")
    ids = []
    start = datetime(2026, 3, 28, 22, 0, 0, 250000, tzinfo=UTC)
    for i in range(40):
        store, who = (shop["store"], shop["ana"]) if i % 2 else (other, cleo)
        vid = new_id()
        at = start + timedelta(minutes=37 * i, seconds=i)
        visits.create_visit(storage, vid, store, who, "warm", at=at)
        if i % 3:
            visits.record_purchase(storage, vid, 1 + i % 4, actor="t")
        if i % 11 == 0:
            visits.void_visit(storage, vid, "Mistake", actor="manager")
        ids.append(vid)
    return ids


@pytest.mark.sqlite  # SQLite's own line SQL; PostgreSQL's: tests/test_export_postgres.py
@pytest.mark.parametrize("voided", [False, True])
def test_the_export_is_the_same_with_or_without_the_stored_texts(storage, shop, voided):
    some_visits(storage, shop)
    selection = ExportSelection(include_voided=voided)
    with sqlite3.connect(storage.path) as conn:
        lookups = export.sqlite_lookups(conn, selection)
    assert lookups.local_times and lookups.safe_ids
    sql = csvlines.chunk_sql(voided, lookups)
    assert "v.started_local" in sql and "v.closed_local" in sql
    assert "cxlog_csv_text(v.id)" not in sql  # no id to escape: none checked per visit
    kept = export.visits_csv(storage, selection)
    with sqlite3.connect(storage.path) as conn:
        assert conn.execute("SELECT count(closed_local) FROM visits").fetchone()[0] > 10
        conn.execute("UPDATE visits SET started_local = NULL, closed_local = NULL")
    assert export.visits_csv(storage, selection) == kept
    # The scan a large export uses, too.
    out = __import__("io").BytesIO()
    export.write_visits(storage, out, selection)
    assert out.getvalue() == kept


@pytest.mark.sqlite  # SQLite's own line SQL; PostgreSQL's: tests/test_export_postgres.py
def test_an_id_that_needs_escaping_is_still_escaped(storage, shop):
    some_visits(storage, shop)
    with sqlite3.connect(storage.path) as conn:
        conn.execute("UPDATE visits SET id = '=1+2' WHERE rowid = 1")
        lookups = export.sqlite_lookups(conn, ExportSelection())
    assert not lookups.safe_ids
    assert "cxlog_csv_text(v.id)" in csvlines.chunk_sql(True, lookups)
    assert "'=1+2," in export.visits_csv(storage, ExportSelection(include_voided=True)).decode()


def test_a_store_that_changes_timezone_gets_its_visits_local_times_anew(storage, shop):
    ids = some_visits(storage, shop)
    catalog.update_store(storage, shop["store"], timezone="America/New_York", actor="t")
    db = peek(storage)
    for vid in ids:
        row = db.execute(
            "SELECT v.started_at, v.closed_at, s.timezone FROM visits v"
            " JOIN stores s ON s.id = v.store_id WHERE v.id = ?",
            [vid],
        ).fetchone()
        assert stored(storage, vid) == (
            localtimes.local_text(row[0], row[2]),
            localtimes.local_text(row[1], row[2]),
        )
    assert any(stored(storage, v)[0].endswith("-04:00") for v in ids)


@pytest.mark.sqlite
def test_an_upgraded_database_gains_its_visits_local_times(storage, shop):
    ids = some_visits(storage, shop)
    expected = {vid: stored(storage, vid) for vid in ids}
    db = sqlite_utils.Database(storage.path)
    db.executescript(
        """
        DROP TRIGGER visits_started_local_stale;
        DROP TRIGGER visits_closed_local_stale;
        DROP INDEX visits_unsafe_id;
        ALTER TABLE visits DROP COLUMN started_local;
        ALTER TABLE visits DROP COLUMN closed_local;
        DELETE FROM _sqlite_migrations WHERE name = 'i12_visits_keep_local_times';
        """
    )
    storage.migrate()
    assert {vid: stored(storage, vid) for vid in ids} == expected
    assert all(value[0] for value in expected.values())
