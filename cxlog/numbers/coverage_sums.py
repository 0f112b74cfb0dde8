"""Coverage pre-summed and kept exact on every write (issue #13), so the
dashboard's coverage is a few hundred rows, not a year of counter hours
joined to the visits. No Streamlit and no pandas on the write path.

**What is stored** (numbers as ``cxlog.coverage.coverage`` defines them):

- on each ``traffic_hours`` row: its ``visitors`` (the store's counter
  settings applied), its store-local ``day`` (days since 1970) and ``hour``,
  the ``logged``, ``closed``, ``purchased`` and ``units`` of the non-voided
  visits that started in it, and ``pos_transactions`` (the hourly POS lines of
  that local hour; the hour repeated when clocks go back holds them once, on
  its first pass). A partial index finds the flagged hours: logged > visitors
  (a silent counter, or more logged than counted) or a silent counter while
  the POS rang sales.
- ``coverage_days``, one row per store and local day with counter hours, POS
  lines or logged visits outside every counter hour: the day's counter hours
  and visitors; logged, closed, purchased and units of the hours that counted
  someone; ``silent_logged`` (visits in hours that counted nobody);
  ``uncounted`` (visits of the day in no counter hour); the day's POS sums;
  ``heat``, float64 [2][24]: visitors and logged per local hour.
- ``coverage_months``: ``heat`` per store and local month (first day as
  days since 1970), float64 [2][7][24]: visitors and logged per weekday
  (0 = Monday) and hour, the sum of its days'.
- ``pos_totals.lone``: 1 when a POS line with sales has no counter figure
  (no counter hour at its hour, or none that day for a whole-day line).

**How it stays exact.** ``apply`` moves a visit's contribution on every write
(called through ``cxlog.numbers.derived``, inside the write's transaction); imports,
counter settings and a timezone change call ``rebuild`` for the store, which
recomputes everything from the counter hours, POS lines and visits and fixes
what differed. A store without any counter hour stores nothing for its visits.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from cxlog.calendar import localday
from cxlog.numbers import facts
from cxlog.storage.rebuilt import Rebuilt

# The WHERE of the traffic_hours_flagged index (migration i13_coverage_sums),
# word for word: SQLite uses a partial index only for a query that says it.
FLAGGED = "(logged > visitors OR (visitors = 0 AND pos_transactions > 0))"
DAY_SUMS = (
    "hours",
    "visitors",
    "logged",
    "closed",
    "purchased",
    "units",
    "silent_logged",
    "uncounted",
    "pos_transactions",
    "pos_units",
    "pos_net_cents",
)
HOUR_SUMS = (
    "visitors",
    "day",
    "hour",
    "logged",
    "closed",
    "purchased",
    "units",
    "pos_transactions",
)
DAY_HEAT = 2 * 24  # float64 cells of a day's heat: visitors, logged per local hour


def visitors(entries: np.ndarray, exits: np.ndarray, two_way: bool, staff: float) -> np.ndarray:
    """Visitors of each counter hour: entries, or (entries + exits) / 2 for a
    two-way beam where exits were counted (-1: not counted), less the staff
    allowance, never below 0."""
    counted = entries.astype(float)
    if two_way:
        counted = np.where(exits >= 0, (counted + exits) / 2, counted)
    return np.clip(counted - staff, 0, None)


# --- one visit's write ---------------------------------------------------------------


_LOCATE = """
SELECT * FROM (SELECT hour_start, hour_end, visitors, day, hour FROM traffic_hours
    WHERE store_id = ? AND hour_start <= ? ORDER BY hour_start DESC LIMIT 1) AS latest
UNION ALL
SELECT * FROM (SELECT CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS REAL),
    CAST(NULL AS INTEGER), CAST(NULL AS INTEGER) FROM traffic_hours WHERE store_id = ? LIMIT 1)
    AS any_hour
