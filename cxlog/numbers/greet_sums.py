"""Time to greet's waits, kept exact on every write (issue #30).

Only visits with an arrival tap count (``visits.arrived_at`` set): greeted
ones carry ``greet_seconds``, those closed as "left before greeting" carry
``left_before_greeting = 1``. Their counts per hour, associate and store
are three sums of the rollups (cxlog/numbers/rollups.py: arrivals, on_time,
left_before), which the dashboard reads anyway. This table keeps what the
rollups cannot: how long the greeted waited, for the median, the 90th
percentile and conversion per wait band.

Each greeted visit is counted in its wait's bin (``wait_bin``: the first of
``EDGES`` at or above its seconds to greet, ``LONGER`` above them all). A
store's standard and band edges are among ``EDGES``, so on time and every
band are sums of whole bins. ``greet_sums`` holds one row per store and
local day, week (Monday first) and month (by the visit's start), with who
left and, per bin, how many were greeted, closed, bought and the units: a
chain's year is a few hundred rows (the dashboard's section reads one per
store and run of days). Nothing here depends on the store's rules.
``apply`` moves a visit's old contribution to its new one inside the
visit's write; ``rebuild`` recomputes from the visits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache

import numpy as np

from cxlog.calendar.localday import day_number, local_seconds, zone
from cxlog.numbers import rollups
from cxlog.numbers.metrics import Counts, Rate
from cxlog.numbers.rollups import DAY, MONTH, WEEK
from cxlog.storage import settings
from cxlog.storage.engine import Database
from cxlog.storage.rebuilt import Rebuilt

# Seconds: the bins' upper edges. A standard and the bands' edges are among
# them (cxlog/greeting/rules.py). Retail standards say 10, 20 or 30 s; a
# manager reads "half were greeted within 30 s".
EDGES = (10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800)
LONGER = 86_400  # the bin above the last edge
BINS = (*EDGES, LONGER)
GRAINS = (DAY, WEEK, MONTH)
_PER_BIN = ("n", "closed", "bought", "units")
# The table's sums, in order: who left, then per bin its four.
COLUMNS = (
    "left_before",
    "left_closed",
    "left_bought",
    "left_units",
    *(f"{s}_{edge}" for edge in BINS for s in _PER_BIN),
)
_LEFT = 4  # the bins' sums start after those who left
_WIDTH = len(COLUMNS)


@dataclass(frozen=True)
class GreetCounts:
    """Sums over visits with an arrival tap; every time-to-greet figure
    derives from these (docs/product.md)."""

    arrivals: int = 0  # visits with an arrival: greeted + left
    closed: int = 0
    purchased: int = 0
    units: int = 0
    on_time: int = 0  # greeted within the store's standard
    left_before: int = 0  # closed as "left before greeting"

    def __add__(self, other: GreetCounts) -> GreetCounts:
        return GreetCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def greeted(self) -> int:
        return self.arrivals - self.left_before

    @property
    def on_time_rate(self) -> Rate:
        """Greeted within the standard ÷ every arrival (one who left was not)."""
        return Rate(self.on_time, self.arrivals)

    @property
    def counts(self) -> Counts:
        """As visits' Counts: conversion, units per sale, too few."""
        return Counts(self.arrivals, 0, self.closed, self.purchased, self.units)


SUMS = tuple(f.name for f in fields(GreetCounts))
_KEY = ("store_id", "grain", "bucket")
_UPSERT = (
    f"INSERT INTO greet_sums ({', '.join(_KEY + COLUMNS)})"
    f" VALUES ({', '.join('?' * (3 + _WIDTH))})"
    f" ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET "
    + ", ".join(f"{c} = greet_sums.{c} + excluded.{c}" for c in COLUMNS)
)
_DELETE = "DELETE FROM greet_sums WHERE store_id = ? AND grain = ? AND bucket = ?"
_EMPTY = " AND " + " + ".join(("left_before", *(f"n_{edge}" for edge in BINS))) + " = 0"


def wait_bin(seconds: int) -> int:
    """The bin a wait is counted in: the first edge at or above it."""
    return next((edge for edge in EDGES if seconds <= edge), LONGER)


