"""Taps from a device's outbox, applied once each and in order (issue #10).

The Log page's pad keeps every tap in an outbox on the device and sends the
outbox as a batch until the server acknowledges it. A batch is checked whole
before anything is applied (shape, tap ids, visits, store), so a bad batch
changes nothing. Then each tap is applied in the order it was tapped, each in
its own transaction through the same ``cxlog.visits.visits`` functions the rest of the
app uses; the tap's id is stored in that same transaction, so a tap id seen
before changes nothing and is answered again from what was stored. A tap that
lost to another device (the visit was closed, voided or reopened elsewhere) is
answered with a sentence for its card; it is not an error of the batch.

Times (the rule, also in the README): every tap carries the device's clock time
when it was tapped (``at``) and the batch carries the device's clock when it
was sent (``sent_at``). The server's receipt time minus ``sent_at`` is the
device's clock offset (plus the network's one-way delay, a few ms). When it is
more than ``CLOCK_TOLERANCE`` either way the device's clock is wrong: each
tap's time is moved by the offset, and the correction is stored with the tap.
Within the tolerance the device's time is kept as tapped. A time later than
the receipt is set to the receipt (no moment happens in the future); a tap
older than ``MAX_TAP_AGE`` is refused with a sentence.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

from cxlog.access import shifts
from cxlog.calendar import localday
from cxlog.coaching import coaching
from cxlog.core import actors, model, routes
from cxlog.core.errors import (
    ConflictError,
    CxlogError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from cxlog.core.model import (
    FIRST_ENGAGEMENTS,
    MARKERS,
    NO_PURCHASE,
    PURCHASED,
    entry_name,
    to_utc_text,
    utc_now,
)
from cxlog.followups import followups
from cxlog.language.words import _
from cxlog.storage import settings
from cxlog.storage.db import Storage
from cxlog.storage.engine import Database
from cxlog.stores import catalog
from cxlog.visits import arrivals, visits, waiting

MAX_BATCH = 200
CLOCK_TOLERANCE = timedelta(minutes=2)
MAX_TAP_AGE = timedelta(hours=24)
TODAY_SHOWN = 30
# Issue #24: two touches of one button closer than this are one double tap,
# not two customers. Android takes 300 ms as its double-tap timeout and
# Windows 500 ms as its double-click time; a hurried second touch on a phone
# lands 150-450 ms after the first, so the pad (DOUBLE_TAP_MS in pad.js, the
# same figure: a browser test compares them) and the server use 500 ms.
DOUBLE_TAP = timedelta(milliseconds=500)

# The fields each kind of tap carries besides id, visit, kind, at and by.
# A new kind of tap is one entry here and one branch in _apply.
KINDS: dict[str, tuple[str, ...]] = {
    "start": ("engagement",),
    "reason": ("reason",),
    "marker": ("marker", "on"),
    "purchase": ("units",),
    "no_purchase": (),
    "no_sale_reason": ("reason",),
    "amount": ("amount",),  # as typed; ("cents",) from a pad before #16 is still taken
    "undo": (),
    "reopen": (),
    # Issue #30, time to greet: an arrival tap's ``visit`` is the arrival's
    # own id; "left" starts a new visit for the arrival it names. A start
    # may name the arrival it greets ("arrival", below).
    "arrival": (),
    "arrival_undo": (),
    "left": ("arrival",),
}
# Fields a kind may carry or not: a pad with time to greet on names the
# arrival a start greets (null: the longest-waiting one); one without, or
# from before #30, sends none and greets nobody.
OPTIONAL: dict[str, tuple[str, ...]] = {"start": ("arrival",)}
# Kinds whose ``visit`` names an arrival, not a visit.
ARRIVAL_KINDS = ("arrival", "arrival_undo")
# Kinds that start a visit under their ``visit`` id.
STARTS = ("start", "left")
_COMMON = ("id", "visit", "kind", "at", "by")
_TAP_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MAX_MS = 2**53


class BatchError(CxlogError):
    """A batch refused whole: nothing in it was applied. ``status`` is the HTTP
    status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# ``what``: the field as the sentence names it, already in the reader's language.