"""


def _target(db, store_id: int, started: str, timezone: str) -> tuple | None:
    """Where a visit started at ``started`` counts: ("hour", hour_start,
    visitors, day, hour) for the counter hour it started in, ("day", local
    day) when it started in no counter hour of a store that has some, None
    when the store has no counter at all. One statement: the second part is
    read only when the first finds no hour."""
    row = db.execute(_LOCATE, [store_id, started, store_id]).fetchone()
    if row is None:
        return None
    if row[0] is not None and started < row[1]:
        return ("hour", *row[:1], *row[2:])

    utc = datetime.fromisoformat(started).replace(microsecond=0)
    return ("day", localday.day_number(localday.local_date(utc, timezone)))


def _sums(visit: Mapping) -> tuple[int, int, int, int]:
    purchased = visit["outcome"] == "purchased"
    return (
        1,
        int(visit["outcome"] is not None),
        int(purchased),
        int(visit["units"] or 0) if purchased else 0,
    )


def apply(db, store_id: int, before: Mapping | None, after: Mapping | None, timezone: str) -> None:
    """Move the coverage sums from a visit's old row to its new one, inside
    the caller's transaction (``cxlog.numbers.derived.apply`` calls it)."""
    found: dict[str, tuple | None] = {}  # by start time: a visit's start seldom changes

    def target(visit: Mapping | None) -> tuple | None:
        if visit is None or visit["voided_at"] is not None:
            return None  # a voided visit counts nowhere
        started = visit["started_at"]
        if started not in found:
            found[started] = _target(db, store_id, started, timezone)
        return found[started]

    old, new = target(before), target(after)
    if old is None and new is None:
        return
    moves: list[tuple[tuple, tuple[int, ...]]] = []
    if old is not None and old == new:
        a, b = _sums(before), _sums(after)
        delta = tuple(y - x for x, y in zip(a, b, strict=True))
        if any(delta):
            moves.append((new, delta))
    else:
        if old is not None:
            moves.append((old, tuple(-x for x in _sums(before))))
        if new is not None:
            moves.append((new, _sums(after)))
    for target, delta in moves:
        _move(db, store_id, target, delta)


def _move(db, store_id: int, target: tuple, delta: tuple[int, ...]) -> None:
    conn = db
    if target[0] == "day":
        day = target[1]
        conn.execute(
            "INSERT INTO coverage_days (store_id, day, uncounted, heat) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (store_id, day)"
            " DO UPDATE SET uncounted = coverage_days.uncounted + excluded.uncounted",
            [store_id, day, delta[0], bytes(8 * DAY_HEAT)],
        )
        # A day whose last uncounted visit left it holds nothing: remove it,
        # so the table is exactly what a rebuild makes.
        conn.execute(
            "DELETE FROM coverage_days WHERE store_id = ? AND day = ? AND hours = 0"
            " AND uncounted = 0 AND pos_transactions IS NULL",
            [store_id, day],
        )
        return
    _, hour_start, counted, day, hour = target
    conn.execute(
        "UPDATE traffic_hours SET logged = logged + ?, closed = closed + ?,"
        " purchased = purchased + ?, units = units + ? WHERE store_id = ? AND hour_start = ?",
        [*delta, store_id, hour_start],
    )
    if counted <= 0:
        # The counter counted nobody: the visits are not coverage (a broken
        # counter is not 100% logged); they are counted apart.
        conn.execute(
            "UPDATE coverage_days SET silent_logged = silent_logged + ?"
            " WHERE store_id = ? AND day = ?",
            [delta[0], store_id, day],
        )
        return
    (heat,) = conn.execute(
        "SELECT heat FROM coverage_days WHERE store_id = ? AND day = ?", [store_id, day]
    ).fetchone()
    conn.execute(
        "UPDATE coverage_days SET logged = logged + ?, closed = closed + ?,"
        " purchased = purchased + ?, units = units + ?, heat = ? WHERE store_id = ? AND day = ?",
        [*delta, _added(heat, 24 + hour, delta[0]), store_id, day],
    )
    if delta[0]:
        month = localday.month_start(day)
        (heat,) = conn.execute(
            "SELECT heat FROM coverage_months WHERE store_id = ? AND month = ?",
            [store_id, month],
        ).fetchone()
        conn.execute(
            "UPDATE coverage_months SET heat = ? WHERE store_id = ? AND month = ?",
            [_added(heat, 7 * 24 + localday.weekday(day) * 24 + hour, delta[0]), store_id, month],
        )


def _added(blob: bytes, at: int, amount: int) -> bytes:
    cells = array("d", blob)
    cells[at] += amount
    return cells.tobytes()


