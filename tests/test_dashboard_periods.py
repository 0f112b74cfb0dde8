"""Dashboard periods in each store's local time, and the previous equal period (#5)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cxlog.calendar import periods
from cxlog.core.errors import ValidationError

# Wednesday 18 November 2026, 10:30 in London (GMT, UTC+0).
NOW = datetime(2026, 11, 18, 10, 30, 15, 250_000, tzinfo=UTC)


LONDON = ZoneInfo("Europe/London")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


@pytest.mark.parametrize(
    ("period", "first", "last", "previous_start", "previous_end"),
    [
        (
            periods.TODAY,
            date(2026, 11, 18),
            date(2026, 11, 18),
            utc(2026, 11, 17),
            utc(2026, 11, 17, 10, 30, 15),
        ),
        (
            periods.THIS_WEEK,
            date(2026, 11, 16),
            date(2026, 11, 22),
            utc(2026, 11, 9),
            utc(2026, 11, 11, 10, 30, 15),
        ),
        (
            periods.LAST_7,
            date(2026, 11, 12),
            date(2026, 11, 18),
            utc(2026, 11, 5),
            utc(2026, 11, 11, 10, 30, 15),
        ),
        (
            periods.LAST_30,
            date(2026, 10, 20),
            date(2026, 11, 18),
            london(2026, 9, 20),  # BST: 23:00 UTC the day before
            london(2026, 10, 19, 10, 30, 15),
        ),
    ],
)
def test_relative_periods_and_the_same_time_of_day_before(
    period, first, last, previous_start, previous_end
):
    span = periods.resolve(period, "Europe/London", NOW)
    assert (span.first_day, span.last_day) == (first, last)
    after = last + timedelta(days=1)
    assert span.start == london(first.year, first.month, first.day)
    assert span.end == london(after.year, after.month, after.day)
    # Today so far against yesterday until 10:30:15 (whole seconds): equal length.
    assert (span.previous_start, span.previous_end) == (previous_start, previous_end)
    # Equal length on the wall clock (in UTC it differs by the DST hour).
    wall = lambda t: t.astimezone(LONDON).replace(tzinfo=None)  # noqa: E731
    assert wall(span.previous_end) - wall(span.previous_start) == wall(NOW).replace(
        microsecond=0
    ) - wall(span.start)


def test_custom_range_in_the_past_compares_with_the_days_just_before():
    span = periods.resolve(
        periods.CUSTOM, "Europe/London", NOW, date(2026, 11, 1), date(2026, 11, 10)
    )
    assert (span.start, span.end) == (utc(2026, 11, 1), utc(2026, 11, 11))
    assert (span.previous_start, span.previous_end) == (london(2026, 10, 22), utc(2026, 11, 1))
    assert periods.previous_days(span) == (date(2026, 10, 22), date(2026, 10, 31))


def test_boundaries_are_local_midnights_across_a_dst_change():
    # London moved to BST (UTC+1) on Sunday 29 March 2026.
    span = periods.resolve(
        periods.CUSTOM, "Europe/London", NOW, date(2026, 3, 28), date(2026, 3, 30)
    )
    assert span.start == utc(2026, 3, 28, 0)  # GMT midnight
    assert span.end == utc(2026, 3, 30, 23)  # BST midnight of 31 March
    assert span.previous_start == utc(2026, 3, 25, 0)


def test_today_is_each_stores_own_today():
    late = utc(2026, 11, 18, 14, 0)  # already Thursday 01:00 in Sydney (UTC+11)
    sydney = periods.resolve(periods.TODAY, "Australia/Sydney", late)
    london = periods.resolve(periods.TODAY, "Europe/London", late)
    assert sydney.first_day == date(2026, 11, 19)
    assert london.first_day == date(2026, 11, 18)
    assert sydney.start == utc(2026, 11, 18, 13)
    assert sydney.previous_end == utc(2026, 11, 17, 14)  # Wednesday 01:00 Sydney


def test_the_trend_covers_at_least_eight_weeks_from_a_monday():
    span = periods.resolve(periods.TODAY, "Europe/London", NOW)
    assert span.trend_start == london(2026, 9, 28)  # Monday, 7 weeks before 16 Nov
    year = periods.resolve(
        periods.CUSTOM, "Europe/London", NOW, date(2025, 11, 18), date(2026, 11, 18)
    )
    assert year.trend_start == utc(2025, 11, 17)  # the Monday of its first week


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (None, date(2026, 1, 1), "needs a first and a last day"),
        (date(2026, 2, 1), date(2026, 1, 1), "comes after"),
        (date(2000, 1, 1), date(2026, 1, 1), "at most"),
    ],
)
def test_bad_custom_ranges_are_refused_with_a_sentence(first, last, message):
    with pytest.raises(ValidationError, match=message):
        periods.resolve(periods.CUSTOM, "Europe/London", NOW, first, last)


def test_unknown_period_is_refused():
    with pytest.raises(ValidationError, match="Unknown period"):
        periods.resolve("fortnight", "Europe/London", NOW)


def test_describe():
    assert periods.describe(date(2026, 11, 3), date(2026, 11, 16)) == "3 Nov – 16 Nov 2026"
    assert periods.describe(date(2025, 12, 30), date(2026, 1, 2)) == "30 Dec 2025 – 2 Jan 2026"
    assert periods.describe(date(2026, 11, 18), date(2026, 11, 18)) == "Wed 18 Nov 2026"