def _ms(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise BatchError(400, _("{what} must be a time in milliseconds.").format(what=what))
    if not 0 < value < _MAX_MS:
        raise BatchError(400, _("{what} is not a possible time.").format(what=what))
    return int(value)


def _int(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BatchError(
            400,
            _("{what} must be a whole number from {low} to {high}.").format(
                what=what, low=low, high=high
            ),
        )
    return value


def clean_tap(raw: object) -> dict:
    """One tap in its canonical form, or BatchError with a sentence."""
    if not isinstance(raw, dict):
        raise BatchError(400, _("Each tap must be a JSON object."))
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise BatchError(400, _("A tap has an unknown kind; update the app on this device."))
    fields = ("cents",) if kind == "amount" and "cents" in raw else KINDS[kind]
    fields += tuple(f for f in OPTIONAL.get(kind, ()) if f in raw)
    extra = set(raw) - set(_COMMON) - set(fields)
    missing = (set(_COMMON) | set(fields)) - set(raw)
    if extra or missing:
        raise BatchError(
            400,
            _("A {kind} tap has the wrong fields; update the app on this device.").format(
                kind=kind
            ),
        )
    tap_id = raw["id"]
    if not isinstance(tap_id, str) or not _TAP_ID.match(tap_id):
        raise BatchError(400, _("A tap id must be 8 to 64 letters, digits, - or _."))
    try:
        visit_id = model.visit_id(raw["visit"])
    except ValidationError as exc:
        raise BatchError(400, str(exc)) from None
    tap = {
        "id": tap_id,
        "visit": visit_id,
        "kind": kind,
        "at": _ms(raw["at"], _("A tap's time")),
        "by": _int(raw["by"], _("A tap's associate"), 1, 2**31),
    }
    if kind == "start":
        if raw["engagement"] not in FIRST_ENGAGEMENTS:
            raise BatchError(400, _("A start must be warm, neutral or missed."))
        tap["engagement"] = raw["engagement"]
        if "arrival" in raw:
            tap["arrival"] = _arrival_id(raw["arrival"], optional=True)
    elif kind == "left":
        tap["arrival"] = _arrival_id(raw["arrival"], optional=False)
    elif kind in ("reason", "no_sale_reason"):
        reason = raw["reason"]
        tap["reason"] = None if reason is None else _int(reason, _("A reason"), 1, 2**31)
    elif kind == "marker":
        if raw["marker"] not in MARKERS or not isinstance(raw["on"], bool):
            raise BatchError(400, _("A marker tap names used_name or recommended, on or off."))
        tap["marker"], tap["on"] = raw["marker"], raw["on"]
    elif kind == "purchase":
        tap["units"] = _int(raw["units"], _("Units"), 1, 99)
    elif kind == "amount" and "cents" in raw:
        cents = raw["cents"]
        tap["cents"] = (
            None if cents is None else _int(cents, _("A sale amount"), 0, model.MAX_AMOUNT_CENTS)
        )
    elif kind == "amount":
        # Kept as typed: the server turns it into cents (model.parse_amount,
        # the one place money becomes cents) when the tap is applied, and a
        # typo is refused on its card, not with the whole batch.
        amount = raw["amount"]
        if not (amount is None or (isinstance(amount, str) and len(amount) <= 32)):
            raise BatchError(400, _("A sale amount is sent as the text typed."))
        tap["amount"] = amount
    return tap


def _arrival_id(value: object, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not _TAP_ID.match(value):
        raise BatchError(400, _("An arrival id must be 8 to 64 letters, digits, - or _."))
    return value


def _body(tap: dict) -> str:
    return json.dumps(tap, sort_keys=True, separators=(",", ":"))


def clean_batch(batch: object) -> tuple[int, list[dict]]:
    """``(sent_at, taps)`` from a request body, or BatchError."""
    if not isinstance(batch, dict) or set(batch) != {"sent_at", "taps"}:
        raise BatchError(400, _("A batch is an object with sent_at and taps."))
    taps = batch["taps"]
    if not isinstance(taps, list):
        raise BatchError(400, _("taps must be a list."))
    if len(taps) > MAX_BATCH:
        raise BatchError(
            413, _("A batch holds at most {n} taps; send the rest after.").format(n=MAX_BATCH)
        )
    return _ms(batch["sent_at"], "sent_at"), [clean_tap(t) for t in taps]


def corrected_times(
    sent_at_ms: int, received: datetime, taps: list[dict]
) -> tuple[int | None, list[datetime]]:
    """The clock rule (module docstring): the offset applied (None when the
    device's clock was within the tolerance) and each tap's moment."""
    received_ms = int(received.timestamp() * 1000)
    offset = received_ms - sent_at_ms
    applied = offset if abs(offset) > CLOCK_TOLERANCE.total_seconds() * 1000 else None
    moments = []
    for tap in taps:
        moment_ms = min(tap["at"] + (applied or 0), received_ms)
        moments.append(datetime.fromtimestamp(moment_ms / 1000, UTC))
    return applied, moments


def apply_batch(
    storage: Storage,
    shift: dict,
    batch: object,
    *,
    received: datetime | None = None,
    max_open: int = shifts.MAX_OPEN_VISITS,
    address: str | None = None,
) -> dict:
    """Apply a device's batch for the associate on ``shift`` (shifts.check),
    sent from ``address`` (visit starts are limited per address too).

    Returns ``{"taps": [{"id", "ok", "message"?, "replayed"?}], "visits":
    {id: pad_visit}, "clock_offset_ms": int | None}``. Raises BatchError
    (nothing applied) for a bad batch, StorageError if the database fails part
    way (what was applied is recorded; a resend applies the rest once).
    """
    received = received or utc_now()
    sent_at, taps = clean_batch(batch)
    offset, moments = corrected_times(sent_at, received, taps)
    store_id = shift["store_id"]
    seen = _check_batch(storage, store_id, taps)
    answers = []
    # A tap writes its store's rows only (visits, their sums, its taps and
    # rate-limit rows, audit rows): on PostgreSQL stores write side by side.
    with storage.store_writes(store_id):
        for tap, moment in zip(taps, moments, strict=True):
            if tap["id"] in seen:
                answers.append({**seen[tap["id"]], "replayed": True})
                continue
            answer = _apply_one(storage, shift, tap, moment, received, offset, max_open, address)
            seen[tap["id"]] = answer
            answers.append(answer)
    touched = list(dict.fromkeys(t["visit"] for t in taps))
    with storage.read() as db:
        states = {
            row["id"]: pad_visit(row)
            for row in (_maybe_row(db, vid) for vid in touched)
            if row is not None and row["store_id"] == store_id
        }
    return {"taps": answers, "visits": states, "clock_offset_ms": offset}


def _maybe_row(db: Database, visit_id: str) -> dict | None:
    try:
        return visits.row_in(db, visit_id)
    except NotFoundError:
        return None


def _check_batch(storage: Storage, store_id: int, taps: list[dict]) -> dict[str, dict]:
    """Refuse the whole batch before anything is applied; returns the answers
    of tap ids seen before (replays)."""
    ids = list(dict.fromkeys(t["id"] for t in taps))
    vids = list(dict.fromkeys(t["visit"] for t in taps))
    with storage.read() as db:
        stored = {}
        for chunk in range(0, len(ids), 400):
            part = ids[chunk : chunk + 400]
            marks = ",".join("?" * len(part))
            stored.update(
                {
                    r["id"]: r
                    for r in db.query(
                        "SELECT id, body, ok, answer FROM taps"
                        f" WHERE store_id = ? AND id IN ({marks})",
                        [store_id, *part],
                    )
                }
            )
        stores = {}
        for chunk in range(0, len(vids), 400):
            part = vids[chunk : chunk + 400]
            marks = ",".join("?" * len(part))
            stores.update(
                {
                    r["id"]: r["store_id"]
                    for r in db.query(
                        f"SELECT id, store_id FROM visits WHERE id IN ({marks})", list(part)
                    )
                }
            )
    bodies: dict[str, str] = {}
    started: set[str] = set()
    for tap in taps:
        body = _body(tap)
        earlier = bodies.get(tap["id"]) or (
            stored[tap["id"]]["body"] if tap["id"] in stored else None
        )
        if earlier is not None and earlier != body:
            raise BatchError(
                409,
                _("A tap id was used before for a different tap; nothing in this batch was saved."),
            )
        bodies[tap["id"]] = body
        if tap["kind"] in ARRIVAL_KINDS:
            continue  # arrivals are keyed by store: another store's id is not seen
        owner = stores.get(tap["visit"])
        if owner is not None and owner != store_id:
            raise BatchError(
                403, _("A tap is for a visit of another store; nothing in this batch was saved.")
            )
        if tap["kind"] in STARTS:
            started.add(tap["visit"])
        elif owner is None and tap["visit"] not in started:
            raise BatchError(
                404, _("A tap is for a visit this server does not know; nothing in it was saved.")
            )
    return {
        tap_id: {"id": tap_id, "ok": bool(row["ok"])}
        | ({"message": row["answer"]} if row["answer"] else {})
        for tap_id, row in stored.items()
    }


def _apply_one(
    storage: Storage,
    shift: dict,
    tap: dict,
    moment: datetime,
    received: datetime,
    offset: int | None,
    max_open: int,
    address: str | None,
) -> dict:
    def record(db: Database, ok: bool, answer: str | None) -> None:
        db.execute(
            "INSERT INTO taps (store_id, id, visit_id, kind, body, associate_id, device_id,"
            " device_at, at, clock_offset_ms, received_at, ok, answer)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                shift["store_id"],
                tap["id"],
                tap["visit"],
                tap["kind"],
                _body(tap),
                shift["id"],
                shift["device_id"],
                to_utc_text(datetime.fromtimestamp(tap["at"] / 1000, UTC)),
                to_utc_text(moment),
                offset,
                to_utc_text(received),
                int(ok),
                answer,
            ],
        )

    try:
        if tap["by"] != shift["id"]:
            raise ValidationError(
                _(
                    "This tap was made during another associate's shift, which has ended;"
                    " it was not saved."
                )
            )
        if moment < received - MAX_TAP_AGE:
            raise ValidationError(_("This tap is more than a day old; it was not saved."))
        began = shift.get("started_at")
        if began is not None and moment < began - CLOCK_TOLERANCE:
            # Issue #25: a tap is made during the shift that sends it; one
            # dated earlier is a device's wish, not a moment of this shift.
            raise ValidationError(_("This tap is dated before this shift began; it was not saved."))
        tapped = visits.Tapped(
            at=moment,
            received_at=received,
            record=lambda db, _visit: record(db, True, None),
            shift_started=began,
        )
        _apply(storage, shift, tap, tapped, max_open, address)
        return {"id": tap["id"], "ok": True}
    except StorageError:
        raise
    except CxlogError as exc:
        with storage.write() as db:
            record(db, False, str(exc))
        return {"id": tap["id"], "ok": False, "message": str(exc)}


def _apply(
    storage: Storage,
    shift: dict,
    tap: dict,
    tapped: visits.Tapped,
    max_open: int,
    address: str | None,
) -> None:
    actor = actors.associate(shift["id"])
    vid, kind = tap["visit"], tap["kind"]
    if kind == "start":
        _refuse_double_start(storage, shift, tap)
    # A start and a "left before greeting" each start a visit: both are
    # within the starts' rate limits (issue #25).
    if kind in STARTS:
        shifts.take_start(
            storage,
            shift["store_id"],
            associate_id=shift["id"],
            address=address,
            now=tapped.received_at,
        )
    if kind == "start":
        visits.create_visit(
            storage,
            vid,
            shift["store_id"],
            shift["id"],
            tap["engagement"],
            tap=tapped,
            max_open=max_open,
            greets="arrival" in tap,
            arrival=tap.get("arrival"),
        )
    elif kind == "arrival":
        arrivals.note(
            storage,
            shift["store_id"],
            vid,
            shift["id"],
            device_id=shift["device_id"],
            tap=tapped,
            double_tap=DOUBLE_TAP,
        )
    elif kind == "arrival_undo":
        arrivals.undo(storage, shift["store_id"], vid, actor, tap=tapped)
    elif kind == "left":
        arrivals.left(storage, shift["store_id"], tap["arrival"], vid, shift["id"], tap=tapped)
    elif kind == "reason":
        visits.set_reason(storage, vid, tap["reason"], actor=actor, tap=tapped)
    elif kind == "marker":
        visits.set_marker(storage, vid, tap["marker"], tap["on"], actor=actor, tap=tapped)
    elif kind == "purchase":
        visits.record_purchase(storage, vid, tap["units"], actor=actor, tap=tapped)
    elif kind == "no_purchase":
        visits.record_no_purchase(storage, vid, actor=actor, tap=tapped)
    elif kind == "no_sale_reason":
        _expect_outcome(storage, vid, NO_PURCHASE)
        visits.record_no_purchase(
            storage, vid, no_sale_reason_id=tap["reason"], actor=actor, tap=tapped
        )
    elif kind == "amount":
        cents = tap["cents"] if "cents" in tap else model.parse_amount(tap["amount"])
        units = _expect_outcome(storage, vid, PURCHASED)["units"]
        visits.record_purchase(storage, vid, units, amount_cents=cents, actor=actor, tap=tapped)
    elif kind == "undo":
        visits.undo_last(storage, actor, visit_id=vid, now=tapped.received_at, tap=tapped)
    elif kind == "reopen":
        visits.reopen_visit(storage, vid, actor=actor, tap=tapped)


def _refuse_double_start(storage: Storage, shift: dict, tap: dict) -> None:
    """A second start of the same first engagement from the same device
    within DOUBLE_TAP of an earlier one, by the device's own clock, is the
    second touch of a double tap on that button: a pad from before issue #24
    sends both. Refused with a sentence (the pad drops the card it drew for
    it); nothing is written but the tap's answer. The pad's own rule is the
    same: the same button within the window."""
    at = datetime.fromtimestamp(tap["at"] / 1000, UTC)
    with storage.read() as db:
        near = db.execute(
            "SELECT body FROM taps INDEXED BY taps_starts WHERE store_id = ? AND device_id = ?"
            " AND kind = 'start' AND ok = 1 AND device_at > ? AND device_at < ?",
            [
                shift["store_id"],
                shift["device_id"],
                to_utc_text(at - DOUBLE_TAP),
                to_utc_text(at + DOUBLE_TAP),
            ],
        ).fetchall()
    if any(json.loads(body)["engagement"] == tap["engagement"] for (body,) in near):
        raise ConflictError(
            _(
                "Two starts within half a second on this device count as one double tap;"
                " for a second customer, tap again."
            )
        )


def _expect_outcome(storage: Storage, visit_id: str, outcome: str) -> dict:
    """The optional after-close taps need the close they follow: a visit
    reopened (or closed differently) on another device gets a sentence."""
    visit = visits.get_visit(storage, visit_id)
    if visit["voided_at"] is not None:
        raise ConflictError(_("This visit was removed (voided); it can no longer be changed."))
    if visit["outcome"] is None:
        raise ConflictError(_("This visit was reopened on another device; tap its outcome again."))
    if visit["outcome"] != outcome:
        raise ConflictError(
            _("This visit was closed differently on another device; this tap was not saved.")
        )
    return visit


# --- what the pad shows -------------------------------------------------------


def pad_visit(row: dict) -> dict:
    """The few fields of a visit the pad draws (its data model: data in)."""
    return {
        "id": row["id"],
        "engagement": row["first_engagement"],
        "started": row["started_at"],
        "by": row["associate_name"],
        "reason": row["reason_id"],
        "used_name": bool(row["used_name"]),
        "recommended": bool(row["recommended"]),
        "outcome": row["outcome"],
        "units": row["units"],
        "cents": row["amount_cents"],
        "no_sale": row["no_sale_reason_id"],
        "closed_by": row.get("closed_by_name"),
        "voided": row["voided_at"] is not None,
        # Issue #30: the arrival it greeted (seconds to greet), or left.
        "arrived": row.get("arrived_at"),
        "waited": row.get("greet_seconds"),
        "left": bool(row.get("left_before_greeting")),
    }


def pad_arrival(row: dict) -> dict:
    """A waiting customer as the pad draws it."""
    return {"id": row["id"], "at": row["arrived_at"], "by": row["associate_name"]}


def board_version(
    storage: Storage, store_id: int, timezone: str, *, now: datetime | None = None
) -> str:
    """A short digest that changes whenever the board would: every write to a
    visit sets its updated_at. Two index reads, so the pad's poll is cheap
    when nothing changed (the board itself is built only when it did)."""
    with storage.read() as db:
        today = db.execute(
            "SELECT count(*), max(updated_at) FROM visits WHERE store_id = ? AND started_at >= ?",
            [store_id, to_utc_text(localday.midnight(timezone))],
        ).fetchone()
        still_open = db.execute(
            "SELECT count(*), max(updated_at) FROM visits INDEXED BY visits_open"
            " WHERE store_id = ? AND outcome IS NULL AND voided_at IS NULL",
            [store_id],
        ).fetchone()
        # Issue #30: the waiting customers and the store's rules for them.
        rules = settings.greet_rules_in(db, [store_id])[store_id]
        waiting = db.execute(
            "SELECT count(*), max(updated_at), min(arrived_at) FROM arrivals"
            " WHERE store_id = ? AND visit_id IS NULL AND removed_at IS NULL",
            [store_id],
        ).fetchone()
    # Every tablet's poll: close_overdue's own read only when someone did
    # wait past the limit (the read above has the rules and the oldest).
    if arrivals.overdue(rules, waiting[2], now) and arrivals.close_overdue(storage, store_id, now):
        return board_version(storage, store_id, timezone, now=now)
    day = localday.today(timezone).isoformat()
    key = (day, today, still_open, rules.as_json(), tuple(waiting[:2]))
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


def board(
    storage: Storage,
    store_id: int,
    timezone: str,
    *,
    limit: int = 100,
    now: datetime | None = None,
) -> dict:
    """Open visits and today's closed ones for the pad, with their version:
    the pad asks "changed since <version>?" and gets a short answer when not.
    A waiting customer past the store's limit at ``now`` is closed first."""
    version = board_version(storage, store_id, timezone, now=now)
    open_rows = visits.open_visits(storage, store_id)
    today, today_count = visits.closed_since(
        storage, store_id, localday.midnight(timezone), limit=TODAY_SHOWN
    )
    return {
        "version": version,
        "open": [pad_visit(v) for v in open_rows[:limit]],
        "open_count": len(open_rows),
        "today": [pad_visit(v) for v in today],
        "today_count": today_count,
        # Issue #14: the team's quiet line (warm rate against the goal, the
        # focus), built with the board, so only when a visit changed and never
        # on a tap's own request.
        "team_line": coaching.team_line(storage, store_id, markdown=False),
        # Issue #29: the language fixed for the store (its own, else the
        # chain's) or None; the pad notices a change of it (the API's
        # unchanged answer carries it too).
        "lang": settings.store_language(storage, store_id),
        # Issue #30: time to greet, when the store has it on.
        **greeting(storage, store_id),
    }


def greeting(storage: Storage, store_id: int) -> dict:
    """The waiting customers and the store's standard, or nothing when the
    store has time to greet off (the pad then draws as before #30)."""
    with storage.read() as db:
        rules = settings.greet_rules_in(db, [store_id])[store_id]
        if not rules.on:
            return {}
        rows = waiting.waiting_in(db, store_id)
    return {
        "greet": {"standard": rules.standard, "limit": rules.limit},
        "waiting": [pad_arrival(a) for a in rows],
    }


def pad_lists(storage: Storage, store_id: int) -> dict:
    """The reason and no-sale reason pills the store offers, in their
    managers' order (the chain's entries, then the store's own)."""
    return {
        key: [
            {"id": r["id"], "name": entry_name(r["name"])}
            for r in catalog.list_reasons(storage, kind, store_id=store_id)
        ]
        for key, kind in (("reasons", "reason"), ("no_sale", "no_sale_reason"))
    }


def pad_data(storage: Storage, me: dict | None, people: list[dict], pin_required: bool) -> dict:
    """Everything the pad draws, as plain JSON: "who is logging?" when no one
    is on shift on the device, else the associate, the lists and the board."""
    if me is None:
        return {
            "mode": "who",
            "api": routes.API,
            "people": [{"id": p["id"], "name": p["name"]} for p in people],
            "pin_required": pin_required,
        }
    return {
        "mode": "log",
        "api": routes.API,
        "me": {"id": me["id"], "name": me["name"], "store": me["store_name"]},
        "timezone": me["timezone"],
        **pad_lists(storage, me["store_id"]),
        "followup": followup_choices(),
        "board": board(storage, me["store_id"], me["timezone"]),
    }


def followup_choices() -> dict:
    """The closed card's "Follow-up" choices (issue #15), from cxlog.followups.followups
    so the pad and the Follow-ups page offer the same words."""
    return {
        "due": [{"id": k, "name": _(label)} for k, (label, _days) in followups.DUE_CHOICES.items()],
        "channels": [{"id": k, "name": _(label)} for k, label in followups.CHANNELS.items()],
        "default_channel": followups.CALL,
    }
