"""The data behind every view of the manager dashboard (issue #5).

``build(storage, selection, now)`` reads the selection's visits once (current
period, previous period and the weeks of the trend, see ``cxlog.facts``) and
sums them per group with numpy. Every number is PRODUCT.md's definition from
``metrics.Counts``: voided visits never count, open visits count towards
visits and warm rate only, a group under MIN_SAMPLE closed visits is too few.
Hours, weekdays and weeks are each store's local time. No Streamlit here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from cxlog import catalog, facts, periods
from cxlog.db import Storage
from cxlog.facts import NO_PURCHASE_CODE, PURCHASED_CODE, WARM_CODE, Facts
from cxlog.metrics import Counts, Rate
from cxlog.model import FIRST_ENGAGEMENTS, NO_SALE_REASON, REASON

DEPTHS = (0, 1, 2, 3)
NO_REASON = "No reason tapped"
NO_SALE_NONE = "None given"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Selection:
    """What the manager picked: plain values, so it can key a cache."""

    period: str = periods.DEFAULT_PERIOD
    first: date | None = None  # custom range only
    last: date | None = None
    store_id: int | None = None  # None = all stores
    associate_id: int | None = None
    reason_id: int | None = None


@dataclass(frozen=True)
class Group:
    key: object
    label: str
    counts: Counts
    previous: Counts = field(default_factory=Counts)


@dataclass(frozen=True)
class TeamRow:
    associate_id: int
    name: str
    store: str
    active: bool
    counts: Counts
    previous: Counts
    rank: int | None  # None: too few visits, listed but not ranked


@dataclass(frozen=True)
class Dashboard:
    selection: Selection
    spans: dict[int, periods.Span]
    totals: Counts
    previous: Counts
    by_engagement: list[Group]
    by_depth: list[Group]
    by_reason: list[Group]
    no_sale: list[tuple[str, Rate]]  # share of no-purchase visits, most common first
    trend: pd.DataFrame  # week (date), engagement, visits, closed, purchased
    heat: pd.DataFrame  # weekday (0 = Mon), hour, visits, closed, purchased
    team: list[TeamRow]
    # Issue #14: counts per first engagement of each store and each associate,
    # for what neutral and missed moments cost ({id: {"warm": Counts, …}}).
    engagement_by_store: dict[int, dict[str, Counts]] = field(default_factory=dict)
    engagement_by_associate: dict[int, dict[str, Counts]] = field(default_factory=dict)


# --- sums per group ------------------------------------------------------------


class _Sums:
    """Sums of one set of visits under any grouping, exactly as metrics' SQL
    sums them. The per-visit facts are worked out once per set."""

    def __init__(self, f: Facts) -> None:
        self.f = f
        purchased = f.outcome == PURCHASED_CODE
        with_amount = purchased & (f.amount_cents >= 0)
        # Four yes/no facts make 16 states: one bincount over (key, state)
        # gives all four counts (a bincount per count took twice as long).
        self.state = (
            (f.engagement == WARM_CODE) + 2 * (f.outcome != 0) + 4 * purchased + 8 * with_amount
        ).astype(np.int64)
        self.units = np.where(purchased, f.units, 0)
        self.cents = np.where(with_amount, f.amount_cents, 0)

    def __call__(self, key: np.ndarray, size: int) -> list[Counts]:
        """Counts for keys 0..size-1."""
        key = np.asarray(key, dtype=np.int64)
        grid = np.bincount(key * 16 + self.state, minlength=size * 16).reshape(size, 16)
        bits = np.arange(16)
        visits = grid.sum(axis=1)
        warm, closed, bought, priced = (grid[:, (bits & b) > 0].sum(axis=1) for b in (1, 2, 4, 8))
        # Float sums of integers stay exact below 2**53 (a chain's lifetime of cents).
        units = np.rint(np.bincount(key, self.units, size))
        cents = np.rint(np.bincount(key, self.cents, size))
        return [
            Counts(
                visits=int(visits[i]),
                warm=int(warm[i]),
                closed=int(closed[i]),
                purchased=int(bought[i]),
                units=int(units[i]),
                amount_cents=int(cents[i]),
                with_amount=int(priced[i]),
            )
            for i in range(size)
        ]


def _total(s: _Sums) -> Counts:
    return s(np.zeros(len(s.f), dtype=np.int64), 1)[0]


def _by_ids(s: _Sums, ids: np.ndarray) -> dict[int, Counts]:
    present, key = np.unique(ids, return_inverse=True)
    return dict(zip(present.tolist(), s(key.ravel(), len(present)), strict=True))


def _depth(f: Facts, learned: np.ndarray) -> np.ndarray:
    """PRODUCT.md: one point each for Warm, a learned reason and a recommendation."""
    return (f.engagement == WARM_CODE) + learned[f.reason] + f.recommended.astype(np.int64)


def _local_seconds(f: Facts, zones: dict[int, str]) -> np.ndarray:
    """Each visit's start on its own store's wall clock, as seconds (DST-exact)."""
    local = np.empty(len(f), dtype=np.int64)
    for store_id, zone in zones.items():
        mask = f.store == store_id
        if mask.any():
            utc = pd.DatetimeIndex(f.started[mask].astype("datetime64[s]"), tz="UTC")
            wall = utc.tz_convert(zone).tz_localize(None)
            local[mask] = wall.to_numpy().astype("datetime64[s]").astype(np.int64)
    return local


def _within(f: Facts, bounds: dict[int, tuple[datetime, datetime]]) -> np.ndarray:
    """Mask of visits inside their own store's [start, end)."""
    size = max(bounds, default=0) + 1
    lo, hi = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
    for store_id, (start, end) in bounds.items():
        lo[store_id], hi[store_id] = int(start.timestamp()), int(end.timestamp())
    return (f.started >= lo[f.store]) & (f.started < hi[f.store])


