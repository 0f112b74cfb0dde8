"""Coverage's pre-summed tables (cxlog/numbers/coverage_sums.py) against coverage.build,
which counts from the counter hours and the visits themselves: after random
writes through the real write path, imports, re-imports, counter settings and
a timezone change, the dashboard's read (coverage.overview) must give build's
numbers, and a rebuild must find nothing to fix."""

from __future__ import annotations

import contextlib
import math
import random
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import sqlite_utils

from cxlog import cli
from cxlog.core.errors import ValidationError
from cxlog.coverage import coverage, traffic
from cxlog.coverage.traffic import CounterSettings
from cxlog.numbers import coverage_sums, derived
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import log_visit_in
from tests.helpers import coverage_day
from tests.helpers.peek import peek

day = coverage_day.day  # the hand-counted day: a fixture

FIRST, LAST = date(2026, 10, 20), date(2026, 11, 8)  # London's clocks go back on Oct 25


def oracle(storage, ranges, monkeypatch) -> coverage.Coverage:
    """build, counting every hour's visits by joining them to the counter
    hours (not reading the rollups), so it shares nothing with the sums."""
    with monkeypatch.context() as m:
        m.setattr(coverage, "_from_rollups", lambda *args: None)
        return coverage.build(storage, ranges)


def assert_same(storage, first, last, monkeypatch, stores=None) -> coverage.Overview:
    ranges = coverage.day_ranges(storage, stores, first, last)
    fast, slow = coverage.overview(storage, ranges), oracle(storage, ranges, monkeypatch)
    assert type(fast) is coverage.Overview  # read from the sums, not built
    for mine, theirs in [(fast.totals, slow.totals), *zip_stores(fast, slow)]:
        for name, value in mine.__dict__.items():
            expected = getattr(theirs, name)
            assert value == pytest.approx(expected, rel=1e-9), (name, value, expected)
    pd.testing.assert_frame_equal(fast.heat, slow.heat, check_dtype=False, rtol=1e-9)
    assert fast.flags == slow.flags
    assert fast.settings == slow.settings
    return fast


def zip_stores(fast, slow):
    assert fast.by_store.keys() == slow.by_store.keys()
    return [(fast.by_store[k], slow.by_store[k]) for k in fast.by_store]


def nothing_to_fix(storage) -> None:
    with storage.write() as db:
        assert coverage_sums.rebuild(db).corrected == 0


def test_the_hand_counted_day_reads_the_same_from_the_sums(day, shop, monkeypatch):
    fast = assert_same(day, date(2026, 11, 3), date(2026, 11, 4), monkeypatch)
    # The hand count (tests/test_coverage.py's fixture): 10:00 6 logged of 10
    # visitors, 11:00 10 of 20, 14:00 6 of 5; 12:00 has no figure (3) and
    # 13:00 counted nobody (2); the next day has no counter figure (1).
    t = fast.totals
    assert (t.hours, t.visitors, t.logged, t.unmatched) == (4, 35, 22, 6)
    assert (t.closed, t.purchased, t.units) == (21, 8, 15)  # 5 + 10 + 6 closed (one open)
    assert (t.pos_days, t.pos_transactions, t.pos_units) == (1, 9, 20)
    kinds = [f.kind for f in fast.flags]
    assert kinds == [
        coverage.SILENT,
        coverage.OVER,
        coverage.LOW,  # 22 of 35 is 63%, under 70%
        coverage.UNMATCHED,
        coverage.POS_ONLY,
    ]
    nothing_to_fix(day)


def _counter_file(rng: random.Random, first: datetime, hours: int) -> str:
    lines = ["start,in,out"]
    for i in range(hours):
        if rng.random() < 0.06:
            continue  # the counter sent nothing for this hour
        start = first + timedelta(hours=i)
        people = 0 if rng.random() < 0.08 else rng.randrange(0, 12)
        lines.append(f"{start.isoformat()},{people},{rng.randrange(0, 12)}")
    return "\n".join(lines) + "\n"


def _pos_file(rng: random.Random, first: date, days: int) -> str:
    lines = ["date,hour,transactions,units,net_sales"]
    for i in range(days):
        d = first + timedelta(days=i)
        if i % 3 == 0:
            lines.append(
                f"{d},,{rng.randrange(0, 40)},{rng.randrange(0, 80)},{rng.randrange(999)}.50"
            )
        elif i % 3 == 1:
            for hour in rng.sample(range(24), 5):
                units = "" if rng.random() < 0.2 else rng.randrange(0, 9)
                lines.append(f"{d},{hour},{rng.randrange(0, 6)},{units},")
    return "\n".join(lines) + "\n"


