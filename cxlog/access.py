"""Associates' access: PINs and the per-device shift token.

Passwords, hashing and their rules live in cxlog/credentials.py, the settings
store in cxlog/settings.py, manager/owner sessions in cxlog/sessions.py, the
throttle in cxlog/lockout.py, roles in cxlog/roles.py and the page table in
cxlog/navigation.py.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from cxlog import lockout
from cxlog.credentials import (  # noqa: F401 - names other modules still import from here
    MIN_PASSWORD_LENGTH,
    check_password,
    check_pin,
    first_run,
    has_password,
    hash_secret,
    set_password,
    verify_secret,
)
from cxlog.db import Storage, audit
from cxlog.errors import ValidationError
from cxlog.model import to_utc_text, utc_now
from cxlog.navigation import PAGES, menu  # noqa: F401
from cxlog.roles import ASSOCIATE, MANAGER, OWNER, ROLES, allows  # noqa: F401
from cxlog.settings import (  # noqa: F401
    DEFAULT_IDLE_MINUTES,
    IDLE_MINUTES,
    PIN_REQUIRED,
    get_setting,
    idle_minutes,
    pin_required,
    set_idle_minutes,
    set_setting,
)

SHIFT_LENGTH = timedelta(hours=12)


# --- shifts -------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_shift(storage: Storage, associate_id: int, *, now: datetime | None = None) -> str:
    """Open a shift for an associate on this device; returns the token for the URL."""
    now = now or utc_now()
    token = secrets.token_urlsafe(18)
    with storage.write() as db:
        rows = list(db.query("SELECT active FROM associates WHERE id = ?", [associate_id]))
        if not rows or not rows[0]["active"]:
            raise ValidationError("That associate cannot log visits; ask a manager.")
        db.execute(
            "INSERT INTO shifts (token_hash, associate_id, started_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            [_token_hash(token), associate_id, to_utc_text(now), to_utc_text(now + SHIFT_LENGTH)],
        )
        audit(db, f"associate:{associate_id}", "start_shift", "associate", associate_id)
    return token


def shift_associate(storage: Storage, token: object, *, now: datetime | None = None) -> dict | None:
    """The active associate a shift token belongs to, or None (expired, ended, bad)."""
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        return None
    now_text = to_utc_text(now or utc_now())
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT a.id, a.store_id, a.name, s.name AS store_name, s.timezone"
                " FROM shifts sh JOIN associates a ON a.id = sh.associate_id"
                " JOIN stores s ON s.id = a.store_id"
                " WHERE sh.token_hash = ? AND sh.ended_at IS NULL AND sh.expires_at > ?"
                " AND a.active = 1",
                [_token_hash(token), now_text],
            )
        )
    return rows[0] if rows else None


def end_shift(storage: Storage, token: str) -> None:
    with storage.write() as db:
        db.execute(
            "UPDATE shifts SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
            [to_utc_text(utc_now()), _token_hash(token)],
        )


# --- associate PINs -------------------------------------------------------------


def check_associate_pin(
    storage: Storage, associate_id: int, pin: object, *, now: datetime | None = None
) -> None:
    """An associate's PIN, with a 5-tries / 5-minutes lockout per associate,
    counted before the hash is checked (cxlog/lockout.py)."""
    with storage.read() as db:
        rows = list(db.query("SELECT name, pin_hash FROM associates WHERE id = ?", [associate_id]))
    if not rows:
        raise ValidationError("That associate does not exist.")
    stored = rows[0]["pin_hash"]
    if stored is None:
        raise ValidationError(f"No PIN is set for {rows[0]['name']} yet; ask a manager.")
    lockout.checked_attempt(
        storage,
        f"associate:{associate_id}",
        "PIN",
        lambda: isinstance(pin, str) and verify_secret(pin, stored),
        client=None,
        now=now,
    )


def set_pin(storage: Storage, associate_id: int, pin: str | None, *, actor: str) -> None:
    """Set (4–8 digits) or clear an associate's PIN; only its hash is stored."""
    from cxlog.catalog import set_associate_pin_hash

    pin_hash = None if pin is None else hash_secret(check_pin(pin))
    set_associate_pin_hash(storage, associate_id, pin_hash, actor=actor)
