"""Logging visits: the one-tap writes of the Log page and the manager's fixes.

Every write is idempotent. A visit is created under an id the client chose
when it drew the button, with ON CONFLICT DO NOTHING, so a double tap or a retry after
a reconnect cannot log twice (docs/stack-facts.md: a plain insert wrote 2 rows). A
change that sets what is already stored is a no-op and writes no audit row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cxlog.calendar import localday, localtimes
from cxlog.calendar.localday import start_of_local_day
from cxlog.core import actors, model
from cxlog.core.errors import ConflictError, NotAllowedError, NotFoundError, ValidationError
from cxlog.core.model import (
    ENGAGEMENT_LABELS,
    NO_PURCHASE,
    NO_SALE_REASON,
    PURCHASED,
    REASON,
    entry_name,
    to_utc_text,
    utc_now,
)
from cxlog.language import formats
from cxlog.language.words import N_, _, n_, shown
from cxlog.numbers import derived
from cxlog.storage.db import Storage, audit
from cxlog.storage.engine import Database
from cxlog.stores.catalog import active_reason
from cxlog.visits import waiting

UNDO_WINDOW = timedelta(seconds=30)
# Issue #25: how long after its close an associate may still reopen a visit
# (a mis-tapped outcome is noticed at once; later fixes are a manager's).
REOPEN_WITHIN = timedelta(minutes=10)


@dataclass(frozen=True)
class Tapped:
    """A change that came as a tap from a device's outbox (issue #10).

    ``at`` is when it was tapped on the device (already clock-corrected): the
    visit's moment keeps it. ``received_at`` is when it reached the server.
    Both go into the audit row. ``record`` runs inside the change's own
    transaction with the resulting visit, so the tap's id is stored together
    with its effect: a replay after a crash can never apply it twice.
    """

    at: datetime
    received_at: datetime
    record: Callable[[Database, dict], None] | None = None
    # When the associate's shift began: visits started since are theirs to
    # change even after the store's midnight (associate_may_change).
    shift_started: datetime | None = None

    def audit_times(self) -> dict:
        return {"device_at": to_utc_text(self.at), "received_at": to_utc_text(self.received_at)}

    def done(self, db: Database, visit: dict) -> dict:
        if self.record is not None:
            self.record(db, visit)
        return visit


def associate_may_change(visit: dict, timezone: str, tap: Tapped, action: str) -> None:
    """What an associate's tap may change (issue #25), the one rule for every
    write an associate reaches: a visit started in the store's local day of
    the tap, or during the associate's current shift; a reopen within
    REOPEN_WITHIN of the close. Anything older is a manager's correction, on
    the Visits page and audited. Raises NotAllowedError with a sentence."""
    started = model.from_utc_text(visit["started_at"])
    since = start_of_local_day(tap.at, timezone)
    if tap.shift_started is not None:
        since = min(since, tap.shift_started)
    if started < since:
        raise NotAllowedError(
            _("This visit is from an earlier day; a manager can correct it on the Visits page.")
        )
    if action == "reopen" and visit["closed_at"] is not None:
        closed = model.from_utc_text(visit["closed_at"])
        if tap.at - closed > REOPEN_WITHIN:
            minutes = int(REOPEN_WITHIN.total_seconds() // 60)
            raise NotAllowedError(
                n_(
                    "This visit closed more than {n} minute ago; a manager can reopen it"
                    " on the Visits page.",
                    "This visit closed more than {n} minutes ago; a manager can reopen it"
                    " on the Visits page.",
                    minutes,
                ).format(n=formats.number(minutes))
            )


def _audit_times(tap: Tapped | None) -> dict:
    return tap.audit_times() if tap else {}


# Fields a manager may correct; timestamps and ids are not among them.
CORRECTABLE = (
    "associate_id",
    "first_engagement",
    "reason_id",
    "used_name",
    "recommended",
    "outcome",
    "units",
    "amount_cents",
    "no_sale_reason_id",
)

_COLUMNS = """
SELECT v.*, a.name AS associate_name, r.name AS reason_name, r.learned AS reason_learned,
       n.name AS no_sale_reason_name, c.name AS closed_by_name
