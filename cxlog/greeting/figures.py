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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from cxlog.calendar import periods
from cxlog.core.model import to_utc_text
from cxlog.greeting import rules as greet_rules
from cxlog.numbers import greet_sums, rollups
from cxlog.numbers.greet_sums import GreetCounts
from cxlog.numbers.metrics import Rate
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
    def standard(self) -> int | None:
        """The selection's standard, None when its stores' differ."""
        found = {r.standard for r in self.rules.values()}
        return found.pop() if len(found) == 1 else None

    @property
    def goal(self) -> float | None:
        found = {r.goal for r in self.rules.values()}
        return found.pop() if len(found) == 1 else None


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


def _band_index(edges: list[tuple[int, int | None]], wait: int) -> int:
    return next(i for i, (_low, high) in enumerate(edges) if high is None or wait <= high)


def _figures(
    sums: dict[str, dict[tuple, GreetCounts]],
    visits: dict[int, int],
    rules: dict[int, GreetRules],
    names: dict[int, str],
    people: dict[int, str],
) -> Greeting:
    """The figures from sums keyed (store, k1, k2)."""
    waits = sums["wait"]
    totals = sum(waits.values(), GreetCounts())
    histogram: dict[int, int] = {}
    per_store_hist: dict[int, dict[int, int]] = {}
    # Bands: the first store's labels name them; stores with other rules
    # add into the band of the same rank (the page says the standards differ).
    shape = greet_rules.bands(next(iter(rules.values()), GreetRules()))
    band_counts = [GreetCounts() for _ in shape]
    for (store, wait, left), c in waits.items():
        if left:
            continue
        histogram[wait] = histogram.get(wait, 0) + c.arrivals
        per_store_hist.setdefault(store, {})[wait] = c.arrivals
        index = _band_index(greet_rules.bands(rules[store]), wait)
        index = min(index, len(band_counts) - 1)
        band_counts[index] = band_counts[index] + c
    hours: dict[tuple[int, int], GreetCounts] = {}
    for (_store, hour, day), c in sums["hour"].items():
        hours[(day, hour)] = hours.get((day, hour), GreetCounts()) + c
    by_person: dict[int, GreetCounts] = {}
    for (_store, person, _k2), c in sums["associate"].items():
        by_person[person] = by_person.get(person, GreetCounts()) + c
    by_store: dict[int, GreetCounts] = {}
    for (store, _wait, _left), c in waits.items():
        by_store[store] = by_store.get(store, GreetCounts()) + c
    return Greeting(
        visits=sum(visits.values()),
        totals=totals,
        median=percentile(histogram, 0.5),
        p90=percentile(histogram, 0.9),
        rules=rules,
        bands=[
            Band(low, high, greet_rules.band_label(i, low, high), band_counts[i])
            for i, (low, high) in enumerate(shape)
        ],
        hours=hours,
        associates=sorted(
            (Line(p, people.get(p, "?"), c) for p, c in by_person.items()),
            key=lambda line: (-line.counts.arrivals, line.name),
        ),
        stores=[
            Line(
                s,
                names[s],
                by_store.get(s, GreetCounts()),
                percentile(per_store_hist.get(s, {}), 0.5),
                visits.get(s, 0),
            )
            for s in sorted(names, key=lambda s: names[s])
        ],
    )


def from_sums(
    storage: Storage, store_days: Mapping[int, tuple[date, date]], *, snapshot=None
) -> Greeting:
    """The figures of whole local days per store from the greet sums."""
    ids = list(store_days)
    with storage.snapshot() as db:
        rules = settings.greet_rules_in(db, ids)
        sums: dict[str, dict[tuple, GreetCounts]] = {k: {} for k in greet_sums.KINDS}
        groups: dict[tuple[date, date], list[int]] = {}
        for store_id, days in store_days.items():
            groups.setdefault(days, []).append(store_id)
        for (first, last), stores in groups.items():
            found = greet_sums.sums(db, stores, list(greet_sums.KINDS), first, last, per_store=True)
            for kind, rows in found.items():
                for key, c in rows.items():
                    sums[kind][key] = sums[kind].get(key, GreetCounts()) + c
        visits = {
            key[0]: c.visits for key, c in rollups.counts(db, store_days, by=("store",)).items()
        }
    return _figures(sums, visits, rules, *_names(storage, ids))


def _names(storage: Storage, ids: list[int]) -> tuple[dict[int, str], dict[int, str]]:
    stores = {s["id"]: s["name"] for s in catalog.list_stores(storage) if s["id"] in ids}
    people = {a["id"]: a["name"] for a in catalog.list_associates(storage) if a["store_id"] in ids}
    return stores, people


def from_visits(
    storage: Storage,
    spans: Mapping[int, periods.Span],
    *,
    associate_id: int | None = None,
    reason_id: int | None = None,
) -> Greeting:
    """The figures of a filtered selection, from its visits' own rows."""
    ids = list(spans)
    where = " AND voided_at IS NULL"
    extra: list = []
    if associate_id is not None:
        where += " AND associate_id = ?"
        extra.append(associate_id)
    if reason_id is not None:
        where += " AND reason_id = ?"
        extra.append(reason_id)
    rows: list[dict] = []
    visits: dict[int, int] = {}
    with storage.snapshot() as db:
        rules = settings.greet_rules_in(db, ids)
        zones = dict(db.execute("SELECT id, timezone FROM stores").fetchall())
        for store_id, span in spans.items():
            bounds = [store_id, to_utc_text(span.start), to_utc_text(span.end), *extra]
            base = "FROM visits WHERE store_id = ? AND started_at >= ? AND started_at < ?" + where
            visits[store_id] = db.execute("SELECT count(*) " + base, bounds).fetchone()[0]
            rows.extend(db.query("SELECT * " + base + " AND arrived_at IS NOT NULL", bounds))
    sums = greet_sums.summed(rows, zones, {s: r.standard for s, r in rules.items()})
    return _figures(sums, visits, rules, *_names(storage, ids))


def build(storage: Storage, spans: Mapping[int, periods.Span], selection) -> Greeting:
    """The dashboard's selection (a DashboardFilters) over its spans."""
    if selection.associate_id is None and selection.reason_id is None:
        return from_sums(storage, {s: (p.first_day, p.last_day) for s, p in spans.items()})
    return from_visits(
        storage, spans, associate_id=selection.associate_id, reason_id=selection.reason_id
    )


def any_on(storage: Storage, store_ids: list[int]) -> bool:
    """Whether any of the stores has time to greet on (the section shows)."""
    with storage.read() as db:
        return any(r.on for r in settings.greet_rules_in(db, store_ids).values())
