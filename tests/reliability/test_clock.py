"""Clock and timezone (issue #7): visits logged across a DST change land in
the right local hour and the right local day. Each row below was worked out by
hand from the zone's rules (UK: last Sunday of March 01:00 UTC → BST, last
Sunday of October 01:00 UTC → GMT; US: second Sunday of March 02:00 local →
EDT, first Sunday of November 02:00 local → EST), not by the code under test.

The bucketing under test is the dashboard's (cxlog.dashboard.dashboard.build: the
hour × weekday heatmap, the local day's totals, the weekly trend).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlite_utils

from cxlog.calendar import periods
from cxlog.core.model import from_utc_text
from cxlog.dashboard import dashboard
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import new_id

SUNDAY = 6  # dashboard weekdays: 0 = Monday
# zone, the local day, [(stored UTC start, local hour)], starts just outside that day
CHANGES: dict[str, tuple[str, date, list[tuple[str, int]], list[str]]] = {
    "London, clocks go forward": (
        "Europe/London",
        date(2026, 3, 29),
        [
            ("2026-03-29T00:30:00.000Z", 0),  # 00:30 GMT
            ("2026-03-29T00:59:59.999Z", 0),  # the last instant before the change
            ("2026-03-29T01:00:00.000Z", 2),  # 02:00 BST: there is no 01:00 that day
            ("2026-03-29T01:30:00.000Z", 2),
            ("2026-03-29T02:00:00.000Z", 3),
            ("2026-03-29T22:59:00.000Z", 23),  # 23:59 BST
        ],
        ["2026-03-28T23:59:00.000Z", "2026-03-29T23:00:00.000Z"],  # Sat 23:59, Mon 00:00
    ),
    "London, clocks go back": (
        "Europe/London",
        date(2026, 10, 25),
        [
            ("2026-10-24T23:00:00.000Z", 0),  # 00:00 BST
            ("2026-10-25T00:15:00.000Z", 1),  # 01:15 BST
            ("2026-10-25T00:59:59.999Z", 1),
            ("2026-10-25T01:15:00.000Z", 1),  # 01:15 GMT: the same wall hour again
            ("2026-10-25T02:00:00.000Z", 2),  # 02:00 GMT
            ("2026-10-25T23:59:00.000Z", 23),  # 23:59 GMT
        ],
        ["2026-10-24T22:59:00.000Z", "2026-10-26T00:00:00.000Z"],
    ),
    "New York, clocks go forward": (
        "America/New_York",
        date(2026, 3, 8),
        [
            ("2026-03-08T05:00:00.000Z", 0),  # 00:00 EST
            ("2026-03-08T06:59:00.000Z", 1),  # 01:59 EST
            ("2026-03-08T07:00:00.000Z", 3),  # 03:00 EDT: there is no 02:00 that day
            ("2026-03-08T16:00:00.000Z", 12),  # noon EDT
            ("2026-03-09T03:59:00.000Z", 23),  # 23:59 EDT
        ],
        ["2026-03-08T04:59:00.000Z", "2026-03-09T04:00:00.000Z"],
    ),
    "New York, clocks go back": (
        "America/New_York",
        date(2026, 11, 1),
        [
            ("2026-11-01T04:00:00.000Z", 0),  # 00:00 EDT
            ("2026-11-01T05:30:00.000Z", 1),  # 01:30 EDT
            ("2026-11-01T06:30:00.000Z", 1),  # 01:30 EST: the same wall hour again
            ("2026-11-01T07:00:00.000Z", 2),  # 02:00 EST
            ("2026-11-02T04:59:00.000Z", 23),  # 23:59 EST
        ],
        ["2026-11-01T03:59:00.000Z", "2026-11-02T05:00:00.000Z"],
    ),
}
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # after every case: whole days


@pytest.mark.parametrize("change", list(CHANGES))
def test_visits_across_a_dst_change_land_in_their_local_hour_and_day(change, storage):
    zone, day, inside, outside = CHANGES[change]
    store = catalog.create_store(storage, "Corner Shop", zone)
    ana = catalog.add_associate(storage, store, "Ana", actor="test")
    for stamp in [s for s, _ in inside] + outside:
        visits.create_visit(storage, new_id(), store, ana, "warm", at=from_utc_text(stamp))
    stored = sorted(r["started_at"] for r in sqlite_utils.Database(storage.path)["visits"].rows)
    assert stored == sorted([s for s, _ in inside] + outside)  # kept to the millisecond

    board = dashboard.build(
        storage,
        dashboard.DashboardFilters(period=periods.CUSTOM, first=day, last=day, store_id=store),
        NOW,
    )
    assert board.totals.visits == len(inside)  # the local day, 23 or 25 hours long
    heat = {
        (row.weekday, row.hour): row.counts.visits
        for row in board.heat.itertuples()
        if row.counts.visits
    }
    assert heat == dict(Counter((SUNDAY, hour) for _, hour in inside))
    # The weekly trend (Monday first) runs up to the period's end: the day and
    # the Saturday evening before share a week; Monday 00:00 is after the end.
    weeks = board.trend[board.trend["counts"].map(lambda c: c.visits) > 0]
    per_week = weeks.groupby("week")["counts"].agg(lambda c: sum(x.visits for x in c))
    assert per_week.to_dict() == {day - timedelta(days=day.weekday()): len(inside) + 1}