# --- the views -------------------------------------------------------------------


def _engagement(cur: _Sums, prev: _Sums) -> list[Group]:
    now, before = cur(cur.f.engagement, 3), prev(prev.f.engagement, 3)
    return [
        Group(name, name.capitalize(), now[i], before[i])
        for i, name in enumerate(FIRST_ENGAGEMENTS)
    ]


def _connection(cur: _Sums, prev: _Sums, learned: np.ndarray) -> list[Group]:
    now = cur(_depth(cur.f, learned), len(DEPTHS))
    before = prev(_depth(prev.f, learned), len(DEPTHS))
    return [Group(d, f"Depth {d}", now[d], before[d]) for d in DEPTHS]


def ranked(groups: list[Group]) -> list[Group]:
    """Groups with enough visits by conversion (best first), then the too-few."""
    enough = [g for g in groups if not g.counts.too_few]
    enough.sort(key=lambda g: (-(g.counts.conversion.value or 0), -g.counts.closed))
    few = sorted((g for g in groups if g.counts.too_few), key=lambda g: -g.counts.visits)
    return enough + few


def _reasons(cur: _Sums, prev: _Sums, names: dict[int, str]) -> list[Group]:
    now, before = _by_ids(cur, cur.f.reason), _by_ids(prev, prev.f.reason)
    return ranked(
        [
            Group(
                key,
                names.get(key, NO_REASON) if key else NO_REASON,
                counts,
                before.get(key, Counts()),
            )
            for key, counts in now.items()
        ]
    )


def _no_sale(cur: Facts, names: dict[int, str]) -> list[tuple[str, Rate]]:
    lost = cur.no_sale[cur.outcome == NO_PURCHASE_CODE]
    ids, counts = np.unique(lost, return_counts=True)
    rows = [
        (names.get(k, NO_SALE_NONE) if k else NO_SALE_NONE, Rate(int(c), len(lost)))
        for k, c in zip(ids.tolist(), counts.tolist(), strict=True)
    ]
    # The untapped ones go last: they say nothing about why.
    return sorted(rows, key=lambda r: (r[0] == NO_SALE_NONE, -r[1].successes))


