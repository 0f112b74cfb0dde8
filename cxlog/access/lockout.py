"""Throttled secret checks: the lock is checked and the attempt counted in one
``BEGIN IMMEDIATE`` before any hashing, so parallel guesses cannot slip past it.

``who`` is a role (``manager``, ``owner``) or an associate's PIN
(``associate:<id>``). Counters, each a row of ``sign_in_throttle``:

- a **known device** — one on which ``who`` (a role), or any associate of the
  store (a PIN), signed in before, told by its device cookie — counts only
  its own tries (``device:<id>:<who>``): 5 in a 15-minute window, then 5
  minutes, doubling on each further lock (up to a day);
- any **other device** counts per address (``client:<address>:<who>``, the
  same 5 and doubling), and also against ``who`` across every unknown device
  (``role:<who>``): 20 tries in the window, then every unknown device is
  locked out of ``who`` for 5 minutes, doubling up to an hour — the cap on
  guesses from many addresses at once;
- the server's own screen (localhost) has its own counter and is never locked
  by failures from elsewhere: the owner can always sign in there.

Issue #25: a stranger's wrong PINs or passwords used to lock the associate or
the role on every device. Now they slow down the stranger's addresses and
other unknown devices; the store's tablets, known devices, keep their way in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from cxlog.core import actors
from cxlog.core.errors import ValidationError
from cxlog.core.model import from_utc_text, to_utc_text, utc_now
from cxlog.core.tokens import token_hash
from cxlog.language import formats
from cxlog.language.words import n_
from cxlog.storage.db import Storage, audit

MAX_FAILURES = 5  # per device, and per associate PIN
ROLE_WIDE_FAILURES = 20  # per role or associate, over every unknown device
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=5)
LONGEST_LOCKOUT = timedelta(hours=24)
LONGEST_ROLE_LOCKOUT = timedelta(hours=1)
LOCAL = "local"  # the client name of the server's own screen
# What checked_attempt's refusals name when the typed name has no account.
SOME_NAME = "that name's"


def _keys(who: str, client: str | None, device: str | None) -> list[tuple[str, int]]:
    """The counters an attempt by ``who`` from this client counts against;
    ``device`` is a device cookie already known to be known (see known)."""
    if device is not None:
        return [(f"device:{device}:{who}", MAX_FAILURES)]
    keys = [(f"client:{client or 'unknown'}:{who}", MAX_FAILURES)]
    if client != LOCAL:
        keys.append((f"role:{who}", ROLE_WIDE_FAILURES))
    return keys


def _scope(who: str, store_id: int | None) -> str:
    """What a known device is known for: a role, or a store's PINs."""
    return f"store:{store_id}" if actors.is_associate(who) else who


def known(storage: Storage, who: str, device: object, *, store_id: int | None = None) -> bool:
    """Whether ``who`` (a role; for a PIN, any associate of ``store_id``) has
    signed in on this device before."""
    if not isinstance(device, str) or not device:
        return False
    with storage.read() as db:
        row = db.execute(
            "SELECT 1 FROM known_devices WHERE scope = ? AND device_hash = ?",
            [_scope(who, store_id), token_hash(device)],
        ).fetchone()
    return row is not None


def remember(
    storage: Storage, who: str, device: object, *, store_id: int | None = None, now=None
) -> None:
    """A right password or PIN on this device: it keeps a way in for ``who``."""
    if not isinstance(device, str) or not device:
        return
    with storage.write() as db:
        db.execute(
            "INSERT INTO known_devices (scope, device_hash, last_ok_at) VALUES (?, ?, ?)"
            " ON CONFLICT (scope, device_hash) DO UPDATE SET last_ok_at = excluded.last_ok_at",
            [_scope(who, store_id), token_hash(device), to_utc_text(now or utc_now())],
        )


def _locked_text(what: str, delta: timedelta, *, more: bool) -> str:
    """The refusal while ``what``'s sign-in is locked (``more``: it was already
    locked before this try), one whole sentence per kind of secret (#29)."""
    minutes = max(1, round(delta.total_seconds() / 60))
    if what == "PIN":
        text = (
            n_(
                "Too many wrong tries: PIN sign-in is locked for {n} more minute.",
                "Too many wrong tries: PIN sign-in is locked for {n} more minutes.",
                minutes,
            )
            if more
            else n_(
                "Too many wrong tries: PIN sign-in is locked for {n} minute.",
                "Too many wrong tries: PIN sign-in is locked for {n} minutes.",
                minutes,
            )
        )
    elif what == "setup":
        text = (
            n_(
                "Too many wrong tries: setup sign-in is locked for {n} more minute.",
                "Too many wrong tries: setup sign-in is locked for {n} more minutes.",
                minutes,
            )
            if more
            else n_(
                "Too many wrong tries: setup sign-in is locked for {n} minute.",
                "Too many wrong tries: setup sign-in is locked for {n} minutes.",
                minutes,
            )
        )
    elif what == SOME_NAME:
        text = (
            n_(
                "Too many wrong tries: that name's sign-in is locked for {n} more minute.",
                "Too many wrong tries: that name's sign-in is locked for {n} more minutes.",
                minutes,
            )
            if more
            else n_(
                "Too many wrong tries: that name's sign-in is locked for {n} minute.",
                "Too many wrong tries: that name's sign-in is locked for {n} minutes.",
                minutes,
            )
        )
    else:  # an account's name
        text = (
            n_(
                "Too many wrong tries: {name} sign-in is locked for {n} more minute.",
                "Too many wrong tries: {name} sign-in is locked for {n} more minutes.",
                minutes,
            )
            if more
            else n_(
                "Too many wrong tries: {name} sign-in is locked for {n} minute.",
                "Too many wrong tries: {name} sign-in is locked for {n} minutes.",
                minutes,
            )
        )
    return text.format(name=what, n=formats.number(minutes))


