"""Demo data has the patterns the dashboard is meant to reveal (issue #2)."""

from datetime import UTC, datetime

import pytest
import sqlite_utils

from cxlog import demo
from cxlog.cli import main
from cxlog.numbers import metrics
from cxlog.numbers.metrics import Filters
from cxlog.storage.db import Storage
from tests.helpers.peek import peek

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_storage(tmp_path_factory):
    storage = Storage(tmp_path_factory.mktemp("demo") / "demo.db")
    demo.generate(storage, visits=30_000, days=120, stores=3, associates=9, seed=7, now=NOW)
    return storage


def test_counts_and_integrity(demo_storage):
    db = peek(demo_storage)
    assert db["visits"].count == 30_000
    assert db["stores"].count == 3 and db["associates"].count == 9
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    first, last = db.execute("SELECT min(started_at), max(started_at) FROM visits").fetchone()
    assert first[:10] >= "2026-07-26" and last <= "2026-11-24T18:00:00.000Z"


def test_warm_beats_neutral_beats_missed(demo_storage):
    groups = metrics.breakdown(demo_storage, Filters(), "first_engagement")
    conv = {k: c.conversion.value for k, c in groups.items()}
    assert conv["warm"] > conv["neutral"] + 0.05 > conv["missed"] + 0.1


def test_units_per_sale_rise_with_depth(demo_storage):
    groups = metrics.breakdown(demo_storage, Filters(), "connection_depth")
    ups = [groups[d].units_per_sale for d in range(4)]
    assert ups == sorted(ups) and ups[3] > ups[0] + 1


def test_busier_afternoons_and_weekends(demo_storage):
    db = peek(demo_storage)
    # Store 1 is Europe/London: UTC hour 15 is 15:00 or 16:00 local.
    by_hour = dict(
        db.execute(
            "SELECT strftime('%H', started_at), count(*) FROM visits WHERE store_id = 1 GROUP BY 1"
        ).fetchall()
    )
    assert by_hour["15"] > 2 * by_hour["09"]
    by_weekday = dict(
        db.execute("SELECT strftime('%w', started_at), count(*) FROM visits GROUP BY 1").fetchall()
    )
    assert by_weekday["6"] > 1.5 * by_weekday["2"]  # Saturday vs Tuesday


def test_some_open_and_voided_visits(demo_storage):
    db = peek(demo_storage)
    voided = db.execute("SELECT count(*) FROM visits WHERE voided_at IS NOT NULL").fetchone()[0]
    assert 50 < voided < 300
    open_ = db.execute("SELECT count(*) FROM visits WHERE outcome IS NULL").fetchone()[0]
    assert open_ > 0


def test_demo_refuses_a_database_with_stores(demo_storage, capsys):
    assert main(["demo", "--db", demo_storage.address, "--visits", "10"]) == 2
    assert "already has stores" in capsys.readouterr().err


def test_cli_writes_demo_file(tmp_path, capsys):
    path = tmp_path / "cli.db"
    assert main(["demo", "--db", str(path), "--visits", "500", "--days", "10"]) == 0
    assert "Wrote 500 demo visits" in capsys.readouterr().out
    assert sqlite_utils.Database(path)["visits"].count == 500


def test_each_visit_carries_its_local_times_as_a_visit_written_through_cxlog_would(
    demo_storage,
):
    # The demo works the texts out for all visits at once (not localtimes.fill
    # afterwards); each must be the text cxlog.visits.visits writes, DST
    # changes of its 120 days included.
    from cxlog.calendar.localtimes import local_text

    rows = peek(demo_storage).execute(
        "SELECT v.started_at, v.closed_at, v.started_local, v.closed_local, s.timezone"
        " FROM visits v JOIN stores s ON s.id = v.store_id"
    )
    seen = 0
    for started, closed, started_local, closed_local, zone in rows:
        assert started_local == local_text(started, zone)
        assert closed_local == local_text(closed, zone)
        seen += 1
    assert seen == 30_000