"""
_JOINS = """
JOIN associates a ON a.id = v.associate_id
LEFT JOIN reasons r ON r.id = v.reason_id
LEFT JOIN reasons n ON n.id = v.no_sale_reason_id
LEFT JOIN associates c ON c.id = v.closed_by
"""
_SELECT = _COLUMNS + " FROM visits v " + _JOINS
# Without ANALYZE statistics SQLite picks (store_id, started_at) and walks a
# store's whole history (87 ms at 100k visits); the partial index holds only
# the open ones (<1 ms).
_SELECT_OPEN = _COLUMNS + " FROM visits v INDEXED BY visits_open " + _JOINS


def row_in(db: Database, visit_id: str) -> dict:
    """A visit as the pages and the pad see it (names joined, connection
    depth added), inside the caller's transaction."""
    rows = list(db.query(_SELECT + " WHERE v.id = ?", [visit_id]))
    if not rows:
        raise NotFoundError(_("That visit no longer exists; reload the page."))
    return _with_depth(rows[0])


def _with_depth(row: dict) -> dict:
    row["connection_depth"] = model.connection_depth(
        row["first_engagement"], bool(row["reason_learned"]), bool(row["recommended"])
    )
    return row


def _active_associate(db: Database, associate_id: int, store_id: int | None = None) -> dict:
    rows = list(
        db.query("SELECT id, store_id, name, active FROM associates WHERE id = ?", [associate_id])
    )
    if not rows:
        raise ValidationError(_("That associate does not exist; pick your name again."))
    associate = rows[0]
    if not associate["active"]:
        raise ValidationError(
            _("{name} has been deactivated and cannot log visits.").format(name=associate["name"])
        )
    if store_id is not None and associate["store_id"] != store_id:
        raise ValidationError(
            _("{name} does not work at this store.").format(name=associate["name"])
        )
    return associate


def create_visit(
    storage: Storage,
    visit_id: str,
    store_id: int,
    associate_id: int,
    first_engagement: str,
    *,
    at: datetime | None = None,
    tap: Tapped | None = None,
    max_open: int | None = None,
    greets: bool = False,
    arrival: str | None = None,
) -> tuple[dict, bool]:
    """Start a visit. Returns the stored visit and whether this call created it.

    With ``max_open``, a store that already has that many open visits refuses
    a new one (issue #11: hundreds of open visits slowed every tablet). With
    ``greets`` (issue #30), the visit greets a waiting arrival (``arrival``
    if it still waits, else the longest-waiting one) and keeps its arrival
    time and seconds to greet.
    """
    visit_id = model.visit_id(visit_id)
    first_engagement = model.first_engagement(first_engagement)
    started_at = to_utc_text(tap.at if tap else at or utc_now())
    with storage.write() as db:
        _active_associate(db, associate_id, store_id)
        if max_open is not None:
            known = db.execute("SELECT 1 FROM visits WHERE id = ?", [visit_id]).fetchone()
            count = db.execute(
                "SELECT count(*) FROM visits INDEXED BY visits_open"
                " WHERE store_id = ? AND outcome IS NULL AND voided_at IS NULL",
                [store_id],
            ).fetchone()[0]
            if known is None and count >= max_open:
                raise ConflictError(
                    n_(
                        "This store already has {n} open visit; close it before starting another.",
                        "This store already has {n} open visits; close some before"
                        " starting another.",
                        count,
                    ).format(n=formats.number(count))
                )
        zone = _timezone(db, store_id)
        greeted = None
        if (
            greets
            and db.execute("SELECT 1 FROM visits WHERE id = ?", [visit_id]).fetchone() is None
        ):
            greeted = waiting.take(db, store_id, arrival, model.from_utc_text(started_at))
        cursor = db.execute(
            "INSERT INTO visits (id, store_id, associate_id, started_at,"
            " started_local, first_engagement, updated_at, arrived_at, arrived_local,"
            " greet_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                visit_id,
                store_id,
                associate_id,
                started_at,
                localtimes.local_text(started_at, zone),
                first_engagement,
                started_at,
                greeted and greeted["arrived_at"],
                greeted and localtimes.local_text(greeted["arrived_at"], zone),
                greeted
                and waiting.seconds_between(greeted["arrived_at"], model.from_utc_text(started_at)),
            ],
        )
        created = cursor.rowcount == 1
        if created and greeted:
            waiting.link(db, store_id, greeted["id"], visit_id, utc_now())
        if created:
            derived.apply(db, None, _stored_row(db, visit_id), zone)
            audit(
                db,
                actors.associate(associate_id),
                "create",
                "visit",
                visit_id,
                after={"first_engagement": first_engagement, "store_id": store_id},
                store_id=store_id,
                **_audit_times(tap),
            )
        visit = row_in(db, visit_id)
        if tap:
            tap.done(db, visit)
        return visit, created