def _wrong_text(what: str, left: int) -> str:
    """The refusal of a wrong secret, with the tries left before a lock."""
    if what == "PIN":
        text = n_(
            "That PIN is not right. {n} more try before a lock.",
            "That PIN is not right. {n} more tries before a lock.",
            left,
        )
    elif what == "setup":
        text = n_(
            "That setup code is not right. {n} more try before a lock.",
            "That setup code is not right. {n} more tries before a lock.",
            left,
        )
    else:
        text = n_(
            "That password is not right. {n} more try before a lock.",
            "That password is not right. {n} more tries before a lock.",
            left,
        )
    return text.format(n=formats.number(left))


def locked_until(
    storage: Storage,
    who: str,
    client: str | None = None,
    *,
    device: str | None = None,
    now: datetime | None = None,
) -> datetime | None:
    """When the latest lock that applies to this device for ``who`` ends, or
    None; ``device`` only when it is a known device (see known)."""
    now = now or utc_now()
    with storage.read() as db:
        return _locked(db, _keys(who, client, device), now)


def _locked(db, keys: list[tuple[str, int]], now: datetime) -> datetime | None:
    latest = None
    for key, _limit in keys:
        rows = list(db.query("SELECT locked_until FROM sign_in_throttle WHERE key = ?", [key]))
        if rows and rows[0]["locked_until"]:
            until = from_utc_text(rows[0]["locked_until"])
            if until > now and (latest is None or until > latest):
                latest = until
    return latest


def _row(db, key: str) -> dict | None:
    rows = list(db.query("SELECT * FROM sign_in_throttle WHERE key = ?", [key]))
    return rows[0] if rows else None


def checked_attempt(
    storage: Storage,
    who: str,
    what: str,
    verify: Callable[[], bool],
    *,
    client: str | None,
    device: str | None = None,
    now: datetime | None = None,
) -> None:
    """Run ``verify`` (the slow hash check) only if no lock applies, counting the
    attempt first; raise ValidationError with the reason when refused.
    ``device`` is passed only for a known device (see known)."""
    now = now or utc_now()
    keys = _keys(who, client, device)
    with storage.write() as db:
        until = _locked(db, keys, now)
        if until is None:
            for key, limit in keys:
                _count(db, key, limit, now)
    if until is not None:
        raise ValidationError(_locked_text(what, until - now, more=True))
    if verify():
        with storage.write() as db:
            for key, limit in keys:
                if key.startswith("role:"):
                    # Undo this attempt's count only: the other devices'
                    # failures still count against the role.
                    db.execute(
                        "UPDATE sign_in_throttle SET attempts = max(attempts - 1, 0),"
                        " locked_until = CASE WHEN attempts - 1 < ? THEN NULL"
                        " ELSE locked_until END WHERE key = ?",
                        [limit, key],
                    )
                else:  # the right secret: this device's earlier failures are forgiven
                    db.execute("DELETE FROM sign_in_throttle WHERE key = ?", [key])
            audit(db, who, "sign_in", "settings", who, after={"client": client})
        return
    with storage.write() as db:
        audit(db, "unknown", "sign_in_failed", "settings", who, after={"client": client})
        until = _locked(db, keys, now)
        left = min(limit - (_row(db, key) or {"attempts": 0})["attempts"] for key, limit in keys)
    if until is not None:
        raise ValidationError(_locked_text(what, until - now, more=False))
    raise ValidationError(_wrong_text(what, left))


def _count(db, key: str, limit: int, now: datetime) -> None:
    """One more attempt on ``key``; the one that reaches the limit sets the lock."""
    row = _row(db, key)
    locks = row["locks"] if row else 0
    attempts = row["attempts"] if row else 0
    window_ends = row["window_ends"] if row else None
    if window_ends is None or from_utc_text(window_ends) <= now:
        if window_ends is not None and from_utc_text(window_ends) + LONGEST_LOCKOUT <= now:
            locks = 0  # a day without trouble: the next lock is short again
        attempts, window_ends = 0, to_utc_text(now + WINDOW)
    attempts += 1
    locked = None
    if attempts >= limit:
        # Each further lock of the same device lasts twice as long, up to a day.
        longest = LONGEST_ROLE_LOCKOUT if key.startswith("role:") else LONGEST_LOCKOUT
        length = min(LOCKOUT * 2 ** min(locks, 10), longest)
        locked, locks, attempts = to_utc_text(now + length), locks + 1, limit
        window_ends = locked
    db.execute(
        "INSERT INTO sign_in_throttle (key, attempts, locked_until, window_ends, locks)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET attempts = excluded.attempts,"
        " locked_until = excluded.locked_until, window_ends = excluded.window_ends,"
        " locks = excluded.locks",
        [key, attempts, locked, window_ends, locks],
    )