def _trend(s: _Sums, local: np.ndarray) -> pd.DataFrame:
    day = local // 86_400
    monday = day - (day + 3) % 7  # 1970-01-01 was a Thursday
    weeks, week_key = np.unique(monday, return_inverse=True)
    counts = s(week_key.ravel() * 3 + s.f.engagement, len(weeks) * 3)
    rows = [
        {
            "week": date(1970, 1, 1) + timedelta(days=int(weeks[i // 3])),
            "engagement": FIRST_ENGAGEMENTS[i % 3],
            "counts": c,
        }
        for i, c in enumerate(counts)
    ]
    return pd.DataFrame(rows, columns=["week", "engagement", "counts"])


def _heat(s: _Sums, local: np.ndarray) -> pd.DataFrame:
    day = local // 86_400
    key = ((day + 3) % 7) * 24 + (local % 86_400) // 3_600
    counts = s(key, 7 * 24)
    return pd.DataFrame(
        [{"weekday": i // 24, "hour": i % 24, "counts": c} for i, c in enumerate(counts)]
    )


def engagement_split(s: _Sums, ids: np.ndarray) -> dict[int, dict[str, Counts]]:
    """Counts per id and first engagement (issue #14). Ids are small
    integers, so one bincount over id × 3 + engagement needs no sort."""
    ids = np.asarray(ids, dtype=np.int64)
    size = int(ids.max()) + 1 if len(ids) else 0
    counts = s(ids * 3 + s.f.engagement, size * 3)
    present = np.flatnonzero(np.bincount(ids, minlength=size)).tolist()
    return {
        k: {name: counts[3 * k + j] for j, name in enumerate(FIRST_ENGAGEMENTS)} for k in present
    }


def _team(cur: _Sums, prev: _Sums, people: list[dict], stores: dict[int, str]) -> list[TeamRow]:
    now, before = _by_ids(cur, cur.f.associate), _by_ids(prev, prev.f.associate)
    rows = [
        TeamRow(
            a["id"],
            a["name"],
            stores.get(a["store_id"], ""),
            bool(a["active"]),
            now.get(a["id"], Counts()),
            before.get(a["id"], Counts()),
            None,
        )
        for a in people
        if a["id"] in now or a["active"]
    ]
    order = ranked([Group(r.associate_id, r.name, r.counts) for r in rows])
    by_id = {r.associate_id: r for r in rows}
    result, rank = [], 0
    for g in order:
        row = by_id[g.key]
        if not row.counts.too_few:
            rank += 1
        result.append(TeamRow(**{**row.__dict__, "rank": None if row.counts.too_few else rank}))
    return result


def build(storage: Storage, selection: Selection, now: datetime) -> Dashboard:
    """Every view of the dashboard for one selection, as plain data."""
    stores = [s for s in catalog.list_stores(storage) if selection.store_id in (None, s["id"])]
    spans = {
        s["id"]: periods.resolve(
            selection.period, s["timezone"], now, selection.first, selection.last
        )
        for s in stores
    }
    people = [
        a
        for a in catalog.list_associates(storage)
        if a["store_id"] in spans and selection.associate_id in (None, a["id"])
    ]
    reasons = catalog.list_reasons(storage, REASON, active_only=False)
    learned = np.zeros(max((r["id"] for r in reasons), default=0) + 1, dtype=np.int64)
    for r in reasons:
        learned[r["id"]] = r["learned"]
    f = facts.load(
        storage,
        {k: (min(s.previous_start, s.trend_start), s.end) for k, s in spans.items()},
        associate_ids=() if selection.associate_id is None else (selection.associate_id,),
        reason_ids=() if selection.reason_id is None else (selection.reason_id,),
    )
    cur = _Sums(f.take(_within(f, {k: (s.start, s.end) for k, s in spans.items()})))
    prev = _Sums(
        f.take(_within(f, {k: (s.previous_start, s.previous_end) for k, s in spans.items()}))
    )
    weeks = _Sums(f.take(_within(f, {k: (s.trend_start, s.end) for k, s in spans.items()})))
    zones = {s["id"]: s["timezone"] for s in stores}
    no_sale_names = {
        r["id"]: r["name"] for r in catalog.list_reasons(storage, NO_SALE_REASON, active_only=False)
    }
    return Dashboard(
        selection=selection,
        spans=spans,
        totals=_total(cur),
        previous=_total(prev),
        by_engagement=_engagement(cur, prev),
        by_depth=_connection(cur, prev, learned),
        by_reason=_reasons(cur, prev, {r["id"]: r["name"] for r in reasons}),
        no_sale=_no_sale(cur.f, no_sale_names),
        trend=_trend(weeks, _local_seconds(weeks.f, zones)),
        heat=_heat(cur, _local_seconds(cur.f, zones)),
        team=_team(cur, prev, people, {s["id"]: s["name"] for s in stores}),
        engagement_by_store=engagement_split(cur, cur.f.store),
        engagement_by_associate=engagement_split(cur, cur.f.associate),
    )


def data_version(storage: Storage) -> tuple[int, int, int, int]:
    """Changes whenever any visit, list or store changes: the newest audit row
    and the database and WAL files' modification times (every commit touches
    one). Lets a cache keep results exactly as long as they are true."""
    with storage.read() as db:
        (audit_id,) = db.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()
    stamps = []
    for suffix in ("", "-wal"):
        try:
            stat = os.stat(f"{storage.path}{suffix}")
            stamps.append(stat.st_mtime_ns ^ stat.st_size)
        except OSError:
            stamps.append(0)
    return audit_id, *stamps, len(stamps)
