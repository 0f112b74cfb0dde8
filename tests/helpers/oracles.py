"""Independent answers the tests hold cxlog to: Wilson and Newcombe written
out from the paper (not cxlog.numbers.metrics), and a plain-Python recount of the
rollups from the raw visits."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from cxlog.numbers.metrics import Counts

ENGAGEMENTS = ("warm", "neutral", "missed")
Z = 1.959963984540054


def wilson_by_hand(x: int, n: int) -> tuple[float, float]:
    """Newcombe (1998) eq. for the score interval: (2np + z² ± z√(z² + 4npq)) / 2(n + z²)."""
    p, q = x / n, 1 - x / n
    root = Z * math.sqrt(Z * Z + 4 * n * p * q)
    return (2 * n * p + Z * Z - root) / (2 * (n + Z * Z)), (2 * n * p + Z * Z + root) / (
        2 * (n + Z * Z)
    )


def newcombe_by_hand(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Method 10 of Newcombe (1998) for p1 − p2."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_by_hand(x1, n1)
    l2, u2 = wilson_by_hand(x2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt(
        (u1 - p1) ** 2 + (p2 - l2) ** 2
    )


def half_up(value: float) -> str:
    return f"{math.floor(value + 0.5):,}"


def recount(storage, store_id: int, first: date, last: date, by: tuple[str, ...]) -> dict:
    """The oracle: every non-voided visit of the store whose local start day is
    in [first, last], summed per group as docs/product.md defines the numbers."""
    with storage.read() as db:
        zone = ZoneInfo(
            db.execute("SELECT timezone FROM stores WHERE id = ?", [store_id]).fetchone()[0]
        )
        learned = dict(db.execute("SELECT id, learned FROM reasons").fetchall())
        rows = list(
            db.query("SELECT * FROM visits WHERE store_id = ? AND voided_at IS NULL", [store_id])
        )
    out: dict = defaultdict(lambda: [0] * 7)
    for v in rows:
        started = datetime.strptime(v["started_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        local = started.astimezone(zone)
        if not first <= local.date() <= last:
            continue
        warm = v["first_engagement"] == "warm"
        depth = warm + bool(v["reason_id"] and learned[v["reason_id"]]) + bool(v["recommended"])
        keys = {
            "first_engagement": ENGAGEMENTS.index(v["first_engagement"]),
            "connection_depth": depth,
            "reason": v["reason_id"] or 0,
            "no_sale_reason": v["no_sale_reason_id"] or 0,
            "associate": v["associate_id"],
            "local_hour": local.hour,
            "weekday": local.weekday(),
            "store": store_id,
        }
        bought = v["outcome"] == "purchased"
        priced = bought and v["amount_cents"] is not None
        sums = out[tuple(keys[b] for b in by)]
        for i, value in enumerate(
            (
                1,
                warm,
                v["outcome"] is not None,
                bought,
                v["units"] if bought else 0,
                v["amount_cents"] if priced else 0,
                priced,
            )
        ):
            sums[i] += int(value)
    return {k: Counts(*v) for k, v in out.items()}


GROUPINGS = (
    (),
    ("first_engagement",),
    ("first_engagement", "connection_depth"),
    ("connection_depth",),
    ("reason",),
    ("no_sale_reason",),
    ("associate",),
    ("local_hour",),
    ("weekday", "local_hour"),
)
