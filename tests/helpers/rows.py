"""Visits written straight into the table, for tests that need hundreds of
them with chosen fields (the dashboard, the huddle, coverage)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cxlog.core.model import to_utc_text
from cxlog.numbers import derived
from tests.conftest import log_visit_in, new_id

NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)  # a visit's default start
# The dashboard's custom range around NOV, opened by URL.
RANGE = {"period": "custom", "from": "2026-11-01", "to": "2026-11-19"}


def insert(storage, rows: list[dict]) -> None:
    """Visits written straight into the table (hundreds of API calls would be slow)."""
    with storage.write() as db:
        for row in rows:
            at = to_utc_text(row.pop("at"))
            outcome = row.get("outcome")
            visit = {
                "id": new_id(),
                "started_at": at,
                "updated_at": at,
                "closed_at": at if outcome else None,
                **row,
            }
            db.insert_rows("visits", [visit])
        derived.rebuild(db)  # rows written past cxlog.visits.visits: count them as a bulk load does


def visit(store, who, engagement, outcome=None, units=None, amount=None, **extra) -> dict:
    return {
        "store_id": store,
        "associate_id": who,
        "first_engagement": engagement,
        "outcome": outcome,
        "units": units,
        "amount_cents": amount,
        "at": NOV,
        **extra,
    }


def seed(storage, shop, when: datetime, *, warm_buys: int, neutral_buys: int, n: int = 25):
    """n warm and n neutral closed visits with the given number of purchases."""
    for i in range(n):
        t = when + timedelta(minutes=i)
        log_visit_in(
            storage, shop, t, "warm", **({"units": 2} if i < warm_buys else {"no_sale": "Price"})
        )
        log_visit_in(
            storage,
            shop,
            t,
            "neutral",
            reason="Gift",
            **({"units": 1, "amount": 1250} if i < neutral_buys else {"no_sale": None}),
        )
