"""The chain's view (issue #28): an owner's or area manager's stores side by
side for one period — conversion, units per sale, warm rate, logging
coverage and the cost of neutral moments per store, each with its n and,
where there is one, its 95% interval (docs/product.md, "The chain's view").

``build`` reads each store's counts per first engagement from the rollups
(one ``GROUP BY`` statement for the stores that share their local days,
``rollups.counts``) and its door-counter totals from the coverage sums (one
more, ``coverage.totals_by_store``), so a chain's year is a few hundred
thousand pre-summed rows, never its millions of visits. Every number is the
one the rest of cxlog shows: ``metrics.Counts`` for the rates and their
Wilson intervals, ``coaching.cost`` (Newcombe) for what neutral moments
cost, ``dashboard.ranked`` for the order. A store with fewer than MIN_SAMPLE
closed visits is listed after the ranked ones and has no rank. Only the
stores of the selection's scope (the account's) are read. No Streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cxlog.calendar import periods
from cxlog.coaching.coaching import Cost, cost
from cxlog.core.model import FIRST_ENGAGEMENTS, NEUTRAL, WARM
from cxlog.coverage import coverage
from cxlog.coverage.coverage import Totals
from cxlog.coverage.traffic import CounterSettings, counter_settings
from cxlog.dashboard.dashboard import DashboardFilters, Group, ranked
from cxlog.greeting import figures
from cxlog.greeting.figures import Line
from cxlog.numbers import rollups
from cxlog.numbers.metrics import Counts, Rate
from cxlog.storage.db import Storage
from cxlog.storage.settings import greet_rules_in
from cxlog.stores import catalog


@dataclass(frozen=True)
class StoreRow:
    """One store of the chain's view."""

    store_id: int
    name: str
    span: periods.Span
    counts: Counts  # every (non-voided) visit of the store's period
    by_engagement: dict[str, Counts]  # warm, neutral, missed
    neutral: Cost  # what its neutral first engagements cost against its warm ones
    coverage: Totals | None  # None: no door-counter hour in the period
    coverage_threshold: float
    rank: int | None  # None: fewer than MIN_SAMPLE closed visits, listed last
    # Time to greet (issue #30): the store's arrivals, on time and left, and
    # its median wait; None where the store has time to greet off.
    greet: Line | None = None

    @property
    def too_few(self) -> bool:
        return self.counts.too_few

    @property
    def logged_share(self) -> Rate | None:
        """Logging coverage as a rate: logged visits of the counted hours out
        of the visitors (rounded to whole people), for its n and Wilson
        interval. None without counter data, or when more visits were logged
        than visitors counted (not a share of them: the value alone is shown)."""
        t = self.coverage
        if t is None or not t.hours:
            return None
        visitors = round(t.visitors)
        if visitors <= 0 or t.logged > visitors:
            return None
        return Rate(t.logged, visitors)

    @property
    def low_coverage(self) -> bool:
        """Under the store's own coverage threshold: its moment numbers rest
        on partial logging."""
        share = None if self.coverage is None else self.coverage.coverage
        return share is not None and share < self.coverage_threshold


@dataclass(frozen=True)
class ChainView:
    selection: DashboardFilters
    rows: list[StoreRow]  # ranked by conversion, best first; then the too few
    totals: Counts  # the stores together

    @property
    def ranked(self) -> list[StoreRow]:
        return [r for r in self.rows if r.rank is not None]

    @property
    def greets(self) -> bool:
        """Whether any store of the view has time to greet on."""
        return any(r.greet is not None for r in self.rows)


def build(storage: Storage, selection: DashboardFilters, now: datetime) -> ChainView:
    """Every store the selection covers (``selection.scope``: the account's
    stores; None for every store), side by side for its period, each in its
    own local days."""
    with storage.one_connection():  # on PostgreSQL, one pooled connection for every read
        stores = [s for s in catalog.list_stores(storage) if selection.covers(s["id"])]
        spans = {
            s["id"]: periods.resolve(
                selection.period, s["timezone"], now, selection.first, selection.last
            )
            for s in stores
        }
        days = {store_id: (span.first_day, span.last_day) for store_id, span in spans.items()}
        settings: dict[int, CounterSettings] = counter_settings(storage, spans) if spans else {}
        per_engagement, counted, greets = {}, {}, {}
        if days:
            with storage.snapshot() as db:  # one moment for both reads
                per_engagement = rollups.counts(db, days, by=("store", "first_engagement"))
                counted = coverage.totals_by_store(db, days)
                greeting = [s for s, r in greet_rules_in(db, list(days)).items() if r.on]
            # Issue #30: the wait sums only (no hours, no associates), of
            # the stores that have time to greet on.
            if greeting:
                found = figures.from_sums(storage, {s: days[s] for s in greeting}, kinds=("wait",))
                greets = {line.key: line for line in found.stores}
    engagement: dict[int, dict[str, Counts]] = {
        s["id"]: {name: Counts() for name in FIRST_ENGAGEMENTS} for s in stores
    }
    for (store_id, code), counts in per_engagement.items():
        if store_id in engagement:
            engagement[store_id][FIRST_ENGAGEMENTS[code]] += counts
    totals: dict[int, Counts] = {}
    for store_id, groups in engagement.items():
        total = Counts()
        for counts in groups.values():
            total += counts
        totals[store_id] = total
    order = ranked([Group(s["id"], s["name"], totals[s["id"]]) for s in stores])
    names = {s["id"]: s["name"] for s in stores}
    rows, rank = [], 0
    for group in order:
        store_id = group.key
        if not group.counts.too_few:
            rank += 1
        by = engagement[store_id]
        found = counted.get(store_id)
        rows.append(
            StoreRow(
                store_id=store_id,
                name=names[store_id],
                span=spans[store_id],
                counts=group.counts,
                by_engagement=by,
                neutral=cost(by[WARM], by[NEUTRAL], NEUTRAL),
                coverage=found if found is not None and found.hours else None,
                coverage_threshold=settings.get(store_id, CounterSettings()).coverage_threshold,
                rank=None if group.counts.too_few else rank,
                greet=greets.get(store_id),
            )
        )
    chain = Counts()
    for total in totals.values():
        chain += total
    return ChainView(selection=selection, rows=rows, totals=chain)
