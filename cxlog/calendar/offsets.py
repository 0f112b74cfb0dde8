"""A store's UTC offsets as spans of constant offset, from its IANA zone.

SQLite cannot read the tz database, but given the spans it turns a UTC time
into local ISO 8601 with one ``datetime()`` and the span's modifier (see
cxlog.export.csvlines, ``_local``). Spans are exact to the second (DST changes,
historic changes, half-hour zones).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cxlog.core.model import to_utc_text

# No zone has changed its offset twice within 6 hours; sampling this often
# finds every change, and bisection pins it to the second. A year costs
# ~1,500 offset lookups per store (~2 ms).
STEP = timedelta(hours=6)
EARLIEST, LATEST = "0000", "9999"  # sort before / after every stored UTC text


def offset_text(seconds: int) -> str:
    """ISO 8601 offset: +01:00, -03:30 (+00:01:15 for historic local mean time)."""
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def offset_seconds(zone: ZoneInfo, moment: datetime) -> int:
    return int(moment.astimezone(zone).utcoffset().total_seconds())


def offset_spans(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[str, str, int]]:
    """``(from, until, offset seconds)``: from inclusive, until exclusive, as
    stored UTC text. Exact between ``start`` and ``end``; the first span
    reaches back to EARLIEST and the last forward to LATEST."""
    start = start.replace(microsecond=0)
    spans = []
    since, current = EARLIEST, offset_seconds(zone, start)
    moment = start
    while moment < end:
        following = moment + STEP
        offset = offset_seconds(zone, following)
        if offset != current:
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = (low + (high - low) / 2).replace(microsecond=0)
                if offset_seconds(zone, middle) == current:
                    low = middle
                else:
                    high = middle
            change = to_utc_text(high)
            spans.append((since, change, current))
            since, current = change, offset
        moment = following
    spans.append((since, LATEST, current))
    return spans
