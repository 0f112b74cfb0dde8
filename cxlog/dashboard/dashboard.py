"""The data behind every view of the manager dashboard (issue #5).

``build(storage, selection, now)`` sums each view's groups into tallies of
``metrics.Counts`` and draws every view from them. The sums come from the
rollups (issue #12: whole local days, weeks and months per store, see
``cxlog.numbers.rollups``), except where only single visits can answer: the previous
period's last, partial day, and a selection filtered to one associate or one
reason (read once with ``cxlog.numbers.facts`` and summed with numpy). Every number
is docs/product.md's definition from ``metrics.Counts``: voided visits never
count, open visits count towards visits and warm rate only, a group under
MIN_SAMPLE closed visits is too few. Hours, weekdays and weeks are each
store's local time. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from cxlog.calendar import localday, periods
from cxlog.core.model import (
    ENGAGEMENT_LABELS,
    FIRST_ENGAGEMENTS,
    NO_SALE_REASON,
    REASON,
    entry_name,
)
from cxlog.greeting import figures
from cxlog.language.words import N_, _
from cxlog.numbers import facts, rollups
from cxlog.numbers.facts import PURCHASED_CODE, WARM_CODE, Facts
from cxlog.numbers.metrics import Counts, Rate
from cxlog.storage.db import Storage
from cxlog.stores import catalog

DEPTHS = (0, 1, 2, 3)
# The groups' labels are written in the reader's language when the dashboard
# is built (the page keys its cache by the language); weekdays are written by
# cxlog.language.formats where they are shown.
NO_REASON = N_("No reason tapped")
NO_SALE_NONE = N_("None given")


@dataclass(frozen=True)
class DashboardFilters:
    """What the manager picked: plain values, so it can key a cache."""

    period: str = periods.DEFAULT_PERIOD
    first: date | None = None  # custom range only
    last: date | None = None
    store_id: int | None = None  # None = all stores
    associate_id: int | None = None
    reason_id: int | None = None
    # The stores the signed-in account sees (issue #28); None: every store.
    # "All stores" means all of these.
    scope: tuple[int, ...] | None = None

    def covers(self, store_id: int) -> bool:
        """Whether a store's numbers belong to this selection."""
        return self.store_id in (None, store_id) and (self.scope is None or store_id in self.scope)


# The class's name before #16 (export.py had a DashboardFilters too). Kept so that
# branches written against the old name merge; remove once they are in.
DashboardFilters = DashboardFilters


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
    selection: DashboardFilters
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

    def greet_tallies(self) -> figures.Tallies:
        """What time to greet's section reuses (issue #30): the heat map's,
        the team's and the stores' Counts carry its three sums (the rollups
        keep them), so the section reads only the waits."""
        hours = {(int(r.weekday), int(r.hour)): r.counts for r in self.heat.itertuples()}
        people = {row.associate_id: row.counts for row in self.team}
        stores = {s: sum(by.values(), Counts()) for s, by in self.engagement_by_store.items()}
        return figures.Tallies(hours, people, stores)


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


def _by_ids(s: _Sums, ids: np.ndarray) -> dict[int, Counts]:
    present, key = np.unique(ids, return_inverse=True)
    return dict(zip(present.tolist(), s(key.ravel(), len(present)), strict=True))


def _depth(f: Facts, learned: np.ndarray) -> np.ndarray:
    """docs/product.md: one point each for Warm, a learned reason and a recommendation."""
    return (f.engagement == WARM_CODE) + learned[f.reason] + f.recommended.astype(np.int64)


def _within(f: Facts, bounds: dict[int, tuple[datetime, datetime]]) -> np.ndarray:
    """Mask of visits inside their own store's [start, end)."""
    size = max(bounds, default=0) + 1
    lo, hi = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
    for store_id, (start, end) in bounds.items():
        lo[store_id], hi[store_id] = int(start.timestamp()), int(end.timestamp())
    return (f.started >= lo[f.store]) & (f.started < hi[f.store])


# --- tallies: the sums every view reads, from rollups or from single visits --------


def _add(into: dict, key: object, counts: Counts) -> None:
    into[key] = into[key] + counts if key in into else counts


