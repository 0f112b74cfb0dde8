"""Dates, times, weekdays, numbers and percentages the way the current
language writes them, from Babel's CLDR data.

For example "Tue 3 Nov" / "Di., 3. Nov." / "mar. 3 nov.", "1,234" / "1.234" /
"1 234", "42%" / "42 %".

English keeps cxlog's own forms ("Tue 3 Nov", day before month, a 24-hour
clock), which its stores have read since the start; the other languages take
CLDR's forms for their locale. Money is in cxlog/core/money.py, which writes
amounts in the same locale.

Only what people read goes through here: CSV files stay in one machine-stable
form whatever the language (docs/data-dictionary.md).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_day_names
from babel.numbers import format_decimal, format_percent

from cxlog.language.words import ENGLISH, _, current

# Babel's "en" is American English (month before day); cxlog's English is the
# one it has always written.
_ENGLISH_DAYS = {
    (True, False, False): "EEE d MMM",
    (True, True, False): "EEE d MMM y",
    (False, False, False): "d MMM",
    (False, True, False): "d MMM y",
    (True, False, True): "EEE d MMMM",
    (True, True, True): "EEE d MMMM y",
    (False, False, True): "d MMMM",
    (False, True, True): "d MMMM y",
}
_SKELETONS = {
    (True, False, False): "MMMEd",
    (True, True, False): "yMMMEd",
    (False, False, False): "MMMd",
    (False, True, False): "yMMMd",
    (True, False, True): "MMMMEd",
    (True, True, True): "yMMMMEEEEd",
    (False, False, True): "MMMMd",
    (False, True, True): "yMMMMd",
}


def day(value: date, *, weekday: bool = True, year: bool = False, long_month: bool = False) -> str:
    """A calendar day as people read it ("Tue 3 Nov", "Di., 3. Nov.")."""
    lang = current()
    key = (weekday, year, long_month)
    if lang == ENGLISH:
        return format_date(value, _ENGLISH_DAYS[key], locale=lang)
    return format_skeleton(_SKELETONS[key], value, locale=lang)


def clock(value: time | datetime) -> str:
    """A time of day on a 24-hour clock in the locale's form ("14:05")."""
    return format_time(value, "HH:mm", locale=current())


def weekdays(width: str = "abbreviated") -> tuple[str, ...]:
    """Monday to Sunday in the current language ("Mon" … "Sun", "Mo." … "So.")."""
    names = get_day_names(width, context="format", locale=current())
    if current() == ENGLISH and width == "abbreviated":
        return ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return tuple(names[i] for i in range(7))


def weekday(index: int, width: str = "abbreviated") -> str:
    """Day ``index`` of the week (0 = Monday)."""
    return weekdays(width)[index]


def number(value: float | int, digits: int = 0) -> str:
    """A number with the locale's grouping and decimal sign ("1,234.5", "1.234,5")."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=current())


def percent(value: float, digits: int = 0) -> str:
    """A share (0.42) as the locale writes a percentage ("42%", "42 %")."""
    pattern = Locale.parse(current()).percent_formats[None].pattern.split(";")[0]
    if digits:  # the locale's own pattern ("#,##0 %"), with the decimals asked for
        pattern = re.sub(r"0(?![0-9])", "0." + "0" * digits, pattern, count=1)
    return format_percent(value, format=pattern, locale=current())


def confidence() -> str:
    """The confidence of cxlog's intervals, "95%" ("95 %" in French): a
    placeholder in sentences, so a "95% i…" is never taken for a printf format."""
    return percent(0.95)


def points(value: float, digits: int = 0) -> str:
    """A difference of two shares in percentage points, signed ("+4", "−2,5")."""
    text = number(abs(value) * 100, digits)
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def wait(seconds: int) -> str:
    """A wait as a store reads it (issue #30): "45 s", "2 min", "2 min 30 s"."""
    minutes, rest = divmod(int(seconds), 60)
    if not minutes:
        return _("{n} s").format(n=number(rest))
    if not rest:
        return _("{n} min").format(n=number(minutes))
    return _("{m} min {s} s").format(m=number(minutes), s=number(rest))