# --- recomputing a store ------------------------------------------------------------------


def rebuild(db, store_ids: Iterable[int] | None = None) -> Rebuilt:
    """Recompute the stores' coverage sums from their counter hours, POS lines,
    visits, counter settings and timezone, inside the caller's transaction;
    fix and count every row (or hour's sums) that differed."""
    stores = dict(db.execute("SELECT id, timezone FROM stores ORDER BY id").fetchall())
    by_store: dict[int, int] = {}
    if store_ids is None:
        gone = 0
        for table in ("coverage_days", "coverage_months"):
            gone += db.execute(
                f"DELETE FROM {table} WHERE store_id NOT IN (SELECT id FROM stores)"
            ).rowcount
        if gone:
            by_store[0] = gone
        store_ids = list(stores)
    wanted = [int(s) for s in store_ids]
    for store_id in wanted:
        if fixed := _rebuild_store(db, store_id, stores[store_id]):
            by_store[store_id] = fixed
    marks = ", ".join("?" * len(wanted))
    rows = db.execute(
        f"SELECT count(*) FROM coverage_days WHERE store_id IN ({marks})", wanted
    ).fetchone()[0]
    return Rebuilt(rows, sum(by_store.values()), by_store)


def _settings(db, store_id: int) -> tuple[bool, float]:
    row = db.execute(
        "SELECT two_way, staff_per_hour FROM traffic_settings WHERE store_id = ?", [store_id]
    ).fetchone()
    return (False, 0.0) if row is None else (bool(row[0]), float(row[1]))


@dataclass(frozen=True)
class _Hours:
    """A store's counter hours in time order, as they should be and as stored."""

    text: np.ndarray  # hour_start as stored (the key)
    start: np.ndarray  # Unix seconds
    visitors: np.ndarray
    day: np.ndarray  # store-local, days since 1970
    hour: np.ndarray  # store-local
    stored: dict[str, np.ndarray]  # HOUR_SUMS as stored; pos_transactions -1 for none


