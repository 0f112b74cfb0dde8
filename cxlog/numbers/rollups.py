"""Pre-aggregated counts of visits, kept exact on every write (issue #12).

The dashboard, the summary CSV and later screens read these sums instead of
the visits, so a chain's year is a few thousand rows, not millions of visits.

**What is stored.** One table, ``rollups``, keyed by ``(store_id, kind, grain,
bucket, k1, k2)``. A *kind* is one way of grouping (see ``KINDS``); ``k1``
and ``k2`` are its two group keys (0 when unused or when a visit has no
reason / no-sale reason). A *grain* is a run of the store's local calendar:
a day, a week (Monday first) or a month; ``bucket`` is its first local day
as days since 1970-01-01. Each row holds the sums every number derives
from (``metrics.Counts``): visits, warm, closed, purchased, units,
amount_cents and with_amount, and (issue #30) arrivals, on_time and
left_before, time to greet's: the on-time count follows the store's
standard as set now (a new standard rebuilds the store's rows). Voided
visits are never counted. Coarser grains
exist so that a year is ~12 month rows plus a few day rows per group,
instead of 365.

**How it stays exact.** ``apply`` is called (through ``cxlog.numbers.derived``) with
a visit's row before and after every write, inside that write's transaction: it
subtracts the old row's contribution and adds the new one's. Whatever code
path changes a visit (start, close, correction, void, reopen, undo), the
diff is right. ``rebuild`` recomputes every row from the visits (numpy, a
store at a time), reports the rows that differed and fixes them.

**Reading** (for any screen): ``counts(db, store_days, by=...)`` sums whole
local days; see its docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from cxlog.calendar.localday import (
    day_number,
    day_of,
    local_seconds,
    month_start,
    week_start,
    week_start_sql,
    weekday,
    zone,
)
from cxlog.core.errors import ValidationError
from cxlog.core.model import FIRST_ENGAGEMENTS
from cxlog.numbers import facts
from cxlog.numbers.metrics import Counts
from cxlog.storage import settings
from cxlog.storage.engine import Database
from cxlog.storage.rebuilt import Rebuilt

DAY, WEEK, MONTH = 0, 1, 2
SUMS = (
    "visits",
    "warm",
    "closed",
    "purchased",
    "units",
    "amount_cents",
    "with_amount",
    # Issue #30: time to greet's three sums (metrics.Counts says what they are).
    "arrivals",
    "on_time",
    "left_before",
)
_N = len(SUMS)


@dataclass(frozen=True)
class Kind:
    code: int
    dims: tuple[str, str | None]  # what k1 and k2 hold
    grains: tuple[int, ...]


# Group keys as stored: first_engagement 0 warm, 1 neutral, 2 missed
# (FIRST_ENGAGEMENTS order); reason / no-sale reason ids, 0 for none;
# local_hour 0–23; weekday 0 = Monday.
KINDS: dict[str, Kind] = {
    "engagement": Kind(1, ("first_engagement", "connection_depth"), (DAY, WEEK, MONTH)),
    "reason": Kind(2, ("reason", None), (DAY, MONTH)),
    "no_sale_reason": Kind(3, ("no_sale_reason", None), (DAY, MONTH)),
    "associate": Kind(4, ("associate", "first_engagement"), (DAY, MONTH)),
    "hour": Kind(5, ("local_hour", "weekday"), (DAY, MONTH)),
}


_KEY = ("store_id", "grain", "bucket", "kind", "k1", "k2")
_UPSERT = (
    f"INSERT INTO rollups ({', '.join(_KEY + SUMS)}) VALUES ({', '.join('?' * (6 + _N))})"
    f" ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET "
    + ", ".join(f"{s} = rollups.{s} + excluded.{s}" for s in SUMS)
)
_DELETE = f"DELETE FROM rollups WHERE {' AND '.join(f'{k} = ?' for k in _KEY)}"
_DROP_EMPTY = _DELETE + " AND visits = 0"


def bucket(grain: int, day: int) -> int:
    """The first local day of the grain's run a day number falls in."""
    return day if grain == DAY else week_start(day) if grain == WEEK else month_start(day)


