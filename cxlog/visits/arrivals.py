"""Customers waiting for their first moment (issue #30: time to greet).

A store with time to greet on has a "Customer in" button on the pad: each
tap is an arrival (an id the device chose, the moment, who tapped; nothing
about the customer). An arrival waits until

- a Warm / Neutral / Missed tap greets it: the visit keeps the arrival's
  time and its whole seconds to greet (``visits.create_visit``);
- someone taps "Left before greeting": a visit is stored as a missed first
  engagement with no purchase, started and closed at that tap;
- nobody acted on it for the store's limit (30 minutes by default): the same
  visit is stored, started and closed at arrival + limit, by "system", and
  its audit row says so (``close_overdue``, run by the boards' reads).

Undo works as for every tap: an arrival undone within 30 seconds is removed;
an undone greeting or "left" voids its visit and the arrival waits again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cxlog.calendar import localtimes
from cxlog.core import actors, model
from cxlog.core.errors import ConflictError, NotFoundError, ValidationError
from cxlog.core.model import MISSED, NO_PURCHASE, to_utc_text, utc_now
from cxlog.language import formats
from cxlog.language.words import _, n_
from cxlog.numbers import derived
from cxlog.storage import settings
from cxlog.storage.db import Storage, audit
from cxlog.storage.engine import Database
from cxlog.visits import visits
from cxlog.visits.waiting import WAITING, link

MAXWAITING = 50
SYSTEM = "system"


def _rules(db: Database, store_id: int) -> settings.GreetRules:
    return settings.greet_rules_in(db, [store_id])[store_id]


def note(
    storage: Storage,
    store_id: int,
    arrival_id: str,
    associate_id: int,
    *,
    device_id: str | None,
    tap: visits.Tapped,
    double_tap: timedelta,
) -> dict:
    """Store an arrival (a replayed id changes nothing). Refused while the
    store has time to greet off, or as the second touch of a double tap (a
    second arrival from the device within ``double_tap``)."""
    arrival_id = model.visit_id(arrival_id)
    with storage.write() as db:
        if not _rules(db, store_id).on:
            raise ConflictError(_("Time to greet is off in this store; the arrival was not saved."))
        known = db.execute(
            "SELECT 1 FROM arrivals WHERE store_id = ? AND id = ?", [store_id, arrival_id]
        ).fetchone()
        if known is None:
            _refuse_double(db, store_id, device_id, tap.at, double_tap)
            count = db.execute(
                f"SELECT count(*) FROM arrivals WHERE store_id = ? AND {WAITING}", [store_id]
            ).fetchone()[0]
            if count >= MAXWAITING:
                raise ConflictError(
                    n_(
                        "{n} customer is already waiting; greet or close one first.",
                        "{n} customers are already waiting; greet or close some first.",
                        count,
                    ).format(n=formats.number(count))
                )
            stamp = to_utc_text(tap.at)
            db.execute(
                "INSERT INTO arrivals (store_id, id, arrived_at, associate_id, device_id,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [store_id, arrival_id, stamp, associate_id, device_id, stamp],
            )
            audit(
                db,
                actors.associate(associate_id),
                "arrive",
                "arrival",
                arrival_id,
                after={"arrived_at": stamp},
                store_id=store_id,
                **tap.audit_times(),
            )
        return tap.done(db, {})


def _refuse_double(
    db: Database, store_id: int, device_id: str | None, at: datetime, window: timedelta
) -> None:
    """Two arrivals from one device within the double-tap window (the pad's
    own rule too) are one double tap, as for the engagement buttons."""
    if device_id is None:
        return
    near = db.execute(
        "SELECT 1 FROM arrivals WHERE store_id = ? AND device_id = ? AND arrived_at > ?"
        " AND arrived_at < ? AND removed_at IS NULL",
        [store_id, device_id, to_utc_text(at - window), to_utc_text(at + window)],
    ).fetchone()
    if near is not None:
        raise ConflictError(
            _(
                "Two arrivals within half a second on this device count as one double tap;"
                " for a second customer, tap again."
            )
        )


def _left_visit(
    db: Database,
    store_id: int,
    arrival: dict,
    visit_id: str,
    associate_id: int,
    at: datetime,
    actor: str,
    audit_extra: dict,
    times: dict,
) -> None:
    zone = db.execute("SELECT timezone FROM stores WHERE id = ?", [store_id]).fetchone()[0]
    moment = to_utc_text(max(at, model.from_utc_text(arrival["arrived_at"])))
    local = localtimes.local_text(moment, zone)
    closer = actors.associate_id(actor)
    db.execute(
        "INSERT INTO visits (id, store_id, associate_id, started_at, started_local,"
        " first_engagement, outcome, closed_at, closed_local, closed_by, arrived_at,"
        " arrived_local, left_before_greeting, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
        [
            visit_id,
            store_id,
            associate_id,
            moment,
            local,
            MISSED,
            NO_PURCHASE,
            moment,
            local,
            closer,
            arrival["arrived_at"],
            localtimes.local_text(arrival["arrived_at"], zone),
            moment,
        ],
    )
    derived.apply(db, None, visits._stored_row(db, visit_id), zone)
    link(db, store_id, arrival["id"], visit_id, model.from_utc_text(moment))
    audit(
        db,
        actor,
        "create",
        "visit",
        visit_id,
        after={
            "first_engagement": MISSED,
            "store_id": store_id,
            "outcome": NO_PURCHASE,
            "left_before_greeting": 1,
            "arrival": arrival["id"],
            **audit_extra,
        },
        store_id=store_id,
        **times,
    )


def left(
    storage: Storage,
    store_id: int,
    arrival_id: str,
    visit_id: str,
    associate_id: int,
    *,
    tap: visits.Tapped,
) -> dict:
    """ "Left before greeting": the waiting arrival becomes a missed visit with
    no purchase. A replay changes nothing; an arrival greeted or closed
    elsewhere gets a sentence."""
    visit_id = model.visit_id(visit_id)
    with storage.write() as db:
        rows = list(
            db.query(
                "SELECT w.id, w.arrived_at, w.visit_id, w.removed_at, a.name AS by_name"
                " FROM arrivals w LEFT JOIN visits v ON v.id = w.visit_id"
                " LEFT JOIN associates a ON a.id = v.associate_id"
                " WHERE w.store_id = ? AND w.id = ?",
                [store_id, arrival_id],
            )
        )
        if not rows:
            raise NotFoundError(_("That customer's arrival is not known here; reload the page."))
        arrival = rows[0]
        if arrival["visit_id"] == visit_id:
            return tap.done(db, visits.row_in(db, visit_id))
        if arrival["removed_at"] is not None:
            raise ConflictError(_("This arrival was undone; nothing to close."))
        if arrival["visit_id"] is not None:
            raise ConflictError(
                _("{who} greeted this customer already.").format(
                    who=arrival["by_name"] or _("Someone")
                )
            )
        if db.execute("SELECT 1 FROM visits WHERE id = ?", [visit_id]).fetchone():
            raise ValidationError(_("That visit id is taken; update the app on this device."))
        visits._active_associate(db, associate_id, store_id)
        _left_visit(
            db,
            store_id,
            arrival,
            visit_id,
            associate_id,
            tap.at,
            actors.associate(associate_id),
            {},
            tap.audit_times(),
        )
        return tap.done(db, visits.row_in(db, visit_id))


def undo(
    storage: Storage, store_id: int, arrival_id: str, actor: str, *, tap: visits.Tapped
) -> dict:
    """Take back one's own arrival tap within the undo window (a mis-tap)."""
    with storage.write() as db:
        rows = list(
            db.query(
                "SELECT id, visit_id, removed_at FROM arrivals WHERE store_id = ? AND id = ?",
                [store_id, arrival_id],
            )
        )
        if not rows:
            raise NotFoundError(_("That customer's arrival is not known here; reload the page."))
        arrival = rows[0]
        if arrival["removed_at"] is not None:
            return tap.done(db, {})
        if arrival["visit_id"] is not None:
            raise ConflictError(
                _("This customer was greeted since; undo the visit from its card instead.")
            )
        last = db.execute(
            "SELECT id FROM audit WHERE actor = ? AND entity = 'arrival' AND entity_id = ?"
            " AND action = 'arrive' AND undone = 0 AND at >= ?",
            [actor, arrival_id, to_utc_text(tap.received_at - visits.UNDO_WINDOW)],
        ).fetchone()
        if last is None:
            raise ConflictError(
                _(
                    "There is nothing to undo (only the last 30 seconds can be);"
                    " a manager can correct or void the visit."
                )
            )
        stamp = to_utc_text(utc_now())
        db.execute(
            "UPDATE arrivals SET removed_at = ?, updated_at = ? WHERE store_id = ? AND id = ?",
            [stamp, stamp, store_id, arrival_id],
        )
        db.execute("UPDATE audit SET undone = 1 WHERE id = ?", [last[0]])
        audit(
            db,
            actor,
            "undo",
            "arrival",
            arrival_id,
            before={"removed_at": None},
            after={"removed_at": stamp},
            store_id=store_id,
            **tap.audit_times(),
        )
        return tap.done(db, {})


