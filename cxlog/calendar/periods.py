"""The dashboard's periods, resolved in each store's local time (issue #5).

A period is a run of whole local days: Today, This week (Monday first), the
last 7 or 30 days (today included) or a custom range. It ends at its last
midnight or now, whichever comes first. The previous period is the same run
of days just before, up to the same local time of day — so "today so far" is
compared with "yesterday until this time", never with a whole day.

With stores in several timezones each store gets its own span: "today" is
each store's own today, bucketed in its own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cxlog.calendar import localday
from cxlog.calendar.localday import local_midnight_utc as _midnight
from cxlog.core.errors import ValidationError
from cxlog.language.words import N_, _

TODAY, THIS_WEEK, LAST_7, LAST_30, CUSTOM = "today", "this_week", "last_7", "last_30", "custom"
# The keys go in page addresses; the names are shown through ``name``.
PERIODS: dict[str, str] = {
    TODAY: N_("Today"),
    THIS_WEEK: N_("This week"),
    LAST_7: N_("Last 7 days"),
    LAST_30: N_("Last 30 days"),
    CUSTOM: N_("Custom range"),
}
DEFAULT_PERIOD = LAST_30
# Ten years is more than any store keeps; longer ranges are a typo.
MAX_CUSTOM_DAYS = 3660
# The weekly trend shows at least this many weeks, so a short period still
# has a line to read.
TREND_WEEKS = 8


@dataclass(frozen=True)
class Span:
    """One store's period in UTC (end exclusive: the midnight after its last
    day), its previous period and the start of its weekly trend."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime
    previous_start: datetime
    previous_end: datetime
    trend_start: datetime

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def days_of(
    period: str, today: date, first: date | None = None, last: date | None = None
) -> tuple[date, date]:
    """First and last local day (inclusive) of a period, given the local today."""
    if period == TODAY:
        return today, today
    if period == THIS_WEEK:
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    if period == LAST_7:
        return today - timedelta(days=6), today
    if period == LAST_30:
        return today - timedelta(days=29), today
    if period == CUSTOM:
        return check_range(first, last)
    raise ValidationError(_("Unknown period {period}.").format(period=repr(period)))


def name(period: str) -> str:
    """A period's name in the reader's language ("Last 30 days")."""
    return _(PERIODS[period])


EARLIEST_DAY = date(2000, 1, 1)


def check_range(first: date | None, last: date | None) -> tuple[date, date]:
    if first is None or last is None:
        raise ValidationError(_("A custom range needs a first and a last day."))
    if first > last:
        raise ValidationError(_("The first day of the range comes after its last day."))
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise ValidationError(
            _("A custom range can be at most {n} days long.").format(n=MAX_CUSTOM_DAYS)
        )
    if first < EARLIEST_DAY:
        # The previous period of equal length must still be a date (a crafted
        # link with year 1 showed a traceback, #11); no store logged before this.
        earliest = localday.day_text(EARLIEST_DAY, weekday=False, year=True, long_month=True)
        raise ValidationError(_("A range starts on {day} or later.").format(day=earliest))
    return first, last


def resolve(
    period: str,
    timezone: str,
    now: datetime,
    first: date | None = None,
    last: date | None = None,
) -> Span:
    """The period for one store, DST-exact: boundaries are local midnights."""
    zone = localday.zone(timezone)
    # Whole seconds: the dashboard compares visits' start times at that grain.
    now = now.astimezone(UTC).replace(microsecond=0)
    first_day, last_day = days_of(period, localday.today(timezone, now), first, last)
    shift = timedelta(days=(last_day - first_day).days + 1)
    start = _midnight(first_day, zone)
    # The period keeps its whole last day (no visit starts in the future), so a
    # visit logged a second ago counts; the previous period stops at the same
    # local time as now, stepping back whole days on the wall clock so that a
    # DST change between the two does not move the cut by an hour.
    end = _midnight(last_day + timedelta(days=1), zone)
    wall_now = max(start, min(end, now)).astimezone(zone).replace(tzinfo=None)
    previous_end = (wall_now - shift).replace(tzinfo=zone).astimezone(UTC)
    previous_start = _midnight(first_day - shift, zone)
    trend_monday = min(
        first_day - timedelta(days=first_day.weekday()),
        last_day - timedelta(days=last_day.weekday() + 7 * (TREND_WEEKS - 1)),
    )
    return Span(
        first_day=first_day,
        last_day=last_day,
        start=start,
        end=end,
        previous_start=previous_start,
        previous_end=min(previous_end, start),
        trend_start=_midnight(trend_monday, zone),
    )


def previous_days(span: Span) -> tuple[date, date]:
    return span.first_day - timedelta(days=span.days), span.first_day - timedelta(days=1)


def describe(first: date, last: date) -> str:
    """ "3 Nov – 16 Nov 2026" (or one day) for the page's subtitle."""
    if first == last:
        return localday.day_text(first, year=True)
    start = localday.day_text(first, weekday=False, year=first.year != last.year)
    end = localday.day_text(last, weekday=False, year=True)
    return _("{first} – {last}").format(first=start, last=end)
