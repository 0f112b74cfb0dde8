"""One local-day helper (#16): a store's calendar day in UTC, DST days included.

Expected instants are worked out by hand from the zones' rules: London moves
from GMT (+0) to BST (+1) at 01:00 UTC on 29 March 2026 and back at 01:00 UTC
on 25 October 2026; New York from EDT (-4) to EST (-5) at 06:00 UTC on
1 November 2026; Havana skips its midnight (00:00 → 01:00, -5 → -4) on
8 March 2026, so that day starts at 01:00 local = 05:00 UTC, and repeats it
on 1 November 2026 (01:00 -4 → 00:00 -5).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cxlog.calendar import localday
from cxlog.calendar.localday import (
    local_date,
    local_day_utc,
    local_midnight_utc,
    start_of_local_day,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
HAVANA = ZoneInfo("America/Havana")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "hours"),
    [
        (LONDON, date(2026, 3, 28), "2026-03-28T00:00", "2026-03-29T00:00", 24),
        (LONDON, date(2026, 3, 29), "2026-03-29T00:00", "2026-03-29T23:00", 23),
        (LONDON, date(2026, 10, 25), "2026-10-24T23:00", "2026-10-26T00:00", 25),
        (NEW_YORK, date(2026, 11, 1), "2026-11-01T04:00", "2026-11-02T05:00", 25),
        (HAVANA, date(2026, 3, 8), "2026-03-08T05:00", "2026-03-09T04:00", 23),
    ],
)
def test_a_local_day_in_utc(zone, day, start, end, hours):
    first, after = local_day_utc(day, zone)
    assert (first, after) == (utc(start), utc(end))
    assert first.tzinfo is UTC and after.tzinfo is UTC
    assert (after - first).total_seconds() == hours * 3600
    assert local_midnight_utc(day, zone) == first


def test_the_day_of_an_instant_is_the_stores_own():
    # 03:30 UTC on 1 November is still 31 October in New York (EDT, -4).
    assert local_date(utc("2026-11-01T03:30"), NEW_YORK) == date(2026, 10, 31)
    assert local_date(utc("2026-11-01T03:30"), LONDON) == date(2026, 11, 1)


def test_start_of_the_local_day_where_midnight_is_repeated():
    """Havana falls back from 01:00 (-4) to 00:00 (-5) on 1 November 2026, so
    00:00–01:00 happens twice; the day started at the first 00:00 (04:00 UTC)."""
    second_pass = utc("2026-11-01T05:30")  # 00:30 -05:00, the repeated half hour
    assert start_of_local_day(second_pass, HAVANA) == utc("2026-11-01T04:00")
    assert start_of_local_day(utc("2026-11-01T06:30"), HAVANA) == utc("2026-11-01T04:00")
    # The mistake this helper replaces: replace(hour=0) keeps the instant's
    # fold, and lands on the second midnight, an hour late.
    wrong = second_pass.astimezone(HAVANA).replace(hour=0, minute=0, second=0, microsecond=0)
    assert wrong.astimezone(UTC) == utc("2026-11-01T05:00")


@pytest.mark.parametrize(
    ("day", "kwargs", "expected"),
    [
        (date(2026, 11, 3), {}, "Tue 3 Nov"),
        (date(2026, 11, 3), {"year": True}, "Tue 3 Nov 2026"),
        (date(2026, 11, 13), {"weekday": False}, "13 Nov"),
        (date(2020, 1, 1), {"weekday": False, "year": True, "long_month": True}, "1 January 2020"),
    ],
)
def test_day_text_writes_the_day_without_a_leading_zero(day, kwargs, expected):
    assert localday.day_text(day, **kwargs) == expected


def test_no_strftime_day_without_leading_zero_outside_day_text():
    """strftime's "%-d" is glibc's: a server on Windows fails on it (#26).
    Only plotly's own tick format (d3, in the browser) may use it."""
    root = Path(__file__).resolve().parent.parent
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in [*root.glob("cxlog/**/*.py"), *root.glob("pages/*.py")]
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "%-" in line and "tickformat" not in line and "strftime's" not in line
    ]
    assert found == []


def test_today_and_its_midnight_are_the_store_s_not_the_server_s():
    """#26: "today" has one home. At 03:30 UTC on 1 November it is still
    31 October in New York, whose day began at 04:00 UTC on the 31st."""
    now = utc("2026-11-01T03:30")
    assert localday.today("America/New_York", now) == date(2026, 10, 31)
    assert localday.today("Europe/London", now) == date(2026, 11, 1)
    assert localday.midnight("America/New_York", now) == utc("2026-10-31T04:00")
    assert localday.midnight("America/Havana", utc("2026-11-01T06:30")) == utc("2026-11-01T04:00")
    assert localday.zone("Europe/London") is localday.zone("Europe/London")


def test_day_numbers_weekdays_weeks_and_months_agree_with_the_calendar():
    """#26: one place counts days from 1970-01-01 (a Thursday) for the
    rollups' buckets; python's calendar is the oracle, SQL's fragment too."""
    import sqlite3

    import numpy as np

    db = sqlite3.connect(":memory:")
    first = date(2023, 12, 25)
    numbers = []
    for offset in range(800):
        day = date.fromordinal(first.toordinal() + offset)
        n = localday.day_number(day)
        numbers.append(n)
        assert localday.day_of(n) == day
        assert localday.weekday(n) == day.weekday()
        monday = localday.day_of(localday.week_start(n))
        assert monday.weekday() == 0 and 0 <= (day - monday).days < 7
        assert localday.day_of(localday.month_start(n)) == day.replace(day=1)
        sql = localday.week_start_sql("d")
        assert db.execute(f"SELECT {sql} FROM (SELECT ? AS d)", [n]).fetchone()[0] == (
            localday.week_start(n)
        )
    assert localday.day_number(date(1970, 1, 1)) == 0 and localday.weekday(0) == 3
    array = np.array(numbers)
    assert list(localday.weekday(array)) == [localday.weekday(n) for n in numbers]