def buckets(day: np.ndarray) -> dict[int, np.ndarray]:
    """``bucket`` of each day number, per grain."""
    return {
        DAY: day,
        WEEK: week_start(day),
        MONTH: day.astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64),
    }


# --- one visit's contribution (the write path) ------------------------------------


def contribution(
    visit: Mapping, timezone: str, learned: bool, standard: int = 0
) -> dict[tuple, tuple]:
    """What one visits row adds to the rollups: {(grain, bucket, kind, k1, k2): sums}.

    ``visit`` is a visits row (columns by name); ``learned`` is its reason's
    ``learned`` flag (False when no reason was tapped); ``standard`` its
    store's greeting standard in seconds. A voided visit adds nothing.
    """
    if visit is None or visit["voided_at"] is not None:
        return {}
    # Whole seconds, as the per-visit read (facts) compares them; fromisoformat
    # is C (strptime cost a tap ~0.1 ms).
    utc = datetime.fromisoformat(visit["started_at"]).replace(microsecond=0)
    local = utc.astimezone(zone(timezone))
    day = day_number(local.date())
    engagement = FIRST_ENGAGEMENTS.index(visit["first_engagement"])
    purchased = visit["outcome"] == "purchased"
    priced = purchased and visit["amount_cents"] is not None
    sums = (
        1,
        int(engagement == 0),
        int(visit["outcome"] is not None),
        int(purchased),
        int(visit["units"]) if purchased else 0,
        int(visit["amount_cents"]) if priced else 0,
        int(priced),
        *greet_sums_of(visit, standard),
    )
    depth = int(engagement == 0) + int(bool(learned)) + int(bool(visit["recommended"]))
    keys = {
        "engagement": (engagement, depth),
        "reason": (visit["reason_id"] or 0, 0),
        "no_sale_reason": (visit["no_sale_reason_id"] or 0, 0),
        "associate": (visit["associate_id"], engagement),
        "hour": (local.hour, local.weekday()),
    }
    return {
        (grain, bucket(grain, day), kind.code, *keys[name]): sums
        for name, kind in KINDS.items()
        for grain in kind.grains
    }


def greet_sums_of(visit: Mapping, standard: int) -> tuple[int, int, int]:
    """(arrivals, on time, left before greeting) of one visits row (#30)."""
    if visit.get("arrived_at") is None:
        return 0, 0, 0
    left = bool(visit["left_before_greeting"])
    wait = visit["greet_seconds"]
    return 1, int(not left and wait is not None and wait <= standard), int(left)


def standard_of(db: Database, store: int, *visits: Mapping | None) -> int:
    """The store's greeting standard, read only when a visit has an arrival
    (a store with time to greet off pays nothing per write)."""
    if not any(v is not None and v.get("arrived_at") is not None for v in visits):
        return 0
    return settings.greet_rules_in(db, [store])[store].standard


def _learned_reason(db: Database, visit: Mapping) -> bool:
    """Whether the visit's reason counts as learned (no reason: not)."""
    row = db.execute("SELECT learned FROM reasons WHERE id = ?", [visit["reason_id"]])
    found = row.fetchone()
    return bool(found and found[0])


def apply(
    db: Database, store: int, before: Mapping | None, after: Mapping | None, timezone: str
) -> int:
    """Move the rollups from a visit's old row to its new one (either may be
    None), inside the caller's transaction. Returns the rows touched."""
    after_learned = _learned_reason(db, after) if after is not None else False
    standard = standard_of(db, store, before, after)
    if before is None:
        old = {}
    elif after is not None and before["reason_id"] == after["reason_id"]:
        old = contribution(before, timezone, after_learned, standard)  # same reason
    else:
        old = contribution(before, timezone, _learned_reason(db, before), standard)
    new = contribution(after, timezone, after_learned, standard) if after is not None else {}
    return move(db, store, old, new, _UPSERT, _DROP_EMPTY, lambda delta: delta[0] < 0)


