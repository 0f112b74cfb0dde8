"""The store-wide settings table: a small key → text store, every change audited."""

from __future__ import annotations

from cxlog.core.errors import ValidationError
from cxlog.storage.db import Storage, audit

PIN_REQUIRED = "pin_required"
IDLE_MINUTES = "manager_idle_minutes"
DEFAULT_IDLE_MINUTES = 30


def get_setting(storage: Storage, key: str, default: str | None = None) -> str | None:
    with storage.read() as db:
        rows = list(db.query("SELECT value FROM settings WHERE key = ?", [key]))
    return rows[0]["value"] if rows else default


def put_setting(db, key: str, value: str) -> str | None:
    """Set a key inside the caller's transaction; returns the value before."""
    rows = list(db.query("SELECT value FROM settings WHERE key = ?", [key]))
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
    return rows[0]["value"] if rows else None


def set_setting(storage: Storage, key: str, value: str, *, actor: str) -> None:
    with storage.write() as db:
        before = put_setting(db, key, value)
        audit(db, actor, "setting", "settings", key, before={key: before}, after={key: value})


def pin_required(storage: Storage) -> bool:
    return get_setting(storage, PIN_REQUIRED, "0") == "1"


def idle_minutes(storage: Storage) -> int:
    value = get_setting(storage, IDLE_MINUTES, str(DEFAULT_IDLE_MINUTES))
    return int(value) if value and value.isdigit() else DEFAULT_IDLE_MINUTES


def set_idle_minutes(storage: Storage, minutes: object, *, actor: str) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= 480:
        raise ValidationError("The idle time must be a whole number of minutes from 5 to 480.")
    set_setting(storage, IDLE_MINUTES, str(minutes), actor=actor)