def stamps(text: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` to_utc_text values joined without a separator (they are
    fixed-width): (the texts as bytes, Unix seconds of each)."""
    texts = np.frombuffer(text.encode("ascii"), dtype=f"S{len(text) // count}")
    return texts, texts.astype("S19").astype("datetime64[s]").astype(np.int64)


def hour_columns(
    db, store_id: int, timezone: str, start: np.ndarray, entries: np.ndarray, exits: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Visitors, local day and local hour of counter hours starting at ``start``
    (Unix seconds), under the store's counter settings and timezone (an
    import writes them with the hours; ``rebuild`` checks them)."""

    wall = localday.local_seconds(start, timezone)
    people = visitors(entries, exits, *_settings(db, store_id))
    return people, wall // 86_400, wall % 86_400 // 3_600


def _hours(db, store_id: int, timezone: str) -> _Hours:
    """The store's counter hours, each column read as one string (the texts
    are fixed-width) that numpy parses, so stored and expected values are
    compared as whole arrays, not hour by hour in Python. ``%!.17g`` prints a
    visitors figure with the digits that read back as the same double."""
    columns = {
        "entries": "entries",
        "exits": "coalesce(exits, -1)",
        "visitors": "printf('%!.17g', visitors)",
        **{c: c for c in HOUR_SUMS if c != "visitors"},
    }
    columns["pos_transactions"] = "coalesce(pos_transactions, -1)"
    count, text, *values = db.execute(
        "SELECT count(*), group_concat(hour_start, ''), "
        + ", ".join(f"group_concat({sql}, ',')" for sql in columns.values())
        + " FROM (SELECT * FROM traffic_hours WHERE store_id = ? ORDER BY hour_start) AS h",
        [store_id],
    ).fetchone()
    if not count:
        empty = np.zeros(0, dtype=np.int64)
        return _Hours(
            empty.astype("S24"),
            empty,
            empty.astype(float),
            empty,
            empty,
            {c: empty for c in HOUR_SUMS},
        )
    texts, start = stamps(text, count)
    parsed = {
        name: np.fromstring(v, dtype=float if name == "visitors" else np.int64, sep=",")
        for name, v in zip(columns, values, strict=True)
    }
    entries, exits = parsed.pop("entries"), parsed.pop("exits")
    return _Hours(
        texts, start, *hour_columns(db, store_id, timezone, start, entries, exits), parsed
    )


def _logged(db, store_id: int, hours: _Hours, timezone: str) -> tuple[np.ndarray, dict]:
    """(n, 4) logged, closed, purchased, units of the visits in each counter
    hour, and {local day: visits of that day in no counter hour}."""
    sums = np.zeros((len(hours.start), 4), dtype=np.int64)
    if not len(hours.start):
        return sums, {}  # a store without a counter keeps nothing
    everything = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    f = facts.read(db, {store_id: everything})
    at = np.searchsorted(hours.start, f.started, side="right") - 1
    inside = (at >= 0) & (f.started < hours.start[np.maximum(at, 0)] + 3_600)
    purchased = f.outcome == facts.PURCHASED_CODE
    values = np.stack(
        [
            np.ones(len(f), dtype=np.int64),
            (f.outcome != facts.OPEN_CODE).astype(np.int64),
            purchased.astype(np.int64),
            np.where(purchased, f.units, 0).astype(np.int64),
        ],
        axis=1,
    )
    np.add.at(sums, at[inside], values[inside])
    outside = localday.local_seconds(f.started[~inside], timezone) // 86_400
    days, counts = np.unique(outside, return_counts=True)
    return sums, dict(zip(days.tolist(), counts.tolist(), strict=True))


def _pos(db, store_id: int, hours: _Hours) -> tuple[list, dict[int, list], int]:
    """Each counter hour's hourly POS transactions (None: no line), the POS
    sums of each local day [transactions, units or None, net cents or None],
    and how many lines' ``lone`` mark was wrong (fixed here)."""
    per_hour: list[int | None] = [None] * len(hours.start)
    per_day: dict[int, list] = {}
    lines = db.execute(
        "SELECT day, hour, transactions, units, net_sales_cents, lone FROM pos_totals"
        " WHERE store_id = ?",
        [store_id],
    ).fetchall()
    if not lines:
        return per_hour, per_day, 0
    # Each local (day, hour)'s first counter hour: the repeated hour's first pass.
    keys, first = np.unique(hours.day * 24 + hours.hour, return_index=True)
    first_hour = dict(zip(keys.tolist(), first.tolist(), strict=True))
    counter_days = set(hours.day.tolist())
    wrong = []
    for text, at_hour, transactions, units, cents, lone in lines:
        d = localday.day_number(date.fromisoformat(text))
        if at_hour >= 0:
            i = first_hour.get(d * 24 + at_hour)
            if i is not None:
                per_hour[i] = (per_hour[i] or 0) + transactions
            matched = i is not None
        else:
            matched = d in counter_days
        if int(transactions > 0 and not matched) != lone:
            wrong.append((int(not lone), store_id, text, at_hour))
        sums = per_day.setdefault(d, [0, 0, None])
        sums[0] += transactions
        sums[1] = None if units is None or sums[1] is None else sums[1] + units
        sums[2] = sums[2] if cents is None else (sums[2] or 0) + cents
    db.executemany(
        "UPDATE pos_totals SET lone = ? WHERE store_id = ? AND day = ? AND hour = ?", wrong
    )
    return per_hour, per_day, len(wrong)


def _fix_hours(db, store_id: int, hours: _Hours, sums: np.ndarray, pos: list) -> int:
    """Store each counter hour's HOUR_SUMS where they differ; how many did."""
    expected = {
        "visitors": hours.visitors,
        "day": hours.day,
        "hour": hours.hour,
        **{name: sums[:, k] for k, name in enumerate(("logged", "closed", "purchased", "units"))},
        "pos_transactions": np.array([-1 if p is None else p for p in pos], dtype=np.int64),
    }
    wrong = np.zeros(len(hours.start), dtype=bool)
    for name, values in expected.items():
        wrong |= hours.stored[name] != values
    at = np.flatnonzero(wrong)
    rows = [
        (*(expected[name][i].item() for name in HOUR_SUMS[:-1]), pos[i], store_id, text)
        for i, text in zip(at.tolist(), hours.text[at].astype(str).tolist(), strict=True)
    ]
    db.executemany(
        f"UPDATE traffic_hours SET {', '.join(f'{c} = ?' for c in HOUR_SUMS)}"
        " WHERE store_id = ? AND hour_start = ?",
        rows,
    )
    return len(rows)


def _days(
    hours: _Hours, sums: np.ndarray, uncounted: dict, pos: dict[int, list]
) -> tuple[dict[int, tuple], dict[int, bytes]]:
    """coverage_days rows (DAY_SUMS and heat) and coverage_months heats, by day and month."""

    days, at = np.unique(hours.day, return_inverse=True)
    at = at.ravel()
    busy = hours.visitors > 0
    logged = np.where(busy[:, None], sums, 0)
    heat = np.zeros((len(days), 2, 24))
    np.add.at(heat[:, 0], (at, hours.hour), hours.visitors)
    np.add.at(heat[:, 1], (at, hours.hour), logged[:, 0])

    def per_day(values: np.ndarray) -> list:
        return np.bincount(at, weights=values, minlength=len(days)).tolist()

    counted = {
        d: (n, people, *(round(x) for x in rest), blob)
        for d, n, people, *rest, blob in zip(
            days.tolist(),
            np.bincount(at, minlength=len(days)).tolist(),
            per_day(hours.visitors),
            *(per_day(logged[:, k]) for k in range(4)),
            per_day(np.where(busy, 0, sums[:, 0])),  # silent_logged
            [h.tobytes() for h in heat],
            strict=True,
        )
    }
    empty = (0, 0.0, 0, 0, 0, 0, 0, np.zeros((2, 24)).tobytes())
    rows = {}
    for d in sorted(counted.keys() | uncounted.keys() | pos.keys()):
        *front, blob = counted.get(d, empty)
        sold = pos.get(d, (None, None, None))
        rows[d] = (*front, uncounted.get(d, 0), *sold, blob)
    months: dict[int, np.ndarray] = {}
    for d, h in zip(days.tolist(), heat, strict=True):
        m = months.setdefault(localday.month_start(d), np.zeros((2, 7, 24)))
        m[:, localday.weekday(d), :] += h
    return rows, {m: h.tobytes() for m, h in months.items()}


def _rebuild_store(db, store_id: int, timezone: str) -> int:
    hours = _hours(db, store_id, timezone)
    sums, uncounted = _logged(db, store_id, hours, timezone)
    pos_hour, pos_days, lone_fixed = _pos(db, store_id, hours)
    fixed = _fix_hours(db, store_id, hours, sums, pos_hour) + lone_fixed
    return fixed + _replace(db, store_id, *_days(hours, sums, uncounted, pos_days))


def _replace(db, store_id: int, days: dict[int, tuple], months: dict[int, bytes]) -> int:
    """Make the store's day and month rows exactly these; the count that differed."""
    columns = ", ".join(DAY_SUMS)
    stored_days = {
        r[0]: tuple(r[1:])
        for r in db.execute(
            f"SELECT day, {columns}, heat FROM coverage_days WHERE store_id = ?", [store_id]
        ).fetchall()
    }
    stored_months = dict(
        db.execute(
            "SELECT month, heat FROM coverage_months WHERE store_id = ?", [store_id]
        ).fetchall()
    )
    wrong_days = [d for d in stored_days.keys() | days.keys() if stored_days.get(d) != days.get(d)]
    wrong_months = [
        m for m in stored_months.keys() | months.keys() if stored_months.get(m) != months.get(m)
    ]
    db.executemany(
        "DELETE FROM coverage_days WHERE store_id = ? AND day = ?",
        [(store_id, d) for d in wrong_days],
    )
    db.executemany(
        f"INSERT INTO coverage_days (store_id, day, {columns}, heat)"
        f" VALUES ({', '.join('?' * (len(DAY_SUMS) + 3))})",
        [(store_id, d, *days[d]) for d in wrong_days if d in days],
    )
    db.executemany(
        "DELETE FROM coverage_months WHERE store_id = ? AND month = ?",
        [(store_id, m) for m in wrong_months],
    )
    db.executemany(
        "INSERT INTO coverage_months (store_id, month, heat) VALUES (?, ?, ?)",
        [(store_id, m, months[m]) for m in wrong_months if m in months],
    )
    return len(wrong_days) + len(wrong_months)
