"""Time to greet's figures for one selection (issue #30; docs/product.md).

Only visits with an arrival tap count. From the greet sums (whole local days
of each store, cxlog/numbers/greet_sums.py), or, for a selection filtered to
one associate or one reason, from those visits' own rows summed the same way.

- time to greet: median and 90th percentile (nearest rank) of greeted
  visits' seconds from arrival to first engagement;
- on-time rate: greeted within the store's standard ÷ visits with an
  arrival (a customer who left was not greeted on time), with n and its
  95% interval;
- left before greeting: how many;
- per wait band (each store's own standard and edges): conversion and
  units per sale of greeted visits, "too few visits" under the minimum;
- per hour × weekday, per associate who greeted, per store;
- the share of the selection's visits that had an arrival tap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter

import numpy as np

from cxlog.calendar import periods
from cxlog.calendar.localday import local_seconds, weekday
from cxlog.core.model import to_utc_text
from cxlog.greeting import rules as greet_rules
from cxlog.numbers import greet_sums, rollups
from cxlog.numbers.greet_sums import GreetCounts
from cxlog.numbers.metrics import Counts, Rate
from cxlog.storage import settings
from cxlog.storage.db import Storage
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog


@dataclass(frozen=True)
class Band:
    low: int
    high: int | None
    label: str
    counts: GreetCounts


@dataclass(frozen=True)
class Line:
    """One associate's or one store's figures."""

    key: int
    name: str
    counts: GreetCounts
    median: int | None = None
    visits: int = 0


@dataclass(frozen=True)
class Greeting:
    visits: int  # every visit of the selection, with an arrival or not
    totals: GreetCounts
    median: int | None
    p90: int | None
    rules: dict[int, GreetRules]  # per store of the selection
    bands: list[Band]
    hours: dict[tuple[int, int], GreetCounts]  # (weekday 0 = Mon, hour)
    associates: list[Line]
    stores: list[Line] = field(default_factory=list)

    @property
    def share(self) -> Rate:
        """Visits with an arrival tap ÷ every visit."""
        return Rate(self.totals.arrivals, self.visits)

    @property
    def in_use(self) -> list[GreetRules]:
        """The rules of the stores that count: those with time to greet on
        or with arrivals in the selection (a store that never used it keeps
        the defaults, which name nothing here)."""
        return _in_use(self.rules, {line.key: line.counts.arrivals for line in self.stores})

    @property
    def standard(self) -> int | None:
        """The selection's standard, None when its stores' differ."""
        found = {r.standard for r in self.in_use}
        return found.pop() if len(found) == 1 else None

    @property
    def goal(self) -> float | None:
        found = {r.goal for r in self.in_use}
        return found.pop() if len(found) == 1 else None


def _in_use(rules: dict[int, GreetRules], arrivals: Mapping[int, int]) -> list[GreetRules]:
    used = [r for s, r in rules.items() if r.on or arrivals.get(s)]
    return used or list(rules.values())


def percentile(histogram: Mapping[int, int], share: float) -> int | None:
    """The smallest wait with at least ``share`` of the greeted at or under it."""
    n = sum(histogram.values())
    if not n:
        return None
    rank, seen = max(1, math.ceil(share * n)), 0
    for wait in sorted(histogram):
        seen += histogram[wait]
        if seen >= rank:
            return wait
    return None


def _percentile(counts: np.ndarray, share: float) -> int | None:
    """``percentile`` of a histogram as an array (index: the wait)."""
    n = int(counts.sum())
    if not n:
        return None
    rank = max(1, math.ceil(share * n))
    return int(np.searchsorted(np.cumsum(counts), rank))


# The sums of one kind as arrays: keys (store, k1, k2) and the seven sums of
# GreetCounts in its order, one row per group; a key may repeat (every
# figure here is a sum), so reads of several day ranges just stack.
_Kind = tuple[np.ndarray, np.ndarray]
_AS_TUPLE = attrgetter(*greet_sums.SUMS)


def _empty() -> _Kind:
    return np.zeros((0, 3), dtype=np.int64), np.zeros((0, len(greet_sums.SUMS)), dtype=np.int64)


def _counts(values: np.ndarray) -> GreetCounts:
    return GreetCounts(*(int(v) for v in values.sum(axis=0))) if len(values) else GreetCounts()


def _grouped(k1: np.ndarray, k2: np.ndarray, values: np.ndarray) -> dict[tuple, GreetCounts]:
    """Rows with equal (k1, k2) summed (both whole numbers from 0):
    {(k1, k2): GreetCounts}. One sort of a 1-d code, not a 2-d unique."""
    if not len(k1):
        return {}
    width = int(k2.max()) + 1
    code = k1 * width + k2
    order = np.argsort(code, kind="stable")
    code = code[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    summed = np.add.reduceat(values[order], starts, axis=0)
    return {
        (int(c) // width, int(c) % width): GreetCounts(*(int(v) for v in row))
        for c, row in zip(code[starts], summed, strict=True)
    }


def _band_of(rules: GreetRules, waits: np.ndarray, count: int) -> np.ndarray:
    """Each wait's band among the selection's ``count`` (its shape): on time
    stays on time and the store's longest band the longest; a band in
    between goes to the same rank, at most the last one in between."""
    highs = np.array([rules.standard, *rules.bands], dtype=np.int64)
    own = np.searchsorted(highs, waits, side="left")  # first band with wait <= its high
    last = count - 1
    middle = np.minimum(own, last - 1) if last > 1 else np.full_like(own, last)
    return np.where(own == len(highs), last, np.where(own == 0, 0, middle))


def _figures(
    waits: _Kind,
    hours: Mapping[tuple[int, int], GreetCounts],
    by_person: Mapping[int, GreetCounts],
    visits: dict[int, int],
    rules: dict[int, GreetRules],
    names: dict[int, str],
    people: dict[int, str],
) -> Greeting:
    """The figures from the waits' sums (keys (store, bin, left)), and the
    counts per (weekday, hour) and per associate."""
    keys, values = waits
    store, wait, left = keys.T
    greeted = left == 0
    by_store = {int(s): _counts(values[store == s]) for s in np.unique(store)}
    # Bands: the first counted store's labels name them (not a store that
    # never turned time to greet on: its defaults); stores with other rules
    # add into the band of the same rank (the page says the standards differ).
    used = _in_use(rules, {s: c.arrivals for s, c in by_store.items()})
    shape = greet_rules.bands(next(iter(used), GreetRules()))
    band = np.full(len(keys), -1, dtype=np.int64)  # -1: left before greeting
    size = int(wait.max()) + 1 if len(wait) else 1
    histogram = np.zeros(size, dtype=np.int64)
    medians: dict[int, int | None] = {}
    for s in by_store:
        mine = (store == s) & greeted
        band[mine] = _band_of(rules[s], wait[mine], len(shape))
        own = np.bincount(wait[mine], weights=values[mine, 0], minlength=size).astype(np.int64)
        histogram += own
        medians[s] = _percentile(own, 0.5)
    bands = [
        Band(low, high, greet_rules.band_label(i, low, high), _counts(values[band == i]))
        for i, (low, high) in enumerate(shape)
    ]
    return Greeting(
        visits=sum(visits.values()),
        totals=_counts(values),
        median=_percentile(histogram, 0.5),
        p90=_percentile(histogram, 0.9),
        rules=rules,
        bands=bands,
        hours={k: c for k, c in hours.items() if c.arrivals},
        associates=sorted(
            (Line(p, people.get(p, "?"), c) for p, c in by_person.items() if c.arrivals),
            key=lambda line: (-line.counts.arrivals, line.name),
        ),
        stores=[
            Line(s, names[s], by_store.get(s, GreetCounts()), medians.get(s), visits.get(s, 0))
            for s in sorted(names, key=lambda s: names[s])
        ],
    )


@dataclass(frozen=True)
class Tallies:
    """Counts the dashboard has read already (its heat map, team table and
    stores), whose time-to-greet sums (``Counts.arrivals``, ``on_time``,
    ``left_before``) the section reuses instead of reading them again."""

    hours: Mapping[tuple[int, int], Counts]  # (weekday 0 = Mon, hour)
    associates: Mapping[int, Counts]
    stores: Mapping[int, Counts]


def _three(c: Counts) -> GreetCounts:
    """Rollup Counts as greet counts: arrivals, on time and left (the
    rollups keep no conversion of visits with an arrival per hour or
    associate)."""
    return GreetCounts(c.arrivals, on_time=c.on_time, left_before=c.left_before)


def from_sums(
    storage: Storage,
    store_days: Mapping[int, tuple[date, date]],
    *,
    tallies: Tallies | None = None,
    kinds: Sequence[str] = ("wait", "hour", "associate"),
    rules: dict[int, GreetRules] | None = None,
) -> Greeting:
    """The figures of whole local days per store: the waits from the greet
    sums, the rest from the rollups (``tallies``: the dashboard's own read
    of them, else read here). ``kinds``: only these read (the chain's view
    needs "wait" only: the hours and associates then stay empty)."""
    ids = list(store_days)
    groups: dict[tuple[date, date], list[int]] = {}
    for store_id, days in store_days.items():
        groups.setdefault(days, []).append(store_id)
    waits: list[_Kind] = []
    # One connection for every read (opening one costs about a millisecond).
    with storage.one_connection():
        with storage.snapshot() as db:
            rules = settings.greet_rules_in(db, ids) if rules is None else rules
            standards = {s: r.standard for s, r in rules.items()}
            for (first, last), stores in groups.items():
                rows = greet_sums.sums(db, stores, first, last, per_store=True, standards=standards)
                if rows:
                    keys = np.array(list(rows), dtype=np.int64)
                    sums = np.array([_AS_TUPLE(c) for c in rows.values()], dtype=np.int64)
                    waits.append((keys, sums))
            if tallies is None:
                hours = (
                    {
                        (day, hour): c
                        for (hour, day), c in rollups.counts(
                            db, store_days, by=("local_hour", "weekday")
                        ).items()
                    }
                    if "hour" in kinds
                    else {}
                )
                people = (
                    {k[0]: c for k, c in rollups.counts(db, store_days, by=("associate",)).items()}
                    if "associate" in kinds
                    else {}
                )
                stores = {k[0]: c for k, c in rollups.counts(db, store_days, by=("store",)).items()}
                tallies = Tallies(hours, people, stores)
        names = _names(storage, ids)
    visits = {s: c.visits for s, c in tallies.stores.items()}
    return _figures(
        _stacked(waits),
        {k: _three(c) for k, c in tallies.hours.items() if c.arrivals},
        {p: _three(c) for p, c in tallies.associates.items() if c.arrivals},
        visits,
        rules,
        *names,
    )


def _stacked(parts: list[_Kind]) -> _Kind:
    if not parts:
        return _empty()
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([k for k, _v in parts]), np.concatenate([v for _k, v in parts])


def _names(storage: Storage, ids: list[int]) -> tuple[dict[int, str], dict[int, str]]:
    stores = {s["id"]: s["name"] for s in catalog.list_stores(storage) if s["id"] in ids}
    people = {a["id"]: a["name"] for a in catalog.list_associates(storage) if a["store_id"] in ids}
    return stores, people


# What from_visits reads of a visit with an arrival, as whole numbers: its
# start (Unix seconds), warm or not, its outcome (0 open, 1 no purchase, 2
# purchased), units, associate, seconds to greet (-1 unknown), left or not.
_COLUMNS = (
    "SELECT unixepoch(started_at), CASE WHEN first_engagement = 'warm' THEN 1 ELSE 0 END,"
    " CASE WHEN outcome IS NULL THEN 0 WHEN outcome = 'purchased' THEN 2 ELSE 1 END,"
    " coalesce(units, 0), associate_id, coalesce(greet_seconds, -1), left_before_greeting "
)


def from_visits(
    storage: Storage,
    spans: Mapping[int, periods.Span],
    *,
    associate_id: int | None = None,
    reason_id: int | None = None,
) -> Greeting:
    """The figures of a filtered selection, from its visits' own rows,
    summed as greet_sums.contribution sums one visit (numpy over the
    columns: a year of one associate is ~100,000 rows)."""
    ids = list(spans)
    where = " AND voided_at IS NULL"
    extra: list = []
    if associate_id is not None:
        where += " AND associate_id = ?"
        extra.append(associate_id)
    if reason_id is not None:
        where += " AND reason_id = ?"
        extra.append(reason_id)
    visits: dict[int, int] = {}
    parts: dict[str, list[_Kind]] = {k: [] for k in ("wait", "hour", "associate")}
    with storage.one_connection():
        with storage.snapshot() as db:
            rules = settings.greet_rules_in(db, ids)
            zones = dict(db.execute("SELECT id, timezone FROM stores").fetchall())
            for store_id, span in spans.items():
                bounds = [store_id, to_utc_text(span.start), to_utc_text(span.end), *extra]
                base = (
                    "FROM visits WHERE store_id = ? AND started_at >= ? AND started_at < ?" + where
                )
                visits[store_id] = db.execute("SELECT count(*) " + base, bounds).fetchone()[0]
                rows = db.execute(_COLUMNS + base + " AND arrived_at IS NOT NULL", bounds)
                found = np.array(rows.fetchall(), dtype=np.int64)
                if len(found):
                    standard = rules[store_id].standard
                    for kind, part in zip(
                        ("wait", "hour", "associate"),
                        _summed(found, store_id, zones[store_id], standard),
                        strict=True,
                    ):
                        parts[kind].append(part)
        names = _names(storage, ids)
    hour_keys, hour_values = _stacked(parts["hour"])
    hours = {
        (day, hour): c
        for (hour, day), c in _grouped(hour_keys[:, 1], hour_keys[:, 2], hour_values).items()
    }
    person_keys, person_values = _stacked(parts["associate"])
    people = {
        p: c
        for (p, _k2), c in _grouped(person_keys[:, 1], person_keys[:, 2], person_values).items()
    }
    return _figures(_stacked(parts["wait"]), hours, people, visits, rules, *names)


def _summed(rows: np.ndarray, store_id: int, timezone: str, standard: int) -> list[_Kind]:
    """One store's visits (from_visits' columns) as each kind's rows, one
    row a visit: the keys and sums greet_sums.contribution gives it."""
    started, _warm, outcome, units, associate, wait, left = rows.T
    local = local_seconds(started, timezone)
    greeted = left == 0
    purchased = outcome == 2
    values = np.stack(
        [
            np.ones(len(rows), dtype=np.int64),
            outcome > 0,
            purchased,
            np.where(purchased, units, 0),
            greeted & (wait >= 0) & (wait <= standard),
            left,
        ],
        axis=1,
    ).astype(np.int64)
    bins = greet_sums.bins(wait)
    store = np.full(len(rows), store_id, dtype=np.int64)
    # Per hour and associate only what the rollups keep there (_from_counts).
    three = values * np.array([1, 0, 0, 0, 1, 1], dtype=np.int64)
    return [
        (np.stack([store, np.where(greeted, bins, 0), left], axis=1), values),
        (np.stack([store, (local % 86_400) // 3_600, weekday(local // 86_400)], axis=1), three),
        (np.stack([store, associate, np.zeros_like(store)], axis=1), three),
    ]


def build(
    storage: Storage,
    spans: Mapping[int, periods.Span],
    selection,
    tallies: Tallies | None = None,
) -> Greeting:
    """The dashboard's selection (a DashboardFilters) over its spans;
    ``tallies``: the dashboard's own counts of the unfiltered selection."""
    if selection.associate_id is None and selection.reason_id is None:
        days = {s: (p.first_day, p.last_day) for s, p in spans.items()}
        return from_sums(storage, days, tallies=tallies)
    return from_visits(
        storage, spans, associate_id=selection.associate_id, reason_id=selection.reason_id
    )


def section(
    storage: Storage,
    spans: Mapping[int, periods.Span],
    selection,
    tallies: Tallies | None = None,
) -> Greeting | None:
    """``build`` for the dashboard's section, or None (nothing to draw) when
    no store of the selection has time to greet on: the rules read once."""
    with storage.one_connection():  # the rules and the figures: one connection
        with storage.read() as db:
            rules = settings.greet_rules_in(db, list(spans))
        if not any(r.on for r in rules.values()):
            return None
        if selection.associate_id is None and selection.reason_id is None:
            days = {s: (p.first_day, p.last_day) for s, p in spans.items()}
            return from_sums(storage, days, tallies=tallies, rules=rules)
        return build(storage, spans, selection)