def _random_writes(storage, shop, rng: random.Random, count: int, stores: list[int]) -> None:
    """Visits started, closed, corrected, voided, reopened and undone through
    cxlog.visits.visits, at random times of the test's weeks (some outside every
    counter hour)."""
    ids: list[str] = []
    base = datetime(2026, 10, 19, tzinfo=UTC)
    for _ in range(count):
        roll = rng.random()
        if roll < 0.55 or not ids:
            when = base + timedelta(seconds=rng.randrange(0, 21 * 86_400))
            close = rng.choice([{"units": rng.randint(1, 4)}, {"no_sale": None}, {}])
            store = rng.choice(stores)
            associate = shop["ana"] if store == shop["store"] else shop["other_associate"]
            ids.append(log_visit_in(storage, shop, when, store=store, associate=associate, **close))
            continue
        vid = rng.choice(ids)
        current = visits.get_visit(storage, vid)
        if current["voided_at"] is not None:
            continue
        actor = f"associate:{current['associate_id']}"
        if roll < 0.65:
            visits.void_visit(storage, vid, "Logged twice", actor="manager")
        elif roll < 0.75 and current["outcome"] is not None:
            visits.reopen_visit(storage, vid, actor=actor)
        elif roll < 0.85:
            visits.correct_visit(
                storage, vid, actor="manager", outcome="purchased", units=rng.randint(1, 9)
            )
        elif roll < 0.92 and current["outcome"] is None:
            visits.record_no_purchase(storage, vid, actor=actor)
        else:
            # Nothing left to undo within 30 s is refused: a fair random outcome.
            with contextlib.suppress(ValidationError):
                visits.undo_last(storage, actor, visit_id=vid)


@pytest.fixture
def two_stores(storage, shop):
    other = catalog.create_store(storage, "Harbour", "America/New_York")
    shop["other"] = other
    shop["other_associate"] = catalog.add_associate(storage, other, "Cy", actor="t")
    return [shop["store"], other]


@pytest.mark.parametrize("seed", [1, 2])
def test_random_writes_keep_the_sums_equal_to_a_recount(
    storage, shop, two_stores, monkeypatch, seed
):
    rng = random.Random(seed)
    _random_writes(storage, shop, rng, 60, two_stores)  # before any counter: nothing kept
    for store in two_stores:
        first = datetime(2026, 10, 20, tzinfo=UTC)
        traffic.import_file(
            storage, "traffic", store, _counter_file(rng, first, 20 * 24), actor="t"
        )
        traffic.import_file(storage, "pos", store, _pos_file(rng, FIRST, 20), actor="t")
    # A staff allowance of 1.3 makes visitors that binary floats hold inexactly.
    traffic.save_counter_settings(
        storage, two_stores[1], CounterSettings(two_way=True, staff_per_hour=1.3), actor="t"
    )
    assert_same(storage, FIRST, LAST, monkeypatch)
    _random_writes(storage, shop, rng, 250, two_stores)  # kept by every write from here
    nothing_to_fix(storage)
    for first, last in [
        (FIRST, LAST),
        (date(2026, 10, 25), date(2026, 10, 25)),  # the day with 25 hours
        (date(2026, 10, 28), date(2026, 11, 2)),  # across the month's end
        (date(2026, 11, 1), date(2026, 11, 30)),  # a whole month and beyond the counter
        (date(2026, 9, 1), date(2026, 12, 31)),
    ]:
        assert_same(storage, first, last, monkeypatch)
        assert_same(storage, first, last, monkeypatch, stores=[two_stores[1]])
    # An overlapping re-import and new settings: recounted, still the same.
    first = datetime(2026, 10, 30, tzinfo=UTC)
    traffic.import_file(storage, "traffic", shop["store"], _counter_file(rng, first, 96), actor="t")
    traffic.save_counter_settings(
        storage, shop["store"], CounterSettings(staff_per_hour=2), actor="t"
    )
    _random_writes(storage, shop, rng, 40, two_stores)
    nothing_to_fix(storage)
    assert_same(storage, FIRST, LAST, monkeypatch)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Asia/Kolkata"])
def test_a_timezone_change_moves_every_local_day_and_hour(
    storage, shop, two_stores, monkeypatch, zone
):
    rng = random.Random(5)
    store = shop["store"]
    traffic.import_file(
        storage,
        "traffic",
        store,
        _counter_file(rng, datetime(2026, 10, 20, tzinfo=UTC), 20 * 24),
        actor="t",
    )
    _random_writes(storage, shop, rng, 120, [store])
    catalog.update_store(storage, store, timezone=zone, actor="t")
    nothing_to_fix(storage)
    fast = assert_same(storage, FIRST, LAST, monkeypatch, stores=[store])
    assert fast.totals.hours > 400 and fast.totals.logged > 30