@dataclass
class _Tally:
    """Counts of one set of visits per group. Keys are the stored codes:
    engagement 0 warm / 1 neutral / 2 missed; ids with 0 for none."""

    engagement: dict = field(default_factory=dict)
    depth: dict = field(default_factory=dict)
    reason: dict = field(default_factory=dict)
    no_sale: dict = field(default_factory=dict)
    associate: dict = field(default_factory=dict)
    # (store or associate id, engagement code): Counts, for what moments cost (#14)
    store_engagement: dict = field(default_factory=dict)
    associate_engagement: dict = field(default_factory=dict)

    def add(self, other: _Tally) -> None:
        for name in (
            "engagement",
            "depth",
            "reason",
            "no_sale",
            "associate",
            "store_engagement",
            "associate_engagement",
        ):
            mine = getattr(self, name)
            for key, counts in getattr(other, name).items():
                _add(mine, key, counts)

    @property
    def total(self) -> Counts:
        result = Counts()
        for counts in self.engagement.values():
            result += counts
        return result


def _from_visits(s: _Sums, learned: np.ndarray) -> _Tally:
    f = s.f
    if not len(f):
        return _Tally()
    return _Tally(
        engagement=_by_ids(s, f.engagement.astype(np.int64)),
        depth=_by_ids(s, _depth(f, learned)),
        reason=_by_ids(s, f.reason),
        no_sale=_by_ids(s, f.no_sale),
        associate=_by_ids(s, f.associate),
        store_engagement=_pairs(_by_ids(s, f.store * 3 + f.engagement)),
        associate_engagement=_pairs(_by_ids(s, f.associate * 3 + f.engagement)),
    )