def get_visit(storage: Storage, visit_id: str) -> dict:
    with storage.read() as db:
        return row_in(db, visit_id)


def open_visits(storage: Storage, store_id: int) -> list[dict]:
    """Open visits of a store, newest first: what every device's Log page shows."""
    with storage.read() as db:
        rows = db.query(
            _SELECT_OPEN + " WHERE v.store_id = ? AND v.outcome IS NULL AND v.voided_at IS NULL"
            " ORDER BY v.started_at DESC, v.id",
            [store_id],
        )
        return [_with_depth(row) for row in rows]


def visits_between(
    storage: Storage,
    store_id: int,
    start: datetime,
    end: datetime,
    *,
    associate_id: int | None = None,
    include_voided: bool = True,
) -> list[dict]:
    """Visits started in [start, end), newest first (the Today and Visits lists)."""
    sql = _SELECT + " WHERE v.store_id = ? AND v.started_at >= ? AND v.started_at < ?"
    params: list = [store_id, to_utc_text(start), to_utc_text(end)]
    if associate_id is not None:
        sql += " AND v.associate_id = ?"
        params.append(associate_id)
    if not include_voided:
        sql += " AND v.voided_at IS NULL"
    with storage.read() as db:
        return [_with_depth(row) for row in db.query(sql + " ORDER BY v.started_at DESC", params)]


def closed_since(
    storage: Storage, store_id: int, start: datetime, *, limit: int
) -> tuple[list[dict], int]:
    """The newest ``limit`` closed, not voided visits started since ``start``
    (the pad's Today list), and how many there are: the board reads a bounded
    number of rows whatever a day holds (issue #25: a flood of visits made
    every tablet's board read grow ~6 ms per 1,000)."""
    where = (
        " WHERE v.store_id = ? AND v.started_at >= ? AND v.outcome IS NOT NULL"
        " AND v.voided_at IS NULL"
    )
    params = [store_id, to_utc_text(start)]
    with storage.read() as db:
        rows = [
            _with_depth(row)
            for row in db.query(
                _SELECT + where + " ORDER BY v.started_at DESC LIMIT ?", [*params, limit]
            )
        ]
        count = db.execute("SELECT count(*) FROM visits v" + where, params).fetchone()[0]
    return rows, count


def _check_consistent(visit: dict) -> None:
    """The rules an outcome must follow, in words (the schema's CHECKs back them)."""
    outcome = visit["outcome"]
    if outcome is None:
        if visit["units"] is not None or visit["no_sale_reason_id"] is not None:
            raise ValidationError(_("An open visit has no units or no-sale reason yet."))
        return
    model.outcome(outcome)
    if outcome == PURCHASED:
        model.units(visit["units"])
        model.amount_cents(visit["amount_cents"])
        if visit["no_sale_reason_id"] is not None:
            raise ValidationError(_("A purchase has no no-sale reason."))
    else:
        if visit["units"] is not None:
            raise ValidationError(_("Units are recorded only on a purchase."))
        if visit["amount_cents"] is not None:
            raise ValidationError(_("A sale amount is recorded only on a purchase."))


def _validate_field(db: Database, field: str, value: object, before: dict) -> object:
    if field == "first_engagement":
        return model.first_engagement(value)
    if field in ("used_name", "recommended"):
        if not isinstance(value, bool | int) or value not in (0, 1):
            raise ValidationError(_("A connection marker is either on or off."))
        return int(value)
    if field == "outcome":
        return None if value is None else model.outcome(value)
    if field == "units":
        return None if value is None else model.units(value)
    if field == "amount_cents":
        return model.amount_cents(value)
    if field in ("reason_id", "no_sale_reason_id"):
        # A retired entry may stay on an old visit, but no new tap can pick it.
        if value is None or value == before[field]:
            return value
        kind = REASON if field == "reason_id" else NO_SALE_REASON
        return active_reason(db, value, kind, before["store_id"])["id"]
    if field == "associate_id":
        if value == before[field]:
            return value
        return _active_associate(db, value, before["store_id"])["id"]
    raise ValidationError(_("{field} cannot be changed.").format(field=repr(field)))


