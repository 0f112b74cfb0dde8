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
OCT = datetime(2026, 10, 20, 12, tzinfo=UTC)  # before RANGE: the dashboard's previous period


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


def hand_month(storage, shop) -> dict:
    """By hand, 1–19 November: Ana's 30 closed warm visits (21 bought 2 units, 20 of
    them for 10.00) and 2 open; Ben's 25 neutral (10 bought 1 unit for 5.00) and 5
    missed (1 bought 3 units, no amount); 2 voided. Before, 20 neutral (8 bought 1).
    The dashboard's tests (tests/test_dashboard_page.py, and in German
    tests/test_dashboard_language.py) check their numbers against it."""
    s, ana, ben, gift = shop["store"], shop["ana"], shop["ben"], shop["reasons"]["Gift"]
    not_learned = shop["reasons"]["Not learned"]
    rows = [
        visit(s, ana, "warm", "purchased", 2, 1000 if i < 20 else None, reason_id=gift)
        for i in range(21)
    ]
    rows += [visit(s, ana, "warm", "no_purchase", reason_id=gift) for _ in range(9)]
    rows += [visit(s, ana, "warm", reason_id=gift) for _ in range(2)]
    rows += [
        visit(s, ben, "neutral", "purchased", 1, 500, reason_id=not_learned) for _ in range(10)
    ]
    rows += [visit(s, ben, "neutral", "no_purchase", reason_id=not_learned) for _ in range(15)]
    rows += [visit(s, ben, "missed", "purchased", 3)]
    rows += [visit(s, ben, "missed", "no_purchase") for _ in range(4)]
    rows += [
        visit(s, ana, "warm", "purchased", 5, 100, voided_at=to_utc_text(NOV), void_reason="x")
        for _ in range(2)
    ]
    rows += [visit(s, ben, "neutral", "purchased", 1, at=OCT) for _ in range(8)]
    rows += [visit(s, ben, "neutral", "no_purchase", at=OCT) for _ in range(12)]
    insert(storage, rows)
    return shop


def six_weeks(served: dict, n: int = 600, *, from_days_ago: int = 0) -> None:
    """``n`` visits for Ana and Ben over six weeks (London, store hours around
    noon UTC), mixed so every dashboard chart has enough to draw; the newest
    ``from_days_ago`` days ago (1: none today, so a Log page's board is empty)."""
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    reasons = [1, 2, 3, 4, 6]  # Gift … Browsing, Not learned (default ids)
    rows = []
    for i in range(n):
        engagement = ("warm", "warm", "neutral", "missed")[i % 4]
        bought = i % 3 != 0 if engagement == "warm" else i % 5 == 0
        rows.append(
            {
                **visit(
                    served["store"],
                    served["ana"] if i % 2 else served["ben"],
                    engagement,
                    "purchased" if bought else "no_purchase",
                    1 + i % 4 if bought else None,
                    1500 + 10 * i if bought else None,
                    reason_id=reasons[i % 5],
                    recommended=i % 3 == 1,
                    no_sale_reason_id=None if bought else 7 + i % 5,
                ),
                # Store hours, 9:00–19:00, every day of six weeks.
                "at": now
                - timedelta(days=from_days_ago + i % 42, hours=3 - (i * 7) % 11, minutes=i % 60),
            }
        )
    insert(served["storage"], rows)
