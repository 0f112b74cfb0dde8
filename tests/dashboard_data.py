"""A fixed set of visits for the dashboard tests, with answers worked out by hand (#5).

Two stores: the shop (Europe/London, Ana and Ben) and Harbour (America/New_York,
Cy). "Now" is Wednesday 18 November 2026, 10:30 UTC; the default period, the
last 30 days, is 20 Oct – 18 Nov in each store's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cxlog import catalog, visits

NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)

# (name, store, associate, engagement, reason, recommended, outcome, units,
#  amount_cents, no-sale reason, started (UTC), voided)
TABLE = [
    ("A1", "shop", "ana", "warm", "Gift", True, "purchased", 2, 1000, None, (11, 16, 14, 20), 0),
    ("A2", "shop", "ana", "warm", "Not learned", 0, "purchased", 3, None, None, (11, 16, 14, 40), 0),  # noqa: E501
    ("A3", "shop", "ben", "warm", None, True, "purchased", 1, 3000, None, (11, 17, 9, 5), 0),
    ("A4", "shop", "ben", "warm", "Browsing", 0, "no_purchase", None, None, "Price", (11, 17, 9, 10), 0),  # noqa: E501
    ("A5", "shop", "ana", "warm", None, 0, None, None, None, None, (11, 18, 9, 0), 0),
    ("N1", "shop", "ben", "neutral", "Gift", True, "purchased", 4, 500, None, (11, 15, 16, 0), 0),
    ("N2", "shop", "ana", "neutral", None, 0, "no_purchase", None, None, None, (11, 15, 16, 30), 0),
    ("M1", "shop", "ben", "missed", "Not learned", 0, "no_purchase", None, None, "Just looking", (11, 14, 11, 0), 0),  # noqa: E501
    ("V1", "shop", "ana", "missed", "Gift", True, "purchased", 9, 9999, None, (11, 14, 11, 30), 1),
    # Harbour, New York (UTC-5): Sunday 15 November 23:30 local.
    ("H1", "harbour", "cy", "warm", "Gift", True, "purchased", 5, None, None, (11, 16, 4, 30), 0),
    # The previous period (20 Sep – 19 Oct 10:30 local).
    ("P1", "shop", "ana", "warm", "Gift", 0, "purchased", 2, 2000, None, (10, 10, 12, 0), 0),
    ("P2", "shop", "ben", "neutral", "Browsing", 0, "no_purchase", None, None, None, (10, 12, 12, 0), 0),  # noqa: E501
    # Before the previous period and the trend: never counted.
    ("O1", "shop", "ana", "neutral", "Gift", 0, "purchased", 1, 100, None, (9, 1, 12, 0), 0),
]  # fmt: skip


def seed(storage, shop: dict) -> dict:
    """Write TABLE; returns ids by name (stores, associates, reasons)."""
    harbour = catalog.create_store(storage, "Harbour", "America/New_York")
    ids = {
        "shop": shop["store"],
        "harbour": harbour,
        "ana": shop["ana"],
        "ben": shop["ben"],
        "cy": catalog.add_associate(storage, harbour, "Cy", actor="test"),
        **shop["reasons"],
        **shop["no_sale"],
    }
    for (
        name,
        store,
        who,
        engagement,
        reason,
        rec,
        outcome,
        units,
        amount,
        no_sale,
        when,
        voided,
    ) in TABLE:
        vid = f"visit-{name}"
        month, day, hour, minute = when
        at = datetime(2026, month, day, hour, minute, tzinfo=UTC)
        visits.create_visit(storage, vid, ids[store], ids[who], engagement, at=at)
        actor = f"associate:{ids[who]}"
        if reason:
            visits.set_reason(storage, vid, ids[reason], actor=actor)
        if rec:
            visits.set_marker(storage, vid, "recommended", True, actor=actor)
        if outcome == "purchased":
            visits.record_purchase(storage, vid, units, amount_cents=amount, actor=actor)
        elif outcome == "no_purchase":
            visits.record_no_purchase(
                storage, vid, actor=actor, no_sale_reason_id=ids[no_sale] if no_sale else None
            )
        if voided:
            visits.void_visit(storage, vid, "logged twice", actor="manager")
    return ids
