"""The waiting customers' rows (issue #30), read and moved inside a visit's
own write: cxlog/visits/visits.py greets and releases with these, and
cxlog/visits/arrivals.py stores, closes and undoes arrivals."""

from __future__ import annotations

from datetime import datetime

from cxlog.core import model
from cxlog.core.model import to_utc_text
from cxlog.storage.engine import Database

WAITING = "visit_id IS NULL AND removed_at IS NULL"


def waiting_in(db: Database, store_id: int) -> list[dict]:
    """The store's waiting arrivals, longest-waiting first."""
    return list(
        db.query(
            "SELECT w.id, w.arrived_at, w.associate_id, a.name AS associate_name"
            " FROM arrivals w JOIN associates a ON a.id = w.associate_id"
            f" WHERE w.store_id = ? AND w.{WAITING.replace(' AND ', ' AND w.')}"
            " ORDER BY w.arrived_at, w.id",
            [store_id],
        )
    )


def seconds_between(earlier: str, later: datetime) -> int:
    """Whole seconds from a stored time to a moment, never below 0."""
    return max(0, int((later - model.from_utc_text(earlier)).total_seconds()))


def take(db: Database, store_id: int, wanted: str | None, moment: datetime) -> dict | None:
    """The arrival a greeting at ``moment`` greets, inside the visit's write:
    the one tapped if it still waits, else the longest-waiting one that
    arrived before the greeting; None when nobody waits."""
    rows = list(
        db.query(
            f"SELECT id, arrived_at FROM arrivals WHERE store_id = ? AND {WAITING}"
            " AND arrived_at <= ? ORDER BY arrived_at, id",
            [store_id, to_utc_text(moment)],
        )
    )
    chosen = next((r for r in rows if r["id"] == wanted), rows[0] if rows else None)
    return chosen


def link(db: Database, store_id: int, arrival_id: str, visit_id: str, now: datetime) -> None:
    db.execute(
        "UPDATE arrivals SET visit_id = ?, updated_at = ? WHERE store_id = ? AND id = ?",
        [visit_id, to_utc_text(now), store_id, arrival_id],
    )


def release(db: Database, visit_id: str, now: datetime) -> None:
    """An undone greeting's arrival waits again (in the undo's transaction)."""
    db.execute(
        "UPDATE arrivals SET visit_id = NULL, updated_at = ? WHERE visit_id = ?",
        [to_utc_text(now), visit_id],
    )