def move(
    db: Database,
    store: int,
    old: Mapping[tuple, tuple],
    new: Mapping[tuple, tuple],
    upsert: str,
    drop_empty: str,
    shrank: Callable[[tuple], bool],
) -> int:
    """Move a derived table from a visit's old contribution ({key: sums}) to
    its new one: one upsert of the differences per key, then ``drop_empty``
    for the keys whose difference ``shrank`` (a row left holding zeros only
    goes, so the table is exactly what a rebuild makes). Returns the rows
    touched."""
    width = len(next(iter(old.values() or new.values()), ()))
    upserts, drops = [], []
    for key in old.keys() | new.keys():
        a, b = old.get(key, (0,) * width), new.get(key, (0,) * width)
        delta = tuple(y - x for x, y in zip(a, b, strict=True))
        if any(delta):
            upserts.append((store, *key, *delta))
            if shrank(delta):
                drops.append((store, *key))
    if upserts:
        db.executemany(upsert, upserts)
    if drops:
        db.executemany(drop_empty, drops)
    return len(upserts)


# --- recomputing from the visits (rebuild, migration, bulk loads) -------------------


def _learned(db: Database) -> np.ndarray:
    rows = db.execute("SELECT id, learned FROM reasons").fetchall()
    learned = np.zeros(max((r[0] for r in rows), default=0) + 1, dtype=np.int64)
    for rid, flag in rows:
        learned[rid] = flag
    return learned