def bins(seconds: np.ndarray) -> np.ndarray:
    """``wait_bin`` of each wait."""
    edges = np.array(BINS, dtype=np.int64)
    return edges[np.searchsorted(edges[:-1], seconds, side="left")]


def _vector(visit: Mapping) -> tuple[int, ...]:
    """One visit's row of sums (COLUMNS order)."""
    out = [0] * _WIDTH
    at = (
        0
        if visit["left_before_greeting"]
        else _LEFT + BINS.index(wait_bin(visit["greet_seconds"] or 0)) * len(_PER_BIN)
    )
    bought = visit["outcome"] == "purchased"
    out[at : at + 4] = [
        1,
        int(visit["outcome"] is not None),
        int(bought),
        int(visit["units"]) if bought else 0,
    ]
    return tuple(out)


def contribution(visit: Mapping | None, timezone: str) -> dict[tuple, tuple]:
    """What one visits row adds: {(grain, bucket): sums}; a visit without an
    arrival, or voided, adds nothing."""
    if visit is None or visit["voided_at"] is not None or visit["arrived_at"] is None:
        return {}
    utc = datetime.fromisoformat(visit["started_at"]).replace(microsecond=0)
    day = day_number(utc.astimezone(zone(timezone)).date())
    row = _vector(visit)
    return {(grain, rollups.bucket(grain, day)): row for grain in GRAINS}


def apply(
    db: Database, store: int, before: Mapping | None, after: Mapping | None, timezone: str
) -> int:
    """Move the sums from a visit's old row to its new one, in the caller's
    transaction. A visit without an arrival costs nothing here."""
    old, new = contribution(before, timezone), contribution(after, timezone)
    # A run of days loses its last arrival only when some count went down.
    return rollups.move(
        db, store, old, new, _UPSERT, _DELETE + _EMPTY, lambda delta: min(delta) < 0
    )


def _expected(db: Database, store_id: int, timezone: str) -> dict:
    rows = db.execute(
        "SELECT unixepoch(started_at), CASE WHEN outcome IS NULL THEN 0"
        " WHEN outcome = 'purchased' THEN 2 ELSE 1 END, coalesce(units, 0),"
        " coalesce(greet_seconds, 0), left_before_greeting"
        " FROM visits WHERE store_id = ? AND arrived_at IS NOT NULL AND voided_at IS NULL",
        [store_id],
    ).fetchall()
    if not rows:
        return {}
    columns = zip(*rows, strict=True)
    started, outcome, units, wait, left = (np.array(c, dtype=np.int64) for c in columns)
    day = local_seconds(started, timezone) // 86_400
    at = np.where(left == 1, 0, _LEFT + np.searchsorted(np.array(BINS), bins(wait)) * len(_PER_BIN))
    values = np.zeros((len(rows), _WIDTH), dtype=np.int64)
    index = np.arange(len(rows))
    bought = outcome == 2
    for offset, column in enumerate(
        (np.ones(len(rows)), outcome > 0, bought, np.where(bought, units, 0))
    ):
        values[index, at + offset] = np.asarray(column, dtype=np.int64)
    out: dict[tuple, tuple] = {}
    for grain, bucket in rollups.buckets(day).items():
        codes, inverse = np.unique(bucket, return_inverse=True)
        summed = np.zeros((len(codes), _WIDTH), dtype=np.int64)
        np.add.at(summed, inverse.ravel(), values)
        for code, row in zip(codes.tolist(), summed.tolist(), strict=True):
            out[(grain, code)] = tuple(row)
    return out


def rebuild(db: Database, store_ids: Iterable[int] | None = None) -> Rebuilt:
    """Recompute the sums from the visits inside the caller's transaction;
    fix and count every row that differed."""
    stores = dict(db.execute("SELECT id, timezone FROM stores ORDER BY id").fetchall())
    wanted = list(stores) if store_ids is None else [int(s) for s in store_ids]
    orphans = 0
    if store_ids is None:
        orphans = db.execute(
            "SELECT count(*) FROM greet_sums WHERE store_id NOT IN (SELECT id FROM stores)"
        ).fetchone()[0]
        db.execute("DELETE FROM greet_sums WHERE store_id NOT IN (SELECT id FROM stores)")
    total, by_store = 0, {}
    for store_id in wanted:
        expected = _expected(db, store_id, stores[store_id])
        cursor = db.execute(
            f"SELECT grain, bucket, {', '.join(COLUMNS)} FROM greet_sums WHERE store_id = ?",
            [store_id],
        )
        stored = {tuple(r[:2]): tuple(r[2:]) for r in cursor}
        fixed = rollups.fix_rows(db, "greet_sums", _KEY, COLUMNS, store_id, stored, expected)
        if fixed:
            by_store[store_id] = fixed
        total += len(expected)
    if orphans:
        by_store[0] = orphans
    return Rebuilt(total, sum(by_store.values()), by_store)


