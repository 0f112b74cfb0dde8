"""Associate shifts on a device, held in an HttpOnly cookie (issues #10, #11).

A shift is "who is logging on this tablet". Its token lives only in an
HttpOnly, SameSite=Strict cookie set by the API (never in the URL, where
history, shortcuts and screenshots kept it); the database keeps its SHA-256
only. Every API call and every run of the Log page checks it again, so "Not
you?", a PIN change, a deactivation and the 12-hour expiry end it everywhere
at the next tap.

The cookie's value is ``<store id>.<token>``: the store leads the table's key
(issue #12), so the lookup is one primary-key read.

This module also bounds the load one client can put on a store: at most
``MAX_OPEN_VISITS`` open visits per store; visit starts limited per associate
and per address with a store-wide ceiling, and shift starts per address
(issue #25), by token buckets kept in the database (cxlog/access/limits.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from cxlog.access import limits
from cxlog.core import actors
from cxlog.core.errors import ShiftError, ValidationError
from cxlog.core.model import from_utc_text, to_utc_text, utc_now
from cxlog.core.tokens import token_hash
from cxlog.language.words import N_, _, shown
from cxlog.storage.db import Storage, audit
from cxlog.storage.engine import Database

SHIFT_COOKIE = "cxlog_shift"
DEVICE_COOKIE = "cxlog_device"
SHIFT_LENGTH = timedelta(hours=12)
DEVICE_COOKIE_DAYS = 400

# 300 open visits made the Log page take 6.2 s on every tablet (issue #11); a
# store serving 40 customers at once is far beyond a real shop floor.
MAX_OPEN_VISITS = 40
# Visit starts: an associate may start 20 in a burst (a backlog sent after a
# long cut), then one every 3 s; one address (a tablet several associates
# share) 30, then one every 2 s; a whole store 120, then one a second — far
# beyond a busy Saturday (a few hundred visits an hour), far below a flood
# (one client wrote 197-380 visits a second on 18f9694).
START_BURST = 20.0
START_REFILL = timedelta(seconds=3)
ADDRESS_START_BURST = 30.0
ADDRESS_START_REFILL = timedelta(seconds=2)
STORE_START_BURST = 120.0
STORE_START_REFILL = timedelta(seconds=1)
# Shift starts ("tap your name") from one address: 10, then one every 30 s.
SHIFT_BURST = 10.0
SHIFT_REFILL = timedelta(seconds=30)

_COOKIE = re.compile(r"^([0-9]{1,9})\.([A-Za-z0-9_-]{16,64})$")
_DEVICE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

ENDED_WHY = {
    "not_you": N_("This shift was ended with \u201cNot you?\u201d; tap your name again."),
    "pin_changed": N_("Your PIN was changed, which ended your shift; tap your name again."),
}


def _pin_stamp(pin_hash: str | None) -> str:
    return hashlib.sha256((pin_hash or "").encode()).hexdigest()


def new_device_id() -> str:
    return secrets.token_urlsafe(18)


def device_id(value: object) -> str | None:
    """A device cookie as sent, or None when missing or malformed."""
    return value if isinstance(value, str) and _DEVICE.match(value) else None


def _parse(cookie: object) -> tuple[int, str] | None:
    if not isinstance(cookie, str):
        return None
    match = _COOKIE.match(cookie)
    return (int(match[1]), match[2]) if match else None


def start(
    storage: Storage,
    associate_id: int,
    device: str,
    *,
    address: str | None = None,
    now: datetime | None = None,
) -> str:
    """Start a shift for an active associate on a device; returns the cookie value.

    Checking the PIN (when the store asks for one) is the caller's job, through
    ``access.check_associate_pin``, before this is called. ``address`` is the
    request's (the API passes it): shift starts are limited per address.
    """
    now = now or utc_now()
    if device_id(device) is None:
        raise ValidationError(_("This device has no valid device id; reload the page."))
    if isinstance(associate_id, bool) or not isinstance(associate_id, int):
        raise ValidationError(_("Pick your name from the list."))
    token = secrets.token_urlsafe(24)
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT store_id, name, active, pin_hash FROM associates WHERE id = ?",
                [associate_id],
            )
        )
        if not rows:
            raise ValidationError(_("That associate does not exist; pick your name again."))
        person = rows[0]
        if not person["active"]:
            raise ValidationError(
                _("{name} has been deactivated and cannot log visits.").format(name=person["name"])
            )
    if address is not None:
        limits.take(
            storage,
            person["store_id"],
            [
                limits.Bucket(
                    f"shift:address:{address}",
                    SHIFT_BURST,
                    SHIFT_REFILL,
                    N_(
                        "This device signed in many times in a short time; wait {wait} s and tap"
                        " your name again."
                    ),
                )
            ],
            now=now,
        )
    with storage.write() as db:
        db.execute(
            "INSERT INTO device_shifts (store_id, token_hash, associate_id, device_id,"
            " pin_stamp, started_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                person["store_id"],
                token_hash(token),
                associate_id,
                device,
                _pin_stamp(person["pin_hash"]),
                to_utc_text(now),
                to_utc_text(now + SHIFT_LENGTH),
            ],
        )
        audit(db, actors.associate(associate_id), "start_shift", "associate", associate_id)
    return f"{person['store_id']}.{token}"


def _lookup(db: Database, cookie: object) -> dict | None:
    parsed = _parse(cookie)
    if parsed is None:
        return None
    store_id, token = parsed
    rows = list(
        db.query(
            "SELECT sh.store_id, sh.token_hash, sh.device_id, sh.pin_stamp, sh.started_at,"
            " sh.expires_at,"
            " sh.ended_at, sh.ended_why, a.id, a.name, a.active, a.pin_hash,"
            " s.name AS store_name, s.timezone"
            " FROM device_shifts sh JOIN associates a ON a.id = sh.associate_id"
            " JOIN stores s ON s.id = sh.store_id"
            " WHERE sh.store_id = ? AND sh.token_hash = ?",
            [store_id, token_hash(token)],
        )
    )
    return rows[0] if rows else None


_ANY_DEVICE = object()


def check(
    storage: Storage,
    cookie: object,
    *,
    device: object = _ANY_DEVICE,
    now: datetime | None = None,
) -> dict:
    """The associate on shift on this device, or ShiftError saying why not.

    ``device`` is the request's device cookie: every request from a browser
    passes it, and a shift cookie copied to another device (without the
    device cookie it was started with) is refused (issue #25). Only code that
    holds the shift itself (the start route, tests) leaves it out.

    Returns ``id``, ``name``, ``store_id``, ``store_name``, ``timezone``,
    ``device_id`` and ``started_at`` (a datetime).
    """
    now = now or utc_now()
    if not cookie:
        raise ShiftError(_("No one is signed in on this device; tap your name first."))
    with storage.read() as db:
        row = _lookup(db, cookie)
    if row is None:
        raise ShiftError(_("This device's shift is not known here; tap your name again."))
    if row["ended_at"] is not None:
        raise ShiftError(shown(ENDED_WHY.get(row["ended_why"], ENDED_WHY["not_you"])))
    if not row["active"]:
        raise ShiftError(
            _("{name} has been deactivated and cannot log visits.").format(name=row["name"])
        )
    if row["pin_stamp"] != _pin_stamp(row["pin_hash"]):
        raise ShiftError(shown(ENDED_WHY["pin_changed"]))
    if from_utc_text(row["expires_at"]) <= now:
        raise ShiftError(_("Your shift ended after 12 hours; tap your name again."))
    if device is not _ANY_DEVICE and device != row["device_id"]:
        raise ShiftError(_("This shift was started on another device; tap your name on this one."))
    return {
        "id": row["id"],
        "name": row["name"],
        "store_id": row["store_id"],
        "store_name": row["store_name"],
        "timezone": row["timezone"],
        "device_id": row["device_id"],
        "started_at": from_utc_text(row["started_at"]),
    }


def current(
    storage: Storage, cookie: object, *, device: object = _ANY_DEVICE, now: datetime | None = None
) -> dict | None:
    """Like ``check``, but None instead of the reason."""
    try:
        return check(storage, cookie, device=device, now=now)
    except ShiftError:
        return None


def end(storage: Storage, cookie: object, *, now: datetime | None = None) -> bool:
    """End this shift ("Not you?"): every device holding it is signed out at its
    next tap. Returns whether a running shift was ended."""
    parsed = _parse(cookie)
    if parsed is None:
        return False
    store_id, token = parsed
    with storage.write() as db:
        cursor = db.execute(
            "UPDATE device_shifts SET ended_at = ?, ended_why = 'not_you'"
            " WHERE store_id = ? AND token_hash = ? AND ended_at IS NULL",
            [to_utc_text(now or utc_now()), store_id, token_hash(token)],
        )
        ended = cursor.rowcount == 1
        if ended:
            associate = db.execute(
                "SELECT associate_id FROM device_shifts WHERE store_id = ? AND token_hash = ?",
                [store_id, token_hash(token)],
            ).fetchone()[0]
            audit(db, actors.associate(associate), "end_shift", "associate", associate)
    return ended


# --- bounded load -------------------------------------------------------------


def take_start(
    storage: Storage,
    store_id: int,
    *,
    associate_id: int,
    address: str | None,
    now: datetime | None = None,
) -> None:
    """Spend one visit start of this associate, this address (when known) and
    the store, or refuse with a sentence (nothing spent)."""
    buckets = [
        limits.Bucket(
            f"start:associate:{associate_id}",
            START_BURST,
            START_REFILL,
            N_("You started many visits in a short time; wait {wait} s and tap again."),
        ),
        limits.Bucket(
            "start:store",
            STORE_START_BURST,
            STORE_START_REFILL,
            N_(
                "The store started more visits in the last minutes than a store can serve;"
                " wait {wait} s and tap again."
            ),
        ),
    ]
    if address is not None:
        buckets.insert(
            1,
            limits.Bucket(
                f"start:address:{address}",
                ADDRESS_START_BURST,
                ADDRESS_START_REFILL,
                N_("This device started many visits in a short time; wait {wait} s and tap again."),
            ),
        )
    limits.take(storage, store_id, buckets, now=now)
