"""Coverage, POS conversion and the trust flags (#13), against a day counted by
hand: a missing counter hour, a silent counter, two-way beams with a staff
allowance, whole-day and hourly POS, an autumn DST day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from cxlog.coverage import coverage, traffic
from cxlog.coverage.traffic import CounterSettings
from cxlog.numbers import derived
from cxlog.web import coverage_view
from tests.conftest import utc
from tests.helpers import coverage_day
from tests.helpers.coverage_day import COUNTER, DAY, visit

day = coverage_day.day  # the hand-counted day: a fixture


def build(storage, first=DAY, last=date(2026, 11, 4)):
    return coverage.build(storage, coverage.day_ranges(storage, None, first, last))


def test_one_way_numbers(day, shop):
    cov = build(day)
    t = cov.totals
    # Counter hours 10, 11, 13, 14: visitors 10 + 20 + 0 + 5 = 35.
    assert (t.hours, t.visitors) == (4, 35)
    # Logged in those hours 6 + 10 + 6 = 22 (voided left out); 13:00's 2 (the
    # counter counted nobody), 12:00's 3 and the 4th's 1 count apart.
    assert (t.logged, t.unmatched) == (22, 6)
    assert t.coverage == pytest.approx(22 / 35)
    # Closed 5 + 10 + 6 = 21, purchased 3 + 4 + 1 = 8, units 6 + 4 + 5 = 15.
    assert (t.closed, t.purchased, t.units) == (21, 8, 15)
    assert t.logged_conversion == pytest.approx(8 / 21)
    assert t.logged_units_per_sale == pytest.approx(15 / 8)
    # POS: the 3rd has a whole-day total and counter data; the 4th has none.
    assert (t.pos_days, t.pos_transactions, t.pos_visitors) == (1, 9, 35)
    assert t.pos_conversion == pytest.approx(9 / 35)
    assert t.units_per_transaction == pytest.approx(20 / 9)
    assert t.pos_net_cents == 45000
    assert cov.by_store[shop["store"]] == t


def test_by_day_hour_and_weekday(day):
    cov = build(day)
    third = cov.daily[cov.daily["day"] == DAY].iloc[0]
    assert (third["visitors"], third["logged"], third["pos_transactions"]) == (35, 22, 9)
    assert third["pos_conversion"] == pytest.approx(9 / 35)
    fourth = cov.daily[cov.daily["day"] == date(2026, 11, 4)].iloc[0]
    assert not fourth["counted"] and fourth["pos_transactions"] == 4
    hours = cov.hourly.set_index("hour")
    assert hours.loc[10, "visitors"] == 10 and hours.loc[10, "logged"] == 6
    assert hours.loc[13, "logged"] == 0 and hours.loc[13, "silent_logged"] == 2
    assert list(cov.hourly["hour"]) == [10, 11, 13, 14]
    cell = cov.heat[(cov.heat["weekday"] == 1) & (cov.heat["hour"] == 11)].iloc[0]
    assert (cell["visitors"], cell["logged"], cell["coverage"]) == (20, 10, 0.5)
    assert cov.heat["visitors"].sum() == 35 and len(cov.heat) == 7 * 24


def test_flags_and_warning(day, shop):
    cov = build(day)
    kinds = {(f.kind, f.day, f.hour) for f in cov.flags}
    assert kinds == {
        (coverage.SILENT, DAY, 13),  # 0 counted, 2 logged
        (coverage.OVER, DAY, 14),  # 6 logged, 5 counted
        (coverage.LOW, None, None),  # 22 / 35 = 62.9% < 70%
        (coverage.UNMATCHED, None, None),  # 6 visits without counter data
        (coverage.POS_ONLY, date(2026, 11, 4), 10),
    }
    names = {shop["store"]: "Corner Shop"}
    assert coverage.warning(cov, names) == (
        "Careful: these moment comparisons rest on partial logging. Corner Shop logged 63% "
        "of 35 visitors (threshold 70%). Visits that were not logged may have gone "
        "differently, so read the comparisons as a sample, not the whole story."
    )
    lines = coverage.flag_lines(cov, names)
    assert lines[0].startswith("**Counter silent while the store was open** (1) — Corner Shop")
    assert len(lines) == 5
    assert coverage.low_coverage_warning(day, None, DAY, DAY).startswith("Careful")
    assert coverage.low_coverage_warning(
        day, [shop["store"]], datetime(2026, 11, 3, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC)
    ).startswith("Careful")
    # Nothing counted in the period: no warning at all.
    assert coverage.low_coverage_warning(day, None, date(2026, 11, 10), date(2026, 11, 11)) is None


def test_the_cost_warning_reads_coverage_the_page_already_built(day, shop, monkeypatch):
    """The dashboard builds coverage once: the warning beside the cost reads
    its sentence from that build when it covers exactly the same local days,
    and builds anew (the same sentence) when it does not."""
    from cxlog.coaching import coaching

    ranges = coverage.day_ranges(day, [shop["store"]], DAY, DAY)
    cov = coverage.build(day, ranges)
    expected = coverage.low_coverage_warning(day, [shop["store"]], DAY, DAY)
    assert expected.startswith("Careful")
    builds = []
    real_read = coverage.overview  # what the check reads for whole local days
    monkeypatch.setattr(
        coverage, "overview", lambda *a, **k: builds.append(a) or real_read(*a, **k)
    )
    note = coaching.coverage_note(day, (shop["store"],), DAY, DAY, built=(ranges, cov))
    assert (note, builds) == (expected, [])
    # Built for other days: not used, the check builds its own.
    other = coverage.day_ranges(day, [shop["store"]], DAY, date(2026, 11, 4))
    note = coaching.coverage_note(day, (shop["store"],), DAY, DAY, built=(other, cov))
    assert (note, len(builds)) == (expected, 1)
    # A plugged-in check is asked even with a build at hand.
    plugged = coaching.coverage_note(
        day, (shop["store"],), DAY, DAY, check=lambda *a: "plugged", built=(ranges, cov)
    )
    assert plugged == "plugged"


def test_two_way_beams_and_staff_allowance(day, shop):
    traffic.save_counter_settings(day, shop["store"], CounterSettings(True, 1, 0.7), actor="m")
    cov = build(day)
    # (10+8)/2-1 = 8, (20+20)/2-1 = 19, 0-1 → 0, (5+3)/2-1 = 3: 30 visitors.
    assert cov.totals.visitors == 30
    assert cov.totals.coverage == pytest.approx(22 / 30)
    assert coverage.warning(cov, {}) is None  # 73% ≥ 70%
    assert {f.kind for f in cov.flags} == {
        coverage.SILENT,
        coverage.OVER,
        coverage.UNMATCHED,
        coverage.POS_ONLY,
    }
    # A stricter store threshold brings the warning back.
    traffic.save_counter_settings(day, shop["store"], CounterSettings(True, 1, 0.9), actor="m")
    assert "threshold 90%" in coverage.low_coverage_warning(day, None, DAY, DAY)


def test_autumn_dst_day_counts_each_pass_of_the_repeated_hour(storage, shop):
    """25 Oct 2026, London: 01:00 local twice. Visits at 00:30 UTC (01:30 BST)
    and 01:30 UTC (01:30 GMT) fall into the first and second pass."""
    s, a = shop["store"], shop["ana"]
    rows = [
        {**visit(s, a, 0, 0), "started_at": "2026-10-25T00:30:00.000Z"},
        {**visit(s, a, 0, 0), "started_at": "2026-10-25T01:30:00.000Z"},
        {**visit(s, a, 0, 0), "started_at": "2026-10-25T01:40:00.000Z"},
    ]
    with storage.write() as db:
        db.insert_rows("visits", rows)
        # Written behind cxlog's back: recount the dashboard's rollups (#12).
        derived.rebuild(db)
    text = "start,in\n2026-10-25 01:00,4\n2026-10-25 01:00,5\n2026-10-25 02:00,1\n"
    traffic.import_file(storage, "traffic", s, text, actor="t")
    cov = build(storage, date(2026, 10, 25), date(2026, 10, 25))
    got = list(cov.hourly[["hour", "visitors", "logged"]].itertuples(index=False, name=None))
    assert got == [(1, 4, 1), (1, 5, 2), (2, 1, 0)]
    cell = cov.heat[(cov.heat["weekday"] == 6) & (cov.heat["hour"] == 1)].iloc[0]
    assert (cell["visitors"], cell["logged"]) == (9, 3)


def test_day_table_in_words(day, shop):
    # The 5th: the counter counted nobody all day, and nothing was logged.
    traffic.import_file(day, "traffic", shop["store"], "start,in\n2026-11-05 10:00,0\n", actor="t")
    cov = build(day, DAY, date(2026, 11, 5))
    table = coverage_view.day_table(cov, {shop["store"]: "Corner Shop"}).set_index("Day")
    assert table.loc["Thu 5 Nov 2026", "Coverage"] == "—"
    assert table.loc["Wed 4 Nov 2026", "Coverage"] == "no counter data"
    assert table.loc["Wed 4 Nov 2026", "POS transactions"] == "4"
    third = table.loc["Tue 3 Nov 2026"]
    # 22 of 35 = 63%; POS 9 of 35 = 25.7%; logged 8 of 21 = 38.1%.
    assert (third["Visitors"], third["Logged"], third["Coverage"]) == ("35", "22", "63%")
    assert (third["POS conversion"], third["Logged conversion"]) == ("25.7%", "38.1%")


def _join_only(monkeypatch) -> None:
    """Coverage as it was read before rollups: every hour joined to the visits."""
    monkeypatch.setattr(coverage, "_from_rollups", lambda *args: None)


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Asia/Kolkata"])
def test_rollups_give_the_numbers_the_visits_give(storage, shop, monkeypatch, zone):
    """Random visits over an autumn DST change, counted by a counter imported
    while the store was in London, then the store's timezone set to ``zone``.
    London and New York read the rollups (the repeated hour from the visits);
    in Kolkata (+5:30) the counter's hours now straddle two local hours, so
    coverage reads the visits."""
    import random

    from cxlog.stores import catalog

    s, a = shop["store"], shop["ana"]
    rng = random.Random(7)
    rows = []
    for _ in range(600):
        minute = rng.randrange(0, 9 * 24 * 60)
        at = datetime(2026, 10, 24, tzinfo=UTC).timestamp() + 60 * minute + rng.randrange(60)
        outcome = rng.choice(["purchased", "purchased", "no_purchase", None])
        v = visit(s, a, 0, 0, outcome, rng.randint(1, 5) if outcome == "purchased" else None)
        v["started_at"] = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        v["closed_at"] = v["started_at"] if outcome else None
        v["voided_at"] = v["started_at"] if rng.random() < 0.05 else None
        rows.append(v)
    with storage.write() as db:
        db.insert_rows("visits", rows)
        derived.rebuild(db)
    lines = ["start,in"]
    for hour in range(8 * 24):  # UTC hours; a gap every 17th
        if (hour + 5) % 17:
            start = datetime.fromtimestamp(
                datetime(2026, 10, 25, tzinfo=UTC).timestamp() + 3600 * hour, UTC
            )
            lines.append(f"{start.isoformat()},{rng.randrange(0, 30)}")
    traffic.import_file(storage, "traffic", s, "\n".join(lines) + "\n", actor="t")
    catalog.update_store(storage, s, timezone=zone, actor="t")  # rebuilds its rollups
    ranges = coverage.day_ranges(storage, None, date(2026, 10, 25), date(2026, 11, 1))
    read = []
    monkeypatch.setattr(coverage, "_logged_rows", _counting(coverage._logged_rows, read))
    fast = coverage.build(storage, ranges)
    spans = [utc(end) - utc(start) for start, end in read]
    _join_only(monkeypatch)
    slow = coverage.build(storage, ranges)
    assert fast.totals == slow.totals and fast.totals.logged > 300
    pd.testing.assert_frame_equal(fast.hourly, slow.hourly)
    pd.testing.assert_frame_equal(fast.daily, slow.daily)
    # London and New York: one read of the visits, for the two passes of the
    # repeated hour; Kolkata: one read of the whole range.
    (start, end) = ranges[s]
    assert spans == [timedelta(hours=2) if zone != "Asia/Kolkata" else end - start]


def _counting(read_hours, calls: list):
    def counted(db, store_id, start, end):
        calls.append((start, end))
        return read_hours(db, store_id, start, end)

    return counted


def test_counter_hours_without_any_visit_are_zero_logged(storage, shop):
    """Nothing logged yet (no rollup rows at all): every counted hour is 0%."""
    traffic.import_file(storage, "traffic", shop["store"], COUNTER, actor="t")
    t = build(storage).totals
    assert (t.hours, t.visitors, t.logged, t.unmatched, t.coverage) == (4, 35, 0, 0, 0)


def test_without_counter_or_pos_data_no_frames_are_built_and_the_answer_is_the_same(
    storage, shop, monkeypatch
):
    """A store without a door counter (most stores): the dashboard's coverage
    skips pandas and answers what building the empty frames would answer."""
    s, a = shop["store"], shop["ana"]
    with storage.write() as db:
        db.insert_rows("visits", [visit(s, a, 10, 5, "purchased", 2), visit(s, a, 11, 0)])
        derived.rebuild(db)
    build(storage)  # the empty frames are made once per process
    assembled = []
    real = coverage._assemble
    monkeypatch.setattr(coverage, "_assemble", lambda *a: assembled.append(1) or real(*a))
    quick = build(storage)
    assert assembled == [] and not quick.has_traffic
    monkeypatch.setattr(coverage, "_nothing_imported", lambda hours, pos: False)
    slow = build(storage)
    assert assembled == [1]
    assert (quick.totals, quick.by_store, quick.flags) == (slow.totals, slow.by_store, [])
    assert quick.settings == slow.settings and list(quick.by_store) == [s]
    for name in ("hourly", "daily", "heat"):
        pd.testing.assert_frame_equal(getattr(quick, name), getattr(slow, name))
    # What the page reads of them works on the quick answer.
    assert coverage.warning(quick, {s: "Shop"}) is None