def _expected(
    db: Database, store_id: int, timezone: str, learned: np.ndarray, standard: int
) -> dict:
    """Every rollup row of one store, recomputed from its visits."""
    everything = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    f = facts.read(db, {store_id: everything}, greet=True)
    if not len(f):
        return {}
    local = local_seconds(f.started, timezone)
    day = local // 86_400

    purchased = f.outcome == facts.PURCHASED_CODE
    priced = purchased & (f.amount_cents >= 0)
    warm = f.engagement == facts.WARM_CODE
    sums = np.stack(
        [
            np.ones(len(f), dtype=np.int64),
            warm,
            f.outcome != facts.OPEN_CODE,
            purchased,
            np.where(purchased, f.units, 0),
            np.where(priced, f.amount_cents, 0),
            priced,
            f.greet > 0,
            (f.greet >= 2) & (f.greet - 2 <= standard),
            f.greet == 1,
        ]
    ).astype(np.int64)
    safe_reason = np.where(f.reason < len(learned), f.reason, 0)
    depth = warm + learned[safe_reason] + f.recommended
    keys = {
        "engagement": (f.engagement.astype(np.int64), depth),
        "reason": (f.reason, np.zeros(len(f), dtype=np.int64)),
        "no_sale_reason": (f.no_sale, np.zeros(len(f), dtype=np.int64)),
        "associate": (f.associate, f.engagement.astype(np.int64)),
        "hour": ((local % 86_400) // 3_600, weekday(day)),
    }
    return grouped(KINDS, keys, buckets(day), sums)


def grouped(
    kinds: Mapping[str, Kind],
    keys: Mapping[str, tuple[np.ndarray, np.ndarray]],
    buckets: Mapping[int, np.ndarray],
    sums: np.ndarray,
) -> dict[tuple, tuple]:
    """Per-visit keys and sums → {(grain, bucket, kind, k1, k2): summed}."""
    rows: dict[tuple, tuple] = {}
    for name, kind in kinds.items():
        k1, k2 = keys[name]
        for grain in kind.grains:
            # One int64 per (bucket, k1, k2): a 1-d unique is ~50× faster than
            # np.unique(axis=0) on the three columns.
            span1, span2 = int(k1.max()) + 1, int(k2.max()) + 1
            packed = (buckets[grain] * span1 + k1) * span2 + k2
            codes, inverse = np.unique(packed, return_inverse=True)
            inverse = inverse.ravel()
            groups = np.stack([codes // (span1 * span2), codes // span2 % span1, codes % span2], 1)
            totals = np.stack(
                [np.bincount(inverse, weights=s, minlength=len(groups)) for s in sums], axis=1
            )
            # Float sums of integers are exact below 2**53 (a chain's lifetime of cents).
            totals = np.rint(totals).astype(np.int64)
            for g, t in zip(groups.tolist(), totals.tolist(), strict=True):
                rows[(grain, g[0], kind.code, g[1], g[2])] = tuple(t)
    return rows


def _stored(db: Database, store_id: int) -> dict:
    cursor = db.execute(
        f"SELECT grain, bucket, kind, k1, k2, {', '.join(SUMS)} FROM rollups WHERE store_id = ?",
        [store_id],
    )
    return {tuple(r[:5]): tuple(r[5:]) for r in cursor}


def fix_rows(
    db: Database,
    table: str,
    key: Sequence[str],
    sums: Sequence[str],
    store_id: int,
    stored: Mapping[tuple, tuple],
    expected: Mapping[tuple, tuple],
) -> int:
    """Make one store's rows of a derived table what a rebuild expects
    ({key after store_id: sums}); returns how many rows differed."""
    wrong = [k for k in stored.keys() | expected.keys() if stored.get(k) != expected.get(k)]
    if wrong:
        where = " AND ".join(f"{k} = ?" for k in key)
        db.executemany(
            f"DELETE FROM {table} WHERE {where}", [(store_id, *k) for k in wrong if k in stored]
        )
        db.executemany(
            f"INSERT INTO {table} ({', '.join((*key, *sums))})"
            f" VALUES ({', '.join('?' * (len(key) + len(sums)))})",
            [(store_id, *k, *expected[k]) for k in wrong if k in expected],
        )
    return len(wrong)


def rebuild(db: Database, store_ids: Iterable[int] | None = None) -> Rebuilt:
    """Recompute the rollups from the visits inside the caller's transaction;
    fix and count every row that differed. ``store_ids``: only these stores."""
    stores = dict(db.execute("SELECT id, timezone FROM stores ORDER BY id").fetchall())
    wanted = list(stores) if store_ids is None else [int(s) for s in store_ids]
    if store_ids is None:
        # Rows of a store that no longer exists are wrong too.
        orphans = db.execute(
            "SELECT count(*) FROM rollups WHERE store_id NOT IN (SELECT id FROM stores)"
        ).fetchone()[0]
        db.execute("DELETE FROM rollups WHERE store_id NOT IN (SELECT id FROM stores)")
    else:
        orphans = 0
    learned = _learned(db)
    standards = {s: r.standard for s, r in settings.greet_rules_in(db, wanted).items()}
    total, by_store = 0, {}
    for store_id in wanted:
        expected = _expected(db, store_id, stores[store_id], learned, standards[store_id])
        fixed = fix_rows(db, "rollups", _KEY, SUMS, store_id, _stored(db, store_id), expected)
        if fixed:
            by_store[store_id] = fixed
        total += len(expected)
    if orphans:
        by_store[0] = orphans
    return Rebuilt(total, sum(by_store.values()), by_store)


# --- reading -------------------------------------------------------------------------


def _month_end(first_of_month: int) -> int:
    day = day_of(first_of_month)
    return day_number((day.replace(day=28) + timedelta(days=4)).replace(day=1)) - 1


@lru_cache(maxsize=512)
def runs(first: int, last: int, grains: Sequence[int]) -> tuple[tuple[int, int, int], ...]:
    """[first, last] local days as (grain, first bucket, last bucket) runs: whole
    months (or weeks) where the kind has them, single days around them."""
    units: list[tuple[int, int]] = []
    d = first
    while d <= last:
        day = day_of(d)
        if MONTH in grains and day.day == 1:
            following = day_number((day.replace(day=28) + timedelta(days=4)).replace(day=1))
            if following - 1 <= last:
                units.append((MONTH, d))
                d = following
                continue
        # A week that holds the first day of a month wholly in the range would
        # keep that month from being read as one row, where there are months.
        whole_month_ahead = MONTH in grains and any(
            day_of(d + k).day == 1 and _month_end(d + k) <= last for k in range(1, 7)
        )
        if WEEK in grains and day.weekday() == 0 and d + 6 <= last and not whole_month_ahead:
            units.append((WEEK, d))
            d += 7
            continue
        units.append((DAY, d))
        d += 1
    runs: list[list[int]] = []
    for grain, bucket in units:
        if runs and runs[-1][0] == grain:
            runs[-1][2] = bucket
        else:
            runs.append([grain, bucket, bucket])
    # Cached: a page asks for the same ranges on every run (grains: a tuple).
    return tuple(tuple(r) for r in runs)


def sums_by_kind(
    db: Database,
    store_ids: int | Sequence[int],
    kinds: Sequence[str],
    first_day: date,
    last_day: date,
) -> dict[str, dict[tuple, Counts]]:
    """{kind: {(k1, k2): Counts}} over the stores' local days [first_day,
    last_day] (each store's own days), several kinds in one read."""
    return _read(db, store_ids, kinds, first_day, last_day, (DAY, MONTH), per_week=False)


def sums(
    db: Database,
    store_ids: int | Sequence[int],
    kind: str,
    first_day: date,
    last_day: date,
    *,
    per_week: bool = False,
) -> dict[tuple, Counts]:
    """Counts per (k1, k2) of the stores' local days [first_day, last_day]; with
    ``per_week`` per (Monday, k1, k2) instead (Monday as a day number)."""
    grains = (DAY, WEEK) if per_week else (DAY, MONTH)
    grains = tuple(g for g in grains if g in KINDS[kind].grains)
    return _read(db, store_ids, [kind], first_day, last_day, grains, per_week=per_week)[kind]


def _held(db: Database, store_ids: Sequence[int]) -> tuple[int | None, int | None]:
    """The first and last local day any of the stores has rows for. Two
    subqueries per store: SQLite answers a lone min() or max() with one index
    seek, but both together with a scan of the store's days."""
    lo = hi = None
    for store_id in store_ids:
        first, last = db.execute(
            "SELECT (SELECT min(bucket) FROM rollups WHERE store_id = ? AND grain = ?),"
            " (SELECT max(bucket) FROM rollups WHERE store_id = ? AND grain = ?)",
            [store_id, DAY, store_id, DAY],
        ).fetchone()
        if first is not None:
            lo = first if lo is None else min(lo, first)
            hi = last if hi is None else max(hi, last)
    return lo, hi


# Ranges longer than this are clamped to the days the stores have rows for
# (_held); a shorter one (a dashboard's year) is read as it is: its few
# month and day runs cost less than a statement per store (on PostgreSQL a
# round trip each: 500 statements, 93 ms, for a chain's year).
CLAMP_DAYS = 3_660


@dataclass(frozen=True)
class Table:
    """A table of sums keyed like the rollups (issue #30's greet sums too)."""

    name: str
    kinds: Mapping[str, Kind]
    sums: tuple[str, ...]
    make: type  # built from the sums in order


ROLLUPS = Table("rollups", KINDS, SUMS, Counts)


def _read(
    db, store_ids, kinds, first_day, last_day, grains, *, per_week, per_store=False, table=ROLLUPS
):
    store_ids = [store_ids] if isinstance(store_ids, int) else [int(s) for s in store_ids]
    codes = {table.kinds[k].code: k for k in kinds}
    out: dict[str, dict[tuple, object]] = {k: {} for k in kinds}
    if last_day < first_day or not store_ids:
        return out
    # Only the days the stores have rows for: an open-ended range (an export
    # of everything) walks the stores' own days, not ten thousand years.
    lo, hi = day_number(first_day), day_number(last_day)
    if hi - lo > CLAMP_DAYS:
        held_lo, held_hi = _held(db, store_ids)
        if held_lo is None:
            return out
        lo, hi = max(lo, held_lo), min(hi, held_hi)
    pieces = runs(lo, hi, grains)
    if not pieces:
        return out
    # One statement: each run is one index range per store (store_id, grain,
    # bucket lead the key), and SQLite sums the stores' rows together.
    stores = ", ".join(str(s) for s in store_ids)
    kind_list = ", ".join(str(c) for c in codes)
    part = (
        f"SELECT store_id, kind, bucket, k1, k2, {', '.join(table.sums)} FROM {table.name}"
        f" WHERE store_id IN ({stores}) AND grain = ? AND bucket BETWEEN ? AND ?"
        f" AND kind IN ({kind_list})"
    )
    week = f"{week_start_sql('bucket')}, " if per_week else ""
    store = "store_id, " if per_store else ""
    width = 2 + bool(per_week) + bool(per_store)
    # CAST: PostgreSQL's sum of a bigint is a numeric, which psycopg reads
    # through a Python function per value; a bigint it reads in C.
    sql = (
        f"SELECT kind, {store}{week}k1, k2,"
        f" {', '.join(f'CAST(sum({s}) AS BIGINT)' for s in table.sums)}"
        f" FROM ({' UNION ALL '.join([part] * len(pieces))}) AS runs"
        f" GROUP BY {', '.join(str(i) for i in range(1, width + 2))}"
    )
    params = [value for run in pieces for value in run]
    for row in db.execute(sql, params):
        out[codes[row[0]]][tuple(row[1 : 1 + width])] = table.make(*row[1 + width :])
    return out


def counts(
    db: Database,
    store_days: Mapping[int, tuple[date, date]],
    by: Sequence[str] = (),
) -> dict[tuple, Counts]:
    """Counts of non-voided visits over whole local days, per group.

    ``store_days``: {store id: (first local day, last local day)}, both included,
    each in that store's own timezone. ``by``: group keys, any of
    ``store`` plus the dims of one kind — ``first_engagement``,
    ``connection_depth``, ``reason``, ``no_sale_reason``, ``associate``,
    ``local_hour``, ``weekday`` (see ``KINDS``; keys are the stored codes:
    engagements 0 warm / 1 neutral / 2 missed, ids with 0 for none, weekday
    0 = Monday). Returns {tuple of keys in ``by`` order: Counts}; groups
    without visits are absent. ``by=()`` gives {(): totals}.

    Examples: ``counts(db, {1: (d, d)}, by=("local_hour",))`` is store 1's
    visits per local hour of day d; ``by=("store", "first_engagement")`` the
    moments per store. For per-day series call it per day (each call reads
    one row per group).
    """
    wanted = [b for b in by if b != "store"]
    kind = next(
        (
            name
            for name, spec in KINDS.items()
            if set(wanted) <= {d for d in spec.dims if d is not None}
        ),
        None,
    )
    if kind is None:
        raise ValidationError(f"No rollup groups visits by {', '.join(by)} together.")
    spec = KINDS[kind]
    out: dict[tuple, Counts] = {}
    per_store = "store" in by
    grains = tuple(g for g in (DAY, MONTH) if g in spec.grains)
    # Stores that share their local days are read together, per store when
    # asked (one statement for a chain's stores of one timezone, not one each).
    for store_ids, (first, last) in _same_days(store_days):
        found = _read(
            db, store_ids, [kind], first, last, grains, per_week=False, per_store=per_store
        )[kind]
        for key, c in found.items():
            store, (k1, k2) = (key[0], key[1:]) if per_store else (store_ids[0], key)
            values = {"store": store, spec.dims[0]: k1}
            if spec.dims[1] is not None:
                values[spec.dims[1]] = k2
            key = tuple(values[b] for b in by)
            out[key] = out[key] + c if key in out else c
    return out


def _same_days(
    store_days: Mapping[int, tuple[date, date]],
) -> list[tuple[list[int], tuple[date, date]]]:
    """Stores grouped by their (first, last) days, read together."""
    groups: dict[tuple[date, date], list[int]] = {}
    for store_id, days in store_days.items():
        groups.setdefault(days, []).append(store_id)
    return [(ids, days) for days, ids in groups.items()]
