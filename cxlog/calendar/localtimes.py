"""Each visit's start and close as store-local text, kept on the visit (#12).

The visits CSV gives every visit's start and close in the store's local time
with its offset (``2026-10-08T19:13:59+01:00``). Worked out per visit while
exporting, the two conversions were ~1 s of CPU per million visits, the
largest part of the export; a visit's times never change once written, so the
text is worked out once, when the visit is written, and the export reads it.

- ``started_local`` / ``closed_local`` (and, issue #30, ``arrived_local``)
  are set with ``started_at`` / ``closed_at`` (``arrived_at``) by
  cxlog.visits.visits and cxlog.visits.arrivals; ``local_text`` makes them.
- Two triggers (migration ``i12_visits_keep_local_times``) empty them when
  the UTC time changes without them (a hand edit, a repair), and a visit
  written behind cxlog's back (a bulk load) has none: the export then works
  the text out from the UTC time as before. A stored text is therefore
  either right or absent, never stale.
- ``fill`` writes them for whole stores in one statement (the migration, a
  bulk load, a store's change of timezone), with the same SQL the export
  uses, so both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from cxlog.calendar import localday
from cxlog.calendar.offsets import offset_spans, offset_text
from cxlog.core.model import from_utc_text, utc_now

# SQLite's datetime() drops the fraction of a second; so does this.
_FORMAT = "%Y-%m-%dT%H:%M:%S"


def local_text(utc: str | None, timezone: str) -> str | None:
    """A stored UTC time as the store's local time with its offset."""
    if utc is None:
        return None
    local = from_utc_text(utc).astimezone(localday.zone(timezone))
    return local.strftime(_FORMAT) + offset_text(int(local.utcoffset().total_seconds()))


def convert_sql(column: str, span: str) -> str:
    """SQL for ``column`` (UTC text) as local text, given the export span
    ``span`` (offset spans: modifier, shift) that holds it."""
    return f"replace(datetime({column}, {span}.modifier), ' ', 'T') || {span}.shift"


def fill(db, store_ids: Iterable[int] | None = None) -> int:
    """Write both texts for every visit of these stores (all stores: None),
    inside the caller's transaction. Returns the visits written."""
    stores = db.execute("SELECT id, timezone FROM stores ORDER BY id").fetchall()
    wanted = None if store_ids is None else {int(s) for s in store_ids}
    stores = [(i, zone) for i, zone in stores if wanted is None or i in wanted]
    if not stores:
        return 0
    first, last = db.execute(
        "SELECT min(started_at), max(coalesce(closed_at, started_at)) FROM visits"
    ).fetchone()
    if first is None:
        return 0
    try:
        begin = from_utc_text(first) - timedelta(days=2)
        end = max(from_utc_text(last), utc_now()) + timedelta(days=2)
    except ValueError:
        return 0  # a time edited by hand that cxlog cannot read: the export works each out
    db.execute("DROP TABLE IF EXISTS temp.local_spans")
    db.execute(
        "CREATE TEMP TABLE local_spans"
        " (store_id INTEGER, since TEXT, until TEXT, modifier TEXT, shift TEXT)"
    )
    db.executemany(
        "INSERT INTO temp.local_spans VALUES (?, ?, ?, ?, ?)",
        [
            (store_id, since, until, f"{seconds:+d} seconds", offset_text(seconds))
            for store_id, zone in stores
            for since, until, seconds in offset_spans(localday.zone(zone), begin, end)
        ],
    )

    def converted(column: str) -> str:
        return (
            f"(SELECT {convert_sql(column, 'z')} FROM temp.local_spans z"
            f" WHERE z.store_id = v.store_id AND z.since <= {column} AND z.until > {column})"
        )

    # Issue #30: the arrival's text too, where the visits have the column (a
    # file migrated up to i12 only is filled before i30 adds it).
    arrived = (
        f""",
            arrived_local = CASE WHEN v.arrived_at IS NULL THEN NULL
                            ELSE {converted("v.arrived_at")} END"""
        if "arrived_local" in db.columns("visits")
        else ""
    )
    cursor = db.execute(
        f"""
        UPDATE visits AS v SET
            started_local = {converted("v.started_at")},
            closed_local = CASE WHEN v.closed_at IS NULL THEN NULL
                           ELSE {converted("v.closed_at")} END{arrived}
        WHERE v.store_id IN ({", ".join("?" * len(stores))})
        """,
        [store_id for store_id, _ in stores],
    )
    db.execute("DROP TABLE temp.local_spans")
    return cursor.rowcount