def _change(
    storage: Storage,
    visit_id: str,
    changes: dict,
    *,
    actor: str,
    action: str,
    tap: Tapped | None = None,
) -> dict:
    """Validate and apply changes to one visit, audited, in one transaction."""
    visit_id = model.visit_id(visit_id)
    with storage.write() as db:
        before = row_in(db, visit_id)
        if before["voided_at"] is not None:
            raise ConflictError(_("This visit was removed (voided); it can no longer be changed."))
        if tap is not None:  # a tap comes from an associate's device
            associate_may_change(before, _timezone(db, before["store_id"]), tap, action)
        if tap is not None and action == "outcome" and before["outcome"] is not None:
            # Only taps from devices race each other; a direct call (a test,
            # the CLI) may still change the outcome as before.
            _first_close_stands(before, changes)
        clean = {k: _validate_field(db, k, v, before) for k, v in changes.items()}
        merged = {**before, **clean}
        if merged["outcome"] is None:
            merged.update(units=None, amount_cents=None, no_sale_reason_id=None)
        _check_consistent(merged)
        diff = {k: merged[k] for k in (*CORRECTABLE,) if merged[k] != before[k]}
        if not diff:
            # A repeated tap: nothing to do, nothing to audit.
            return tap.done(db, before) if tap else before
        now = to_utc_text(utc_now())
        if "outcome" in diff:
            # The close keeps the moment it was tapped on the device, never
            # before the visit's start (two devices' clocks differ a little).
            start = model.from_utc_text(before["started_at"])
            closed_at = to_utc_text(max(tap.at, start)) if tap else now
            diff["closed_at"] = None if merged["outcome"] is None else closed_at
            diff["closed_by"] = None if merged["outcome"] is None else actors.associate_id(actor)
        _write(db, visit_id, diff, now)
        audit(
            db,
            actor,
            action,
            "visit",
            visit_id,
            before={k: before[k] for k in diff},
            after=diff,
            store_id=before["store_id"],
            **_audit_times(tap),
        )
        after = row_in(db, visit_id)
        return tap.done(db, after) if tap else after


def _first_close_stands(before: dict, changes: dict) -> None:
    """Two devices closed the same visit: the first close stands, and the
    second learns who closed it and how. Adding the optional no-sale reason or
    sale amount to the same outcome is not a second close."""
    same = changes["outcome"] == before["outcome"] and (
        before["outcome"] != PURCHASED or changes["units"] == before["units"]
    )
    if same:
        return
    who = before.get("closed_by_name")
    if before["outcome"] == PURCHASED:
        units = before["units"]
        if who:
            message = n_(
                "{who} closed this visit first (purchase, {n} unit); undo or reopen it to"
                " change it.",
                "{who} closed this visit first (purchase, {n} units); undo or reopen it to"
                " change it.",
                units,
            )
        else:
            message = n_(
                "Someone closed this visit first (purchase, {n} unit); undo or reopen it to"
                " change it.",
                "Someone closed this visit first (purchase, {n} units); undo or reopen it to"
                " change it.",
                units,
            )
        raise ConflictError(message.format(who=who, n=formats.number(units)))
    if who:
        raise ConflictError(
            _(
                "{who} closed this visit first (no purchase); undo or reopen it to change it."
            ).format(who=who)
        )
    raise ConflictError(
        _("Someone closed this visit first (no purchase); undo or reopen it to change it.")
    )


def _stored_row(db: Database, visit_id: str) -> dict | None:
    """The visits row as stored: what the derived tables move from and to."""
    cursor = db.execute("SELECT * FROM visits WHERE id = ?", [visit_id])
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def _timezone(db: Database, store_id: int) -> str:
    row = db.execute("SELECT timezone FROM stores WHERE id = ?", [store_id]).fetchone()
    if row is None:
        raise NotFoundError(_("That store does not exist."))
    return row[0]


