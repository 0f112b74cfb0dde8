"""Time to greet's waits, kept exact on every write (issue #30).

Only visits with an arrival tap count (``visits.arrived_at`` set): greeted
ones carry ``greet_seconds``, those closed as "left before greeting" carry
``left_before_greeting = 1``. Their counts per hour, associate and store
are three sums of the rollups (cxlog/numbers/rollups.py: arrivals, on_time,
left_before), which the dashboard reads anyway. This table keeps what the
rollups cannot: how long the greeted waited, for the median, the 90th
percentile and conversion per wait band.

``greet_sums`` is keyed like the rollups (``store_id, grain, bucket, kind,
k1, k2``; day, week and month grains of the store's local calendar, by the
visit's start) with the seven sums of ``GreetCounts``. One kind, ``wait``:
k1 the wait's bin (``wait_bin``: the first of ``EDGES`` at or above the
seconds to greet, ``LONGER`` above them all), k2 1 for customers who left
(k1 0). A store's standard and band edges are among ``EDGES``, so on time
and every band are sums of whole bins, and a year of a chain is a few
thousand rows. ``on_time`` counts greeted visits within the store's
standard *as set now*: changing it recomputes the store's rows in the same
transaction (cxlog/greeting/rules.py). ``apply`` moves a visit's old
contribution to its new one inside the visit's write; ``rebuild``
recomputes from the visits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

import numpy as np

from cxlog.calendar.localday import day_number, local_seconds, zone
from cxlog.core.model import FIRST_ENGAGEMENTS
from cxlog.numbers import rollups
from cxlog.numbers.metrics import Counts, Rate
from cxlog.numbers.rollups import DAY, MONTH, WEEK, Kind
from cxlog.storage import settings
from cxlog.storage.engine import Database
from cxlog.storage.rebuilt import Rebuilt

# Seconds: the bins' upper edges. A standard and the bands' edges are among
# them (cxlog/greeting/rules.py). Retail standards say 10, 20 or 30 s; a
# manager reads "half were greeted within 30 s".
EDGES = (10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800)
LONGER = 86_400  # the bin above the last edge
KINDS: dict[str, Kind] = {"wait": Kind(1, ("wait_bin", "left"), (DAY, WEEK, MONTH))}
SUMS = ("arrivals", "warm", "closed", "purchased", "units", "on_time", "left_before")


@dataclass(frozen=True)
class GreetCounts:
    """Sums over visits with an arrival tap; every time-to-greet figure
    derives from these (docs/product.md)."""

    arrivals: int = 0  # visits with an arrival: greeted + left
    warm: int = 0
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
        return Counts(self.arrivals, self.warm, self.closed, self.purchased, self.units)


TABLE = rollups.Table("greet_sums", KINDS, SUMS, GreetCounts)
_KEY = ("store_id", "grain", "bucket", "kind", "k1", "k2")
_UPSERT = (
    f"INSERT INTO greet_sums ({', '.join(_KEY + SUMS)}) VALUES ({', '.join('?' * 13)})"
    f" ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET "
    + ", ".join(f"{s} = greet_sums.{s} + excluded.{s}" for s in SUMS)
)
_DELETE = f"DELETE FROM greet_sums WHERE {' AND '.join(f'{k} = ?' for k in _KEY)}"


def wait_bin(seconds: int) -> int:
    """The bin a wait is counted in: the first edge at or above it."""
    return next((edge for edge in EDGES if seconds <= edge), LONGER)


def bins(seconds: np.ndarray) -> np.ndarray:
    """``wait_bin`` of each wait."""
    edges = np.array([*EDGES, LONGER], dtype=np.int64)
    return edges[np.searchsorted(edges[:-1], seconds, side="left")]


def contribution(visit: Mapping, timezone: str, standard: int) -> dict[tuple, tuple]:
    """What one visits row adds: {(grain, bucket, kind, k1, k2): sums}; a
    visit without an arrival, or voided, adds nothing."""
    if visit is None or visit["voided_at"] is not None or visit["arrived_at"] is None:
        return {}
    utc = datetime.fromisoformat(visit["started_at"]).replace(microsecond=0)
    local = utc.astimezone(zone(timezone))
    day = day_number(local.date())
    left = bool(visit["left_before_greeting"])
    wait = visit["greet_seconds"]
    purchased = visit["outcome"] == "purchased"
    sums = (
        1,
        int(visit["first_engagement"] == FIRST_ENGAGEMENTS[0]),
        int(visit["outcome"] is not None),
        int(purchased),
        int(visit["units"]) if purchased else 0,
        int(not left and wait is not None and wait <= standard),
        int(left),
    )
    keys = {"wait": (0, 1) if left else (wait_bin(wait or 0), 0)}
    return {
        (grain, rollups.bucket(grain, day), kind.code, *keys[name]): sums
        for name, kind in KINDS.items()
        for grain in kind.grains
    }


def apply(
    db: Database, store: int, before: Mapping | None, after: Mapping | None, timezone: str
) -> int:
    """Move the sums from a visit's old row to its new one, in the caller's
    transaction. A visit without an arrival costs nothing here."""
    if (before is None or before["arrived_at"] is None) and (
        after is None or after["arrived_at"] is None
    ):
        return 0
    standard = settings.greet_rules_in(db, [store])[store].standard
    old = contribution(before, timezone, standard) if before is not None else {}
    new = contribution(after, timezone, standard) if after is not None else {}
    upserts, drops = [], []
    for key in old.keys() | new.keys():
        a, b = old.get(key, (0,) * 7), new.get(key, (0,) * 7)
        delta = tuple(y - x for x, y in zip(a, b, strict=True))
        if any(delta):
            upserts.append((store, *key, *delta))
            if delta[0] < 0:
                drops.append((store, *key))
    if upserts:
        db.executemany(_UPSERT, upserts)
    if drops:
        db.executemany(_DELETE + " AND arrivals = 0", drops)
    return len(upserts)


def _expected(db: Database, store_id: int, timezone: str, standard: int) -> dict:
    rows = db.execute(
        "SELECT unixepoch(started_at), first_engagement, coalesce(outcome, ''),"
        " coalesce(units, 0), coalesce(greet_seconds, 0), left_before_greeting"
        " FROM visits WHERE store_id = ? AND arrived_at IS NOT NULL AND voided_at IS NULL",
        [store_id],
    ).fetchall()
    if not rows:
        return {}
    started, engagement, outcome, units, wait, left = zip(*rows, strict=True)
    local = local_seconds(np.array(started, dtype=np.int64), timezone)
    day = local // 86_400
    buckets = rollups.buckets(day)
    left = np.array(left, dtype=np.int64)
    wait = np.array(wait, dtype=np.int64)
    outcome = np.array(outcome)
    purchased = outcome == "purchased"
    sums = np.stack(
        [
            np.ones(len(rows), dtype=np.int64),
            np.array(engagement) == FIRST_ENGAGEMENTS[0],
            outcome != "",
            purchased,
            np.where(purchased, np.array(units, dtype=np.int64), 0),
            (left == 0) & (wait <= standard),
            left,
        ]
    ).astype(np.int64)
    keys = {"wait": (np.where(left == 1, 0, bins(wait)), left)}
    return rollups.grouped(KINDS, keys, buckets, sums)


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
    rules = settings.greet_rules_in(db, wanted)
    total, by_store = 0, {}
    for store_id in wanted:
        expected = _expected(db, store_id, stores[store_id], rules[store_id].standard)
        cursor = db.execute(
            f"SELECT grain, bucket, kind, k1, k2, {', '.join(SUMS)} FROM greet_sums"
            " WHERE store_id = ?",
            [store_id],
        )
        stored = {tuple(r[:5]): tuple(r[5:]) for r in cursor}
        wrong = [k for k in stored.keys() | expected.keys() if stored.get(k) != expected.get(k)]
        if wrong:
            by_store[store_id] = len(wrong)
            db.executemany(_DELETE, [(store_id, *k) for k in wrong if k in stored])
            db.executemany(
                f"INSERT INTO greet_sums ({', '.join(_KEY + SUMS)}) VALUES ({', '.join('?' * 13)})",
                [(store_id, *k, *expected[k]) for k in wrong if k in expected],
            )
        total += len(expected)
    if orphans:
        by_store[0] = orphans
    return Rebuilt(total, sum(by_store.values()), by_store)


def sums(
    db: Database,
    store_ids: int | Sequence[int],
    kinds: Sequence[str],
    first_day: date,
    last_day: date,
    *,
    per_store: bool = False,
) -> dict[str, dict[tuple, GreetCounts]]:
    """{kind: {(k1, k2) or (store, k1, k2): GreetCounts}} over the stores'
    local days [first_day, last_day], several kinds in one read."""
    return rollups._read(
        db,
        store_ids,
        kinds,
        first_day,
        last_day,
        (DAY, WEEK, MONTH),
        per_week=False,
        per_store=per_store,
        table=TABLE,
    )


# A store-day's totals: every arrival is in exactly one of the day's ``wait``
# rows, which lead the key (store, grain, bucket, kind), so this is one index
# range summed into one row. The board builds the team line on every visit
# change: this is ~0.6 ms cheaper than ``sums``' grouped read, whose bins the
# line does not need. CAST: PostgreSQL's sum is a numeric otherwise.
_DAY_TOTALS = (
    f"SELECT {', '.join(f'CAST(coalesce(sum({s}), 0) AS BIGINT)' for s in SUMS)}"
    " FROM greet_sums WHERE store_id = ? AND grain = ? AND bucket = ? AND kind = ?"
)


def day_totals(db: Database, store_id: int, day: date) -> GreetCounts:
    """One store's totals over one of its local days."""
    row = db.execute(_DAY_TOTALS, [store_id, DAY, day_number(day), KINDS["wait"].code]).fetchone()
    return GreetCounts(*(int(v) for v in row))


def summed(visits: Iterable[Mapping], zones: Mapping[int, str], standards: Mapping[int, int]):
    """The same sums over single visits rows (a filtered selection, the
    tests): {kind: {(store, k1, k2): GreetCounts}}."""
    out: dict[str, dict[tuple, GreetCounts]] = {k: {} for k in KINDS}
    names = {kind.code: name for name, kind in KINDS.items()}
    for visit in visits:
        store = visit["store_id"]
        for (grain, _bucket, code, k1, k2), s in contribution(
            visit, zones[store], standards[store]
        ).items():
            if grain != DAY:
                continue
            key = (store, k1, k2)
            into = out[names[code]]
            into[key] = into.get(key, GreetCounts()) + GreetCounts(*s)
    return out