def test_the_flag_and_lone_line_rules_follow_the_writes(storage, shop, monkeypatch):
    """A silent hour gains its flag with its first visit and loses it with the
    undo; an hour turns 'more logged than visitors' at its second visit."""
    store = shop["store"]
    counter = "start,in\n2026-11-03 10:00,0\n2026-11-03 11:00,1\n"
    traffic.import_file(storage, "traffic", store, counter, actor="t")
    when = date(2026, 11, 3)

    def kinds() -> list[str]:  # the hours' flags (0 of 1 visitor logged is also low)
        flags = assert_same(storage, when, when, monkeypatch).flags
        return [f.kind for f in flags if f.kind != coverage.LOW]

    assert kinds() == []
    vid = log_visit_in(storage, shop, datetime(2026, 11, 3, 10, 20, tzinfo=UTC))
    assert kinds() == [coverage.SILENT, coverage.UNMATCHED]
    visits.undo_last(storage, f"associate:{shop['ana']}", visit_id=vid)  # voids it
    assert kinds() == []
    for minute in (5, 6):
        log_visit_in(storage, shop, datetime(2026, 11, 3, 11, minute, tzinfo=UTC))
    flags = assert_same(storage, when, when, monkeypatch).flags
    assert [f.kind for f in flags] == [coverage.OVER]
    assert flags[0].detail == "2 visits logged but 1 visitors counted"
    # A POS hour without a counter figure, then the counter's figure for it.
    traffic.import_file(
        storage, "pos", store, "date,hour,transactions\n2026-11-03,15,3\n", actor="t"
    )
    assert kinds()[-1] == coverage.POS_ONLY
    traffic.import_file(storage, "traffic", store, "start,in\n2026-11-03 15:00,0\n", actor="t")
    flags = assert_same(storage, when, when, monkeypatch).flags
    assert flags[0].kind == coverage.SILENT and flags[0].detail.endswith("3 sales rung up")
    assert coverage.POS_ONLY not in [f.kind for f in flags]


def test_a_range_that_is_not_whole_local_days_is_built(storage, shop):
    start = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    got = coverage.overview(storage, {shop["store"]: (start, start + timedelta(hours=5))})
    assert type(got) is coverage.Coverage


@pytest.mark.sqlite
def test_damage_is_found_fixed_and_reported_by_the_rollup_rebuild(day, shop, monkeypatch, capsys):
    db = sqlite_utils.Database(day.path)
    db.execute("UPDATE coverage_days SET logged = logged + 5")
    db.execute("UPDATE traffic_hours SET logged = 0")
    db.execute("UPDATE coverage_months SET heat = zeroblob(2688)")
    db.conn.commit()
    assert cli.main(["rollup", "--rebuild", "--db", day.address]) == 0
    out = capsys.readouterr().out
    assert "Door-counter coverage sums: " in out
    corrected = int(out.split("coverage sums: ", 1)[1].split(" ")[0].replace(",", ""))
    assert corrected >= 3
    nothing_to_fix(day)
    assert_same(day, date(2026, 11, 3), date(2026, 11, 4), monkeypatch)


@pytest.mark.sqlite
def test_an_upgraded_database_gains_its_sums(day, shop, monkeypatch):
    expected = coverage.overview(
        day, coverage.day_ranges(day, None, date(2026, 11, 3), date(2026, 11, 4))
    )
    db = sqlite_utils.Database(day.path)
    db.executescript(
        """
        DROP INDEX traffic_hours_flagged;
        DROP INDEX pos_totals_lone;
        DROP TABLE coverage_days;
        DROP TABLE coverage_months;
        ALTER TABLE pos_totals DROP COLUMN lone;
        DELETE FROM _sqlite_migrations WHERE name = 'i13_coverage_sums';
        """
    )
    for column in coverage_sums.HOUR_SUMS:
        db.execute(f"ALTER TABLE traffic_hours DROP COLUMN {column}")
    db.conn.commit()
    day.migrate()
    got = assert_same(day, date(2026, 11, 3), date(2026, 11, 4), monkeypatch)
    assert got.totals == expected.totals and got.flags == expected.flags
    assert math.isclose(got.heat["visitors"].sum(), 35)


def test_a_store_without_a_counter_keeps_nothing(storage, shop):
    log_visit_in(storage, shop, datetime(2026, 11, 3, 10, tzinfo=UTC), units=1)
    db = peek(storage)
    assert db.execute("SELECT count(*) FROM coverage_days").fetchone() == (0,)
    with storage.write() as w:
        assert derived.rebuild(w)["coverage"].corrected == 0
