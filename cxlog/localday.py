"""A store's local calendar day in UTC: the one place local midnight is found.

Days, hours and weeks are each store's local time (docs/product.md), while
every timestamp is stored in UTC. A local day does not always last 24 hours
(23 or 25 on a DST change), and where a zone changes its clocks at midnight
that midnight is skipped (the day starts at 01:00) or happens twice (the day
starts at the first one). ``datetime.combine(day, time(0), tzinfo=zone)``
read with fold=0 is the instant the day actually starts in every case;
``datetime.now(zone).replace(hour=0)`` keeps the fold of "now", and during a
repeated midnight hour lands on the second midnight, an hour late (tested in
tests/test_localday.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant the store's calendar ``day`` starts."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day_utc(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The store's calendar ``day`` as UTC instants [start, end)."""
    return local_midnight_utc(day, zone), local_midnight_utc(day + timedelta(days=1), zone)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The store's calendar date at an aware instant."""
    return moment.astimezone(zone).date()


def start_of_local_day(moment: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant the store's local day containing ``moment`` started."""
    return local_midnight_utc(local_date(moment, zone), zone)


def day_text(
    day: date, *, weekday: bool = True, year: bool = False, long_month: bool = False
) -> str:
    """A day as people read it: "Tue 3 Nov", "Tue 3 Nov 2026", "3 Nov",
    "1 January 2020". The day of the month without a leading zero is written
    out, not with strftime's "%-d", which only glibc knows (a server on
    Windows would fail there)."""
    month = f"{day:%B}" if long_month else f"{day:%b}"
    text = f"{day.day} {month}"
    if weekday:
        text = f"{day:%a} {text}"
    return f"{text} {day.year}" if year else text