def overdue(rules: settings.GreetRules, oldest: str | None, now: datetime | None) -> bool:
    """Whether the longest-waiting arrival (its stored time) waited past the
    store's limit."""
    cut = to_utc_text((now or utc_now()) - timedelta(minutes=rules.limit))
    return oldest is not None and oldest < cut


def close_overdue(storage: Storage, store_id: int, now: datetime | None = None) -> int:
    """Close every arrival that waited past the store's limit as "left before
    greeting", at arrival + limit, by "system"; returns how many."""
    now = now or utc_now()
    with storage.read() as db:
        rules = _rules(db, store_id)
        oldest = db.execute(
            f"SELECT min(arrived_at) FROM arrivals WHERE store_id = ? AND {WAITING}",
            [store_id],
        ).fetchone()[0]
    if not overdue(rules, oldest, now):
        return 0
    cut = to_utc_text(now - timedelta(minutes=rules.limit))
    closed = 0
    with storage.store_writes(store_id), storage.write() as db:
        late = list(
            db.query(
                f"SELECT id, arrived_at, associate_id FROM arrivals WHERE store_id = ?"
                f" AND {WAITING} AND arrived_at < ? ORDER BY arrived_at, id",
                [store_id, cut],
            )
        )
        for arrival in late:
            at = model.from_utc_text(arrival["arrived_at"]) + timedelta(minutes=rules.limit)
            _left_visit(
                db,
                store_id,
                arrival,
                f"{arrival['id'][:56]}-closed",
                arrival["associate_id"],
                at,
                SYSTEM,
                {"closed_after_minutes": rules.limit},
                {},
            )
            closed += 1
    return closed


def close_overdue_in(storage: Storage, store_ids: list[int], now: datetime | None = None) -> int:
    """``close_overdue`` for the stores that have someone waiting (one read
    when nobody waits): the Dashboard and the Huddle close what no tablet's
    board read closed overnight before they count yesterday."""
    if not store_ids:
        return 0
    with storage.read() as db:
        marks = ", ".join("?" * len(store_ids))
        waiting = [
            r[0]
            for r in db.execute(
                f"SELECT DISTINCT store_id FROM arrivals WHERE store_id IN ({marks}) AND {WAITING}",
                [int(s) for s in store_ids],
            )
        ]
    return sum(close_overdue(storage, store, now) for store in waiting)
