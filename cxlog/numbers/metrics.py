"""docs/product.md's numbers, exactly: every rate on every screen and file is a
``Counts`` property, whatever summed the visits (cxlog.numbers.rollups for whole
days, cxlog.dashboard.dashboard's numpy sums for single visits). ``totals`` and
``breakdown`` below sum single visits by plain SQL ``GROUP BY``: the huddle
(#14, cxlog.coaching.coaching) reads them, and the tests hold the rollups and the
dashboard against them as the independent recount (tests/test_metrics.py
holds them against hand counts).

Over the visits that match the filters, ignoring voided visits:
conversion = purchased ÷ closed; UPS = Σ units ÷ purchased; average sale =
Σ amount ÷ purchased visits with an amount; warm rate = warm ÷ visits (open
visits included). Rates carry their n and a 95% Wilson score interval; a group
with fewer than MIN_SAMPLE closed visits is "too few visits".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from cxlog.core.errors import ValidationError
from cxlog.core.model import MIN_SAMPLE, MISSED, NEUTRAL, WARM, to_utc_text
from cxlog.storage.db import Storage

Z_95 = 1.959963984540054


# What a breakdown can be grouped by, as SQL over `visits v LEFT JOIN reasons r`.
GROUPS: dict[str, str] = {
    "first_engagement": "v.first_engagement",
    "connection_depth": (
        "CAST(v.first_engagement = 'warm' AS INTEGER) + coalesce(r.learned, 0) + v.recommended"
    ),
    "reason": "v.reason_id",
    "no_sale_reason": "v.no_sale_reason_id",
    "associate": "v.associate_id",
    "store": "v.store_id",
}


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """95% Wilson score interval for successes out of n; None when n is 0."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} outside 0..{n}")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Rate:
    successes: int
    n: int

    @property
    def value(self) -> float | None:
        return self.successes / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.successes, self.n)


@dataclass(frozen=True)
class Counts:
    """Sums over one group of visits; every number derives from these."""

    visits: int = 0
    warm: int = 0
    closed: int = 0
    purchased: int = 0
    units: int = 0
    amount_cents: int = 0
    with_amount: int = 0
    # Issue #30, time to greet (cxlog/numbers/greet_sums.py): visits with an
    # arrival tap, those greeted within the store's standard, those who left
    # before greeting. Kept in the rollups so the dashboard's own reads carry
    # them (per hour, associate, store); the plain SQL sums below leave them 0.
    arrivals: int = 0
    on_time: int = 0
    left_before: int = 0

    def __add__(self, other: Counts) -> Counts:
        """Counts are plain sums, so two disjoint sets of visits add up."""
        return Counts(
            self.visits + other.visits,
            self.warm + other.warm,
            self.closed + other.closed,
            self.purchased + other.purchased,
            self.units + other.units,
            self.amount_cents + other.amount_cents,
            self.with_amount + other.with_amount,
            self.arrivals + other.arrivals,
            self.on_time + other.on_time,
            self.left_before + other.left_before,
        )

    @property
    def open(self) -> int:
        return self.visits - self.closed

    @property
    def conversion(self) -> Rate:
        return Rate(self.purchased, self.closed)

    @property
    def warm_rate(self) -> Rate:
        return Rate(self.warm, self.visits)

    @property
    def units_per_sale(self) -> float | None:
        return self.units / self.purchased if self.purchased else None

    @property
    def average_sale(self) -> float | None:
        """In currency units (amounts are stored in cents)."""
        return self.amount_cents / self.with_amount / 100 if self.with_amount else None

    @property
    def too_few(self) -> bool:
        return self.closed < MIN_SAMPLE


@dataclass(frozen=True)
class Filters:
    """Which visits count. Times are UTC-aware; ``end`` is exclusive."""

    start: datetime | None = None
    end: datetime | None = None
    store_ids: tuple[int, ...] = ()
    associate_ids: tuple[int, ...] = ()
    reason_ids: tuple[int, ...] = ()

    def where(self) -> tuple[str, list]:
        clauses, params = ["v.voided_at IS NULL"], []
        if self.start is not None:
            clauses.append("v.started_at >= ?")
            params.append(to_utc_text(self.start))
        if self.end is not None:
            clauses.append("v.started_at < ?")
            params.append(to_utc_text(self.end))
        for column, ids in (
            ("v.store_id", self.store_ids),
            ("v.associate_id", self.associate_ids),
            ("v.reason_id", self.reason_ids),
        ):
            if ids:
                clauses.append(f"{column} IN ({', '.join('?' * len(ids))})")
                params.extend(int(i) for i in ids)
        return " AND ".join(clauses), params


# Sums of CASE, 0 over no rows, in built-in aggregates on both engines
# (SQLite's total() is cxlog's own aggregate on PostgreSQL: a SQL function
# call per row).
_SUMS = """
    count(*) AS visits,
    coalesce(sum(CASE WHEN v.first_engagement = 'warm' THEN 1 ELSE 0 END), 0) AS warm,
    coalesce(sum(CASE WHEN v.outcome IS NOT NULL THEN 1 ELSE 0 END), 0) AS closed,
    coalesce(sum(CASE WHEN v.outcome = 'purchased' THEN 1 ELSE 0 END), 0) AS purchased,
    coalesce(sum(CASE WHEN v.outcome = 'purchased' THEN v.units END), 0) AS units,
    coalesce(sum(CASE WHEN v.outcome = 'purchased' THEN v.amount_cents END), 0) AS amount_cents,
    coalesce(sum(CASE WHEN v.outcome = 'purchased' AND v.amount_cents IS NOT NULL
        THEN 1 ELSE 0 END), 0) AS with_amount
"""


def _counts(row: dict) -> Counts:
    return Counts(**{name: int(row[name]) for name in Counts.__dataclass_fields__ if name in row})


def totals(storage: Storage, filters: Filters) -> Counts:
    where, params = filters.where()
    sql = f"SELECT {_SUMS} FROM visits v WHERE {where}"
    with storage.read() as db:
        return _counts(next(db.query(sql, params)))


def breakdown(storage: Storage, filters: Filters, by: str) -> dict[object, Counts]:
    """Counts per group, only for groups that have visits."""
    if by not in GROUPS:
        raise ValidationError(f"Cannot break down by {by!r}.")
    where, params = filters.where()
    join = "LEFT JOIN reasons r ON r.id = v.reason_id" if "r." in GROUPS[by] else ""
    sql = (
        f"SELECT {GROUPS[by]} AS key, {_SUMS} FROM visits v {join}"
        f" WHERE {where} GROUP BY key ORDER BY key"
    )
    with storage.read() as db:
        return {row["key"]: _counts(row) for row in db.query(sql, params)}


@dataclass(frozen=True)
class Lift:
    """Difference in conversion between two moment qualities."""

    better: str
    worse: str
    value: float | None
    too_few: bool


def lifts(by_engagement: dict[object, Counts]) -> list[Lift]:
    """Warm − Neutral and Neutral − Missed conversion, honest about small samples."""
    result = []
    for better, worse in ((WARM, NEUTRAL), (NEUTRAL, MISSED)):
        high = by_engagement.get(better, Counts()).conversion.value
        low = by_engagement.get(worse, Counts()).conversion.value
        value = None if high is None or low is None else high - low
        too_few = (
            by_engagement.get(better, Counts()).too_few
            or by_engagement.get(worse, Counts()).too_few
        )
        result.append(Lift(better, worse, value, too_few))
    return result
