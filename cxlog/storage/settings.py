"""The store-wide settings table: a small key → text store, every change audited."""

from __future__ import annotations

from cxlog.core.errors import ValidationError
from cxlog.language import words
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


# Issue #28: the PIN rule and the idle time are the chain's, unless a store
# sets its own ("pin_required:7" beside "pin_required"); removing a store's
# own value returns it to the chain's.


def store_key(key: str, store_id: int) -> str:
    return f"{key}:{store_id}"


def _values(db, keys: list[str]) -> dict[str, str]:
    marks = ", ".join("?" * len(keys))
    sql = f"SELECT key, value FROM settings WHERE key IN ({marks})"
    return {r["key"]: r["value"] for r in db.query(sql, keys)}


def store_own(storage: Storage, key: str, store_id: int) -> str | None:
    """The store's own value of a setting, None when it follows the chain."""
    return get_setting(storage, store_key(key, store_id))


def set_store_own(
    storage: Storage, key: str, store_id: int, value: str | None, *, actor: str
) -> None:
    """Give a store its own value of a chain setting, or (None) return it to the chain's."""
    name = store_key(key, store_id)
    with storage.write() as db:
        if not list(db.query("SELECT 1 FROM stores WHERE id = ?", [store_id])):
            raise ValidationError(words._("That store does not exist."))
        rows = list(db.query("SELECT value FROM settings WHERE key = ?", [name]))
        before = rows[0]["value"] if rows else None
        if value is None:
            db.execute("DELETE FROM settings WHERE key = ?", [name])
        else:
            put_setting(db, name, value)
        audit(
            db,
            actor,
            "setting",
            "settings",
            name,
            before={name: before},
            after={name: value},
            store_id=store_id,
        )


def pin_required(storage: Storage, store_id: int | None = None) -> bool:
    """Whether associates need a PIN: the store's own rule, else the chain's."""
    with storage.read() as db:
        keys = [PIN_REQUIRED] + ([store_key(PIN_REQUIRED, store_id)] if store_id else [])
        values = _values(db, keys)
    own = values.get(keys[-1]) if store_id else None
    return (own if own is not None else values.get(PIN_REQUIRED, "0")) == "1"


def set_pin_rule(storage: Storage, store_id: int, rule: str, *, actor: str) -> None:
    """``rule``: "chain" (the chain's rule), "on" or "off" (the store's own)."""
    if rule not in ("chain", "on", "off"):
        raise ValidationError(words._("Pick the chain's rule, on or off."))
    value = None if rule == "chain" else "1" if rule == "on" else "0"
    set_store_own(storage, PIN_REQUIRED, store_id, value, actor=actor)


def _minutes(value: str | None) -> int:
    return int(value) if value and value.isdigit() else DEFAULT_IDLE_MINUTES


def idle_minutes_in(db, stores: tuple[int, ...] | None = None) -> int:
    """The idle time of a session whose account has these stores: the
    shortest of theirs (each its own, else the chain's); an account that sees
    every store (``None``) follows the chain's."""
    keys = [IDLE_MINUTES, *(store_key(IDLE_MINUTES, s) for s in stores or ())]
    values = _values(db, keys)
    chain = _minutes(values.get(IDLE_MINUTES))
    if not stores:
        return chain
    return min(_minutes(values[k]) if k in values else chain for k in keys[1:])


def idle_minutes(storage: Storage, stores: tuple[int, ...] | None = None) -> int:
    with storage.read() as db:
        return idle_minutes_in(db, stores)


def longest_idle_minutes_in(db) -> int:
    """The longest idle time any session may have (the chain's or a store's)."""
    rows = {
        r["key"]: r["value"]
        for r in db.query(
            "SELECT key, value FROM settings WHERE key = ? OR key LIKE ?",
            [IDLE_MINUTES, IDLE_MINUTES + ":%"],
        )
    }
    own = (_minutes(value) for key, value in rows.items() if key != IDLE_MINUTES)
    return max([_minutes(rows.get(IDLE_MINUTES)), *own])


def _idle_value(minutes: object) -> str:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= 480:
        raise ValidationError(
            words._("The idle time must be a whole number of minutes from 5 to 480.")
        )
    return str(minutes)


def set_idle_minutes(storage: Storage, minutes: object, *, actor: str) -> None:
    set_setting(storage, IDLE_MINUTES, _idle_value(minutes), actor=actor)


def set_store_idle_minutes(
    storage: Storage, store_id: int, minutes: object | None, *, actor: str
) -> None:
    """A store's own idle time, or (None) the chain's."""
    value = None if minutes is None else _idle_value(minutes)
    set_store_own(storage, IDLE_MINUTES, store_id, value, actor=actor)


# Issue #29: the store's language. The chain may fix one for every store; a
# store may fix its own; where neither is fixed, each device starts from its
# browser's language.
LANGUAGE = "language"


def language_in(db, store_id: int | None = None) -> str | None:
    """The language the store (or, without one, the chain) has fixed, or None."""
    keys = [LANGUAGE] + ([store_key(LANGUAGE, store_id)] if store_id else [])
    values = _values(db, keys)
    own = values.get(keys[-1]) if store_id else None
    return words.supported(own if own is not None else values.get(LANGUAGE))


def store_language(storage: Storage, store_id: int | None = None) -> str | None:
    """``language_in`` through its own read."""
    with storage.read() as db:
        return language_in(db, store_id)


def set_language(storage: Storage, lang: str | None, *, actor: str) -> None:
    """The chain's language ("" or None: each device its browser's)."""
    if lang and not words.supported(lang):
        raise ValidationError(words._("cxlog does not speak that language yet."))
    with storage.write() as db:
        if lang:
            before = put_setting(db, LANGUAGE, lang)
        else:
            rows = list(db.query("SELECT value FROM settings WHERE key = ?", [LANGUAGE]))
            before = rows[0]["value"] if rows else None
            db.execute("DELETE FROM settings WHERE key = ?", [LANGUAGE])
        audit(
            db,
            actor,
            "setting",
            "settings",
            LANGUAGE,
            before={LANGUAGE: before},
            after={LANGUAGE: lang or None},
        )


def set_store_language(storage: Storage, store_id: int, lang: str | None, *, actor: str) -> None:
    """A store's own language, or (None) the chain's."""
    if lang and not words.supported(lang):
        raise ValidationError(words._("cxlog does not speak that language yet."))
    set_store_own(storage, LANGUAGE, store_id, lang or None, actor=actor)