def _write(db: Database, visit_id: str, fields: dict, now: str) -> None:
    before = _stored_row(db, visit_id)
    zone = _timezone(db, before["store_id"])
    if "closed_at" in fields:
        # The close's local text goes with it (cxlog/calendar/localtimes.py).
        fields = {**fields, "closed_local": localtimes.local_text(fields["closed_at"], zone)}
    sets = ", ".join(f"{column} = ?" for column in fields)
    db.execute(
        f"UPDATE visits SET {sets}, updated_at = ? WHERE id = ?",
        [*fields.values(), now, visit_id],
    )
    # Issue #12: the rollups (and every other derived table, #26) move from
    # the old row to the new one in the same transaction, whatever changed.
    derived.apply(db, before, _stored_row(db, visit_id), zone)


def set_reason(
    storage: Storage,
    visit_id: str,
    reason_id: int | None,
    *,
    actor: str,
    tap: Tapped | None = None,
) -> dict:
    return _change(
        storage, visit_id, {"reason_id": reason_id}, actor=actor, action="reason", tap=tap
    )


def set_marker(
    storage: Storage,
    visit_id: str,
    marker: str,
    on: bool,
    *,
    actor: str,
    tap: Tapped | None = None,
) -> dict:
    if marker not in model.MARKERS:
        raise ValidationError(_("Unknown connection marker {marker}.").format(marker=repr(marker)))
    return _change(storage, visit_id, {marker: int(on)}, actor=actor, action="marker", tap=tap)


def record_purchase(
    storage: Storage,
    visit_id: str,
    units: int,
    *,
    actor: str,
    amount_cents: int | None = None,
    tap: Tapped | None = None,
) -> dict:
    changes = {
        "outcome": PURCHASED,
        "units": units,
        "amount_cents": amount_cents,
        "no_sale_reason_id": None,
    }
    return _change(storage, visit_id, changes, actor=actor, action="outcome", tap=tap)


def record_no_purchase(
    storage: Storage,
    visit_id: str,
    *,
    actor: str,
    no_sale_reason_id: int | None = None,
    tap: Tapped | None = None,
) -> dict:
    changes = {
        "outcome": NO_PURCHASE,
        "units": None,
        "amount_cents": None,
        "no_sale_reason_id": no_sale_reason_id,
    }
    return _change(storage, visit_id, changes, actor=actor, action="outcome", tap=tap)


def reopen_visit(storage: Storage, visit_id: str, *, actor: str, tap: Tapped | None = None) -> dict:
    """Take a closed visit back to open (an outcome tapped by mistake)."""
    changes = {"outcome": None, "units": None, "amount_cents": None, "no_sale_reason_id": None}
    return _change(storage, visit_id, changes, actor=actor, action="reopen", tap=tap)


def correct_visit(storage: Storage, visit_id: str, *, actor: str, **fields: object) -> dict:
    """A manager's correction of any correctable field, audited."""
    unknown = set(fields) - set(CORRECTABLE)
    if unknown:
        raise ValidationError(
            _("These fields cannot be corrected: {fields}.").format(
                fields=", ".join(sorted(unknown))
            )
        )
    return _change(storage, visit_id, fields, actor=actor, action="correct")


def void_visit(storage: Storage, visit_id: str, reason: str, *, actor: str) -> dict:
    """Mark a visit as a mistake: kept for the record, never counted."""
    visit_id = model.visit_id(visit_id)
    reason = model.clean_text(reason, "reason for voiding", model.MAX_NOTE_LENGTH)
    with storage.write() as db:
        before = row_in(db, visit_id)
        if before["voided_at"] is not None:
            return before
        now = to_utc_text(utc_now())
        _write(db, visit_id, {"voided_at": now, "void_reason": reason}, now)
        audit(
            db,
            actor,
            "void",
            "visit",
            visit_id,
            before={"voided_at": None, "void_reason": None},
            after={"voided_at": now, "void_reason": reason},
            store_id=before["store_id"],
        )
        return row_in(db, visit_id)


def undoable(
    storage: Storage, actor: str, *, visit_id: str | None = None, now: datetime | None = None
) -> dict | None:
    """The actor's last action (on one visit, if given) that Undo can still take back."""
    with storage.read() as db:
        return _last_action(db, actor, visit_id, now or utc_now())


