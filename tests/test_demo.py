"""Demo data has the patterns the dashboard is meant to reveal (issue #2)."""

from datetime import UTC, datetime

import pytest
import sqlite_utils

from cxlog import demo
from cxlog.cli import main
from cxlog.numbers import greet_sums, metrics
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


# --- issue #30: time to greet in the demo ------------------------------------


def _arrival_rows(storage) -> list[tuple]:
    return (
        peek(storage)
        .execute(
            "SELECT store_id, started_at, closed_at, arrived_at, greet_seconds,"
            " left_before_greeting, first_engagement, outcome, units, reason_id,"
            " substr(started_local, 12, 2)"
            " FROM visits WHERE arrived_at IS NOT NULL"
        )
        .fetchall()
    )


def test_every_demo_store_has_time_to_greet_on(demo_storage):
    from cxlog.storage import settings
    from cxlog.stores import catalog

    stores = [s["id"] for s in catalog.list_stores(demo_storage)]
    assert len(stores) == 3
    for store in stores:
        rules = settings.greet_rules(demo_storage, store)
        assert rules.on and rules.standard == 30 and rules.goal == demo.GREET_RULES.goal


def test_about_half_the_visits_have_an_arrival_and_a_few_left(demo_storage):
    rows = _arrival_rows(demo_storage)
    assert 0.45 < len(rows) / 30_000 < 0.55
    left = [r for r in rows if r[5]]
    greeted = [r for r in rows if not r[5]]
    assert 0.02 < len(left) / len(rows) < 0.06
    for _store, started, closed, arrived, seconds, _, engagement, outcome, units, reason, _ in left:
        # "Left before greeting": a missed, no-purchase visit closed at that tap.
        assert (engagement, outcome, units, reason) == ("missed", "no_purchase", None, None)
        assert seconds is None and started == closed and arrived < started
    waits = []
    for _store, started, _closed, arrived, seconds, *_ in greeted:
        wait = datetime.fromisoformat(started) - datetime.fromisoformat(arrived)
        assert seconds == int(wait.total_seconds())  # whole seconds, as a greeting stores them
        waits.append(seconds)
    waits.sort()
    # Most customers are greeted within 10–40 s; a tail waits minutes.
    assert 10 <= waits[len(waits) // 2] <= 40
    assert sum(10 <= w <= 40 for w in waits) / len(waits) > 0.5
    assert waits[int(len(waits) * 0.99)] > 120
    visits = peek(demo_storage)["visits"].count
    without = (
        peek(demo_storage)
        .execute(
            "SELECT count(*) FROM visits WHERE arrived_at IS NULL AND greet_seconds IS NULL"
            " AND left_before_greeting = 0"
        )
        .fetchone()[0]
    )
    assert without + len(rows) == visits


def test_customers_wait_longer_at_the_busiest_hour_than_at_the_quietest(demo_storage):
    rows = _arrival_rows(demo_storage)
    by_hour: dict[str, list[int]] = {}
    for *_, seconds, left, _e, _o, _u, _r, hour in rows:
        if not left:
            by_hour.setdefault(hour, []).append(seconds)
    busiest = max(by_hour, key=lambda h: len(by_hour[h]))
    quietest = min(by_hour, key=lambda h: len(by_hour[h]))

    def median(values: list[int]) -> int:
        return sorted(values)[len(values) // 2]

    assert median(by_hour[busiest]) > 1.3 * median(by_hour[quietest])
    left = {h: 0 for h in by_hour}
    for *_, left_flag, _e, _o, _u, _r, hour in rows:
        left[hour] = left.get(hour, 0) + left_flag
    assert left[busiest] / len(by_hour[busiest]) > left[quietest] / len(by_hour[quietest])


def test_conversion_falls_with_the_wait(demo_storage):
    rows = [r for r in _arrival_rows(demo_storage) if not r[5] and r[7] is not None]
    on_time = [r[7] == "purchased" for r in rows if r[4] <= 30]
    late = [r[7] == "purchased" for r in rows if r[4] > 30]
    longest = [r[7] == "purchased" for r in rows if r[4] > 120]
    assert len(late) > 1_000 and len(longest) > 200
    rate = lambda xs: sum(xs) / len(xs)  # noqa: E731
    assert rate(on_time) > rate(late) + 0.02
    assert rate(late) > rate(longest)


def test_no_follow_up_on_a_customer_who_left(demo_storage):
    db = peek(demo_storage)
    assert db["followups"].count > 0
    on_left = db.execute(
        "SELECT count(*) FROM followups f JOIN visits v ON v.id = f.visit_id"
        " WHERE v.left_before_greeting = 1"
    ).fetchone()[0]
    assert on_left == 0


def test_rollup_rebuild_finds_nothing_to_correct_in_the_demos_greet_sums(demo_storage, capsys):
    db = peek(demo_storage)
    (arrivals,) = db.execute(
        "SELECT count(*) FROM visits WHERE arrived_at IS NOT NULL AND voided_at IS NULL"
    ).fetchone()
    # greet_sums' day rows count every arrival once: who left, and each bin.
    bins = " + ".join(c for c in greet_sums.COLUMNS if c.startswith("n_"))
    (summed,) = db.execute(
        f"SELECT sum(left_before + {bins}) FROM greet_sums WHERE grain = 0"
    ).fetchone()
    assert summed == arrivals > 0
    assert main(["rollup", "--rebuild", "--db", demo_storage.address]) == 0
    out = capsys.readouterr().out
    assert "Time to greet sums: 0 rows corrected" in out
    assert "Rollups: 0 rows corrected" in out
