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

Everything else about the store's calendar lives here too, once: the zone
lookup (cached), "today" and the instant it began, days counted from
1970-01-01 (the rollups' bucket keys), their weekday, week and month, and
dates written as people read them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from cxlog.core.model import utc_now
from cxlog.language import formats

EPOCH = date(1970, 1, 1)
# 1970-01-01 was a Thursday: day number d falls on weekday (d + 3) % 7, Monday 0.
_THURSDAY = 3
Day = TypeVar("Day", int, "np.ndarray")

if TYPE_CHECKING:
    import numpy as np


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The store's zone from its IANA name; looked up once per process (a
    ZoneInfo lookup reads the tz database)."""
    return ZoneInfo(name)


def _zone(where: ZoneInfo | str) -> ZoneInfo:
    return where if isinstance(where, ZoneInfo) else zone(where)


def today(timezone: str, now: datetime | None = None) -> date:
    """The store's calendar date now (or at ``now``), not the server's."""
    return local_date(now or utc_now(), zone(timezone))


def midnight(timezone: str, now: datetime | None = None) -> datetime:
    """The UTC instant the store's today (or ``now``'s day) began."""
    return start_of_local_day(now or utc_now(), zone(timezone))


def day_number(day: date) -> int:
    """Days since 1970-01-01: the key rollups and coverage sums use."""
    return (day - EPOCH).days


def day_of(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


def weekday(number: Day) -> Day:
    """Monday 0 … Sunday 6 of a day number (or an array of them)."""
    return (number + _THURSDAY) % 7


def week_start(number: Day) -> Day:
    """The Monday of a day number's week (or of an array of them)."""
    return number - weekday(number)


def week_start_sql(column: str) -> str:
    """``week_start`` in SQL, for a column of day numbers."""
    return f"{column} - ({column} + {_THURSDAY}) % 7"


def month_start(number: int) -> int:
    """The first day of ``number``'s month (both as day numbers)."""
    return day_number(day_of(number).replace(day=1))


def local_seconds(started: np.ndarray, timezone: str) -> np.ndarray:
    """Unix seconds (UTC) → seconds on the store's wall clock, DST-exact with
    the same zoneinfo rules as one visit's write."""
    # Only bulk work needs them: a tap and the visits export stay light
    # (tests/test_cli_export.py keeps numpy and pandas out of the export).
    import numpy as np
    import pandas as pd

    if not len(started):
        return np.zeros(0, dtype=np.int64)
    utc = pd.DatetimeIndex(started.astype("datetime64[s]"), tz="UTC")
    wall = utc.tz_convert(zone(timezone)).tz_localize(None)
    return wall.to_numpy().astype("datetime64[s]").astype(np.int64)


def local_midnight_utc(day: date, where: ZoneInfo | str) -> datetime:
    """The UTC instant the store's calendar ``day`` starts (``where``: the
    store's zone or its name)."""
    return datetime.combine(day, time(0), tzinfo=_zone(where)).astimezone(UTC)


def local_day_utc(day: date, zone: ZoneInfo | str) -> tuple[datetime, datetime]:
    """The store's calendar ``day`` as UTC instants [start, end)."""
    return local_midnight_utc(day, zone), local_midnight_utc(day + timedelta(days=1), zone)


def local_date(moment: datetime, where: ZoneInfo | str) -> date:
    """The store's calendar date at an aware instant."""
    return moment.astimezone(_zone(where)).date()


def start_of_local_day(moment: datetime, zone: ZoneInfo | str) -> datetime:
    """The UTC instant the store's local day containing ``moment`` started."""
    return local_midnight_utc(local_date(moment, zone), zone)


def day_text(
    day: date, *, weekday: bool = True, year: bool = False, long_month: bool = False
) -> str:
    """A day as people read it, in their language (cxlog.language.formats):
    "Tue 3 Nov", "Tue 3 Nov 2026", "3 Nov", "1 January 2020" in English,
    "mar. 3 nov." in French."""
    return formats.day(day, weekday=weekday, year=year, long_month=long_month)


def clock_text(moment: datetime, where: ZoneInfo | str) -> str:
    """An instant's time on the store's clock: "14:05"."""
    return formats.clock(moment.astimezone(_zone(where)))


def moment_text(moment: datetime, timezone: str) -> str:
    """An instant as the store's clock shows it: "7 Dec 14:05"."""
    day = local_date(moment, timezone)
    return f"{day_text(day, weekday=False)} {clock_text(moment, timezone)}"