def _as_counts(row: Sequence[int], standard: int) -> dict[tuple[int, int], GreetCounts]:
    """A row of sums as {(bin, left): GreetCounts}: (0, 1) who left, then
    each bin with anyone in it."""
    out = {}
    if row[0]:
        out[(0, 1)] = GreetCounts(row[0], row[1], row[2], row[3], 0, row[0])
    for i, edge in enumerate(BINS):
        n, closed, bought, units = row[_LEFT + 4 * i : _LEFT + 4 + 4 * i]
        if n:
            out[(edge, 0)] = GreetCounts(n, closed, bought, units, n if edge <= standard else 0)
    return out


@lru_cache(maxsize=256)
def _sums_sql(ids: tuple[int, ...], pieces: int) -> str:
    """One statement: each run one index range per store (store, grain and
    bucket lead the key), summed per store. CAST: PostgreSQL's sum is a
    numeric otherwise, read through Python. Cached: a page asks the same."""
    part = (
        f"SELECT store_id, {', '.join(COLUMNS)} FROM greet_sums"
        f" WHERE store_id IN ({', '.join(str(s) for s in ids)}) AND grain = ?"
        " AND bucket BETWEEN ? AND ?"
    )
    return (
        f"SELECT store_id, {', '.join(f'CAST(sum({c}) AS BIGINT)' for c in COLUMNS)}"
        f" FROM ({' UNION ALL '.join([part] * pieces)}) AS runs GROUP BY store_id"
    )


def sums(
    db: Database,
    store_ids: int | Sequence[int],
    first_day: date,
    last_day: date,
    *,
    per_store: bool = False,
    standards: Mapping[int, int] | None = None,
) -> dict[tuple, GreetCounts]:
    """{(bin, left) or (store, bin, left): GreetCounts} over the stores'
    local days [first_day, last_day]: (0, 1) those who left, (edge, 0) the
    greeted of each bin; on time per each store's standard as set now
    (``standards``: {store: seconds} when the caller has read them)."""
    ids = [store_ids] if isinstance(store_ids, int) else [int(s) for s in store_ids]
    lo, hi = day_number(first_day), day_number(last_day)
    if ids and hi - lo > rollups.CLAMP_DAYS:
        # An open-ended range (an export of everything): the stores' own days.
        held = db.execute(
            f"SELECT min(bucket), max(bucket) FROM greet_sums WHERE grain = {DAY}"
            f" AND store_id IN ({', '.join(str(s) for s in ids)})"
        ).fetchone()
        if held[0] is None:
            return {}
        lo, hi = max(lo, held[0]), min(hi, held[1])
    pieces = rollups.runs(lo, hi, GRAINS) if ids and hi >= lo else []
    out: dict[tuple, GreetCounts] = {}
    if not pieces:
        return out
    sql = _sums_sql(tuple(ids), len(pieces))
    if standards is None:
        standards = {s: r.standard for s, r in settings.greet_rules_in(db, ids).items()}
    for row in db.execute(sql, [v for run in pieces for v in run]):
        store = row[0]
        for key, c in _as_counts(row[1:], standards[store]).items():
            key = (store, *key) if per_store else key
            out[key] = out[key] + c if key in out else c
    return out


def day_totals(db: Database, store_id: int, day: date) -> GreetCounts:
    """One store's arrivals, on time and left over one of its local days
    (the huddle's line, the Log page's team line), from the rollups: one
    read."""
    whole = rollups.counts(db, {store_id: (day, day)}).get((), Counts())
    return GreetCounts(whole.arrivals, on_time=whole.on_time, left_before=whole.left_before)