def _last_action(db: Database, actor: str, visit_id: str | None, now: datetime) -> dict | None:
    sql = (
        "SELECT id, action, entity_id, before, after, at FROM audit"
        " WHERE actor = ? AND entity = 'visit' AND action != 'undo' AND undone = 0"
        " AND at >= ?"
    )
    params: list = [actor, to_utc_text(now - UNDO_WINDOW)]
    if visit_id is not None:
        sql += " AND entity_id = ?"
        params.append(visit_id)
    rows = list(db.query(sql + " ORDER BY id DESC LIMIT 1", params))
    return rows[0] if rows else None


def undo_last(
    storage: Storage,
    actor: str,
    *,
    visit_id: str | None = None,
    now: datetime | None = None,
    tap: Tapped | None = None,
) -> dict:
    """Take back the actor's last action (on one visit, if given), within 30 seconds.

    Undoing a start voids the visit (a mis-tap is kept, never counted); any
    other action restores the fields it changed, unless someone has changed
    them since. Undo again steps further back within the 30 seconds.
    """
    with storage.write() as db:
        last = _last_action(db, actor, visit_id, now or utc_now())
        if last is None:
            raise ConflictError(
                _(
                    "There is nothing to undo (only the last 30 seconds can be);"
                    " a manager can correct or void the visit."
                )
            )
        visit_id = last["entity_id"]
        current = row_in(db, visit_id)
        stamp = to_utc_text(utc_now())
        if last["action"] == "create":
            restore = {"voided_at": stamp, "void_reason": "Undone right after logging"}
            # Issue #30: the customer it greeted (or closed) waits again.
            waiting.release(db, visit_id, utc_now())
        else:
            after, restore = json.loads(last["after"]), json.loads(last["before"])
            if current["voided_at"] is not None or any(current[k] != v for k, v in after.items()):
                raise ConflictError(
                    _("Someone changed this visit since; correct it from the Today list instead.")
                )
        _write(db, visit_id, restore, stamp)
        db.execute("UPDATE audit SET undone = 1 WHERE id = ?", [last["id"]])
        audit(
            db,
            actor,
            "undo",
            "visit",
            visit_id,
            before={k: current[k] for k in restore},
            after=restore,
            store_id=current["store_id"],
            **_audit_times(tap),
        )
        visit = row_in(db, visit_id)
        return tap.done(db, visit) if tap else visit


# --- the Visits page's rules (issue #26 moved them out of the page) -------------------

# Shown through ``_`` (the keys are the stored values).
OUTCOME_LABELS = {None: N_("Open"), PURCHASED: N_("Purchased"), NO_PURCHASE: N_("No purchase")}


def visit_line(visit: dict, timezone: str) -> str:
    """One visit as the Visits page lists it: "14:05 · Warm · Gift · Purchased 2 ·
    Ana", its start on the store's clock."""
    started = localday.clock_text(model.from_utc_text(visit["started_at"]), timezone)
    if visit["outcome"] == PURCHASED:
        outcome = _("Purchased {n}").format(n=formats.number(visit["units"]))
    else:
        outcome = shown(OUTCOME_LABELS[visit["outcome"]])
    engagement = visit["first_engagement"]
    parts = [
        started,
        _(ENGAGEMENT_LABELS[engagement])
        if engagement in ENGAGEMENT_LABELS
        else engagement.capitalize(),
        entry_name(visit["reason_name"]) or _("no reason"),
        outcome,
        visit["associate_name"],
    ]
    if visit["voided_at"]:
        parts.append(_("VOIDED"))
    return " · ".join(parts)


def outcome_fields(
    outcome: str | None, units: object, amount: object, no_sale_reason_id: int | None
) -> dict:
    """A correction's outcome fields: units and an amount only with a purchase,
    a no-sale reason only without one, nothing else for an open visit."""
    purchased = outcome == PURCHASED
    return {
        "outcome": outcome,
        "units": int(units) if purchased else None,
        "amount_cents": model.parse_amount(amount) if purchased else None,
        "no_sale_reason_id": no_sale_reason_id if outcome == NO_PURCHASE else None,
    }
