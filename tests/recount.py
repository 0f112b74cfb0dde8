"""The independent recount (#12): docs/product.md's numbers by SQL GROUP BY over the
raw visits, the oracle the tests hold cxlog's one engine (the rollups and
metrics.Counts) against. Not used by any screen or file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cxlog.db import Storage
from cxlog.errors import ValidationError
from cxlog.metrics import Counts
from cxlog.model import to_utc_text

# What a breakdown can be grouped by, as SQL over `visits v LEFT JOIN reasons r`.
GROUPS: dict[str, str] = {
    "first_engagement": "v.first_engagement",
    "connection_depth": "(v.first_engagement = 'warm') + coalesce(r.learned, 0) + v.recommended",
    "reason": "v.reason_id",
    "no_sale_reason": "v.no_sale_reason_id",
    "associate": "v.associate_id",
    "store": "v.store_id",
}


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


_SUMS = """
    count(*) AS visits,
    total(v.first_engagement = 'warm') AS warm,
    total(v.outcome IS NOT NULL) AS closed,
    total(v.outcome = 'purchased') AS purchased,
    total(CASE WHEN v.outcome = 'purchased' THEN v.units END) AS units,
    total(CASE WHEN v.outcome = 'purchased' THEN v.amount_cents END) AS amount_cents,
    total(v.outcome = 'purchased' AND v.amount_cents IS NOT NULL) AS with_amount
"""


def _counts(row: dict) -> Counts:
    return Counts(**{name: int(row[name]) for name in Counts.__dataclass_fields__})


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