def _pairs(keyed: dict[int, Counts]) -> dict[tuple[int, int], Counts]:
    return {(k // 3, k % 3): c for k, c in keyed.items()}


def by_engagement(pairs: dict) -> dict[int, dict[str, Counts]]:
    """{id: {engagement name: Counts}} for the ids with visits (issue #14)."""
    ids = sorted({i for (i, _e), c in pairs.items() if c.visits})
    return {
        i: {name: pairs.get((i, e), Counts()) for e, name in enumerate(FIRST_ENGAGEMENTS)}
        for i in ids
    }


def _from_rollups(db, store_ids: list[int], first: date, last: date) -> _Tally:
    tally = _Tally()
    kinds = ("engagement", "reason", "no_sale_reason", "associate")
    read = rollups.sums_by_kind(db, store_ids, kinds, first, last)
    for (engagement, depth), counts in read["engagement"].items():
        _add(tally.engagement, engagement, counts)
        _add(tally.depth, depth, counts)
    for name, into in (
        ("reason", tally.reason),
        ("no_sale_reason", tally.no_sale),
        ("associate", tally.associate),
    ):
        for (key, second), counts in read[name].items():
            _add(into, key, counts)
            if name == "associate":  # k2 is the first engagement
                _add(tally.associate_engagement, (key, second), counts)
    return tally


def _local_seconds(f: Facts, zones: dict[int, str]) -> np.ndarray:
    """Each visit's start on its own store's wall clock, as seconds (DST-exact)."""
    local = np.empty(len(f), dtype=np.int64)
    for store_id, zone in zones.items():
        mask = f.store == store_id
        if mask.any():
            local[mask] = localday.local_seconds(f.started[mask], zone)
    return local


def _weeks_from_visits(s: _Sums, zones: dict[int, str]) -> dict:
    """{(Monday as a day number, engagement code): Counts}"""
    if not len(s.f):
        return {}
    day = _local_seconds(s.f, zones) // 86_400
    monday = localday.week_start(day)
    keyed = _by_ids(s, monday * 3 + s.f.engagement)
    return {(k // 3, k % 3): c for k, c in keyed.items()}


def _heat_from_visits(s: _Sums, zones: dict[int, str]) -> dict:
    """{(weekday 0 = Mon, local hour): Counts}"""
    if not len(s.f):
        return {}
    local = _local_seconds(s.f, zones)
    keyed = _by_ids(s, localday.weekday(local // 86_400) * 24 + (local % 86_400) // 3_600)
    return {(k // 24, k % 24): c for k, c in keyed.items()}


# --- the views -------------------------------------------------------------------


def _engagement(cur: _Tally, prev: _Tally) -> list[Group]:
    return [
        Group(
            name,
            _(ENGAGEMENT_LABELS[name]),
            cur.engagement.get(i, Counts()),
            prev.engagement.get(i, Counts()),
        )
        for i, name in enumerate(FIRST_ENGAGEMENTS)
    ]


def _connection(cur: _Tally, prev: _Tally) -> list[Group]:
    return [
        Group(
            d, _("Depth {d}").format(d=d), cur.depth.get(d, Counts()), prev.depth.get(d, Counts())
        )
        for d in DEPTHS
    ]


def ranked(groups: list[Group]) -> list[Group]:
    """Groups with enough visits by conversion (best first), then the too-few."""
    enough = [g for g in groups if not g.counts.too_few]
    enough.sort(key=lambda g: (-(g.counts.conversion.value or 0), -g.counts.closed))
    few = sorted((g for g in groups if g.counts.too_few), key=lambda g: -g.counts.visits)
    return enough + few


def _present(groups: dict) -> list[tuple[int, Counts]]:
    """Groups that have visits, by id (the order ties keep)."""
    return sorted((k, c) for k, c in groups.items() if c.visits)


def _reasons(cur: _Tally, prev: _Tally, names: dict[int, str]) -> list[Group]:
    none = _(NO_REASON)
    return ranked(
        [
            Group(
                key,
                names.get(key, none) if key else none,
                counts,
                prev.reason.get(key, Counts()),
            )
            for key, counts in _present(cur.reason)
        ]
    )


def _no_sale(cur: _Tally, names: dict[int, str]) -> list[tuple[str, Rate]]:
    lost = [(k, c.closed - c.purchased) for k, c in _present(cur.no_sale)]
    total = sum(n for _k, n in lost)
    none = _(NO_SALE_NONE)
    rows = [(names.get(k, none) if k else none, Rate(n, total)) for k, n in lost if n]
    # The untapped ones go last: they say nothing about why.
    return sorted(rows, key=lambda r: (r[0] == none, -r[1].successes))


def _trend(weeks: dict) -> pd.DataFrame:
    present = sorted({w for (w, _e), c in weeks.items() if c.visits})
    rows = [
        {
            "week": date(1970, 1, 1) + timedelta(days=int(week)),
            "engagement": name,
            "counts": weeks.get((week, i), Counts()),
        }
        for week in present
        for i, name in enumerate(FIRST_ENGAGEMENTS)
    ]
    return pd.DataFrame(rows, columns=["week", "engagement", "counts"])


def _heat(cells: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"weekday": i // 24, "hour": i % 24, "counts": cells.get((i // 24, i % 24), Counts())}
            for i in range(7 * 24)
        ]
    )


def _team(cur: _Tally, prev: _Tally, people: list[dict], stores: dict[int, str]) -> list[TeamRow]:
    now = {k: c for k, c in cur.associate.items() if c.visits}
    rows = [
        TeamRow(
            a["id"],
            a["name"],
            stores.get(a["store_id"], ""),
            bool(a["active"]),
            now.get(a["id"], Counts()),
            prev.associate.get(a["id"], Counts()),
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


@dataclass
class _Read:
    cur: _Tally
    prev: _Tally
    weeks: dict
    heat: dict


def _read_visits(storage, selection, spans, zones, learned) -> _Read:
    """A filtered selection (one associate or one reason) reads its own visits:
    the rollups do not group by every pair of filters."""
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
    return _Read(
        _from_visits(cur, learned),
        _from_visits(prev, learned),
        _weeks_from_visits(weeks, zones),
        _heat_from_visits(cur, zones),
    )


def _previous_days(span: periods.Span, zone: str) -> tuple[date, date, datetime]:
    """The previous period as whole local days plus the start of its last,
    partial day (it stops at the same time of day as now)."""
    first = span.first_day - timedelta(days=span.days)
    cut = span.previous_end.astimezone(localday.zone(zone))
    tail_start = localday.local_midnight_utc(cut.date(), zone)
    return first, cut.date() - timedelta(days=1), tail_start


def _grouped(days: dict[int, tuple[date, date]]) -> dict[tuple[date, date], list[int]]:
    """Stores with the same local days are summed together in one read."""
    groups: dict[tuple[date, date], list[int]] = {}
    for store_id, key in days.items():
        groups.setdefault(key, []).append(store_id)
    return groups


def _read_rollups(storage, spans, zones, learned) -> _Read:
    """The unfiltered selection from the rollups: a few rows per group, summed
    by SQLite across the stores that share their local days; only the
    previous period's partial last day is read visit by visit."""
    read = _Read(_Tally(), _Tally(), {}, {})
    current, previous, weeks, tails = {}, {}, {}, {}
    for store_id, span in spans.items():
        zone = zones[store_id]
        current[store_id] = (span.first_day, span.last_day)
        first, last_whole, tail_start = _previous_days(span, zone)
        previous[store_id] = (first, last_whole)
        if tail_start < span.previous_end:
            tails[store_id] = (max(tail_start, span.previous_start), span.previous_end)
        weeks[store_id] = (span.trend_start.astimezone(localday.zone(zone)).date(), span.last_day)
    with storage.snapshot() as db:  # one moment for every read below
        for (first, last), ids in _grouped(current).items():
            read.cur.add(_from_rollups(db, ids, first, last))
            cells = rollups.sums(db, ids, "hour", first, last)
            for (hour, weekday), counts in cells.items():
                _add(read.heat, (weekday, hour), counts)
        per_store = rollups.counts(db, current, by=("store", "first_engagement"))
        for (store_id, engagement), counts in per_store.items():
            _add(read.cur.store_engagement, (store_id, engagement), counts)
        for (first, last), ids in _grouped(previous).items():
            read.prev.add(_from_rollups(db, ids, first, last))
        for (first, last), ids in _grouped(weeks).items():
            weekly = rollups.sums(db, ids, "engagement", first, last, per_week=True)
            for (week, engagement, _k2), counts in weekly.items():
                _add(read.weeks, (week, engagement), counts)
        if tails:
            read.prev.add(_from_visits(_Sums(facts.read(db, tails)), learned))
    return read


def build(storage: Storage, selection: DashboardFilters, now: datetime) -> Dashboard:
    """Every view of the dashboard for one selection, as plain data."""
    stores = [s for s in catalog.list_stores(storage) if selection.covers(s["id"])]
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
    reasons = catalog.list_reasons(storage, REASON, active_only=False, every=True)
    learned = np.zeros(max((r["id"] for r in reasons), default=0) + 1, dtype=np.int64)
    for r in reasons:
        learned[r["id"]] = r["learned"]
    zones = {s["id"]: s["timezone"] for s in stores}
    if selection.associate_id is None and selection.reason_id is None:
        read = _read_rollups(storage, spans, zones, learned)
    else:
        read = _read_visits(storage, selection, spans, zones, learned)
    no_sale_names = {
        r["id"]: entry_name(r["name"])
        for r in catalog.list_reasons(storage, NO_SALE_REASON, active_only=False, every=True)
    }
    return Dashboard(
        selection=selection,
        spans=spans,
        totals=read.cur.total,
        previous=read.prev.total,
        by_engagement=_engagement(read.cur, read.prev),
        by_depth=_connection(read.cur, read.prev),
        by_reason=_reasons(read.cur, read.prev, {r["id"]: entry_name(r["name"]) for r in reasons}),
        no_sale=_no_sale(read.cur, no_sale_names),
        trend=_trend(read.weeks),
        heat=_heat(read.heat),
        team=_team(read.cur, read.prev, people, {s["id"]: s["name"] for s in stores}),
        engagement_by_store=by_engagement(read.cur.store_engagement),
        engagement_by_associate=by_engagement(read.cur.associate_engagement),
    )


def data_version(storage: Storage) -> tuple[int, ...]:
    """Changes whenever any visit, list or store changes: the newest audit row
    and the storage's own stamp of its last commit (``change_stamp``). Lets a
    cache keep results exactly as long as they are true."""
    with storage.read() as db:
        (audit_id,) = db.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()
    return audit_id, *storage.change_stamp()
