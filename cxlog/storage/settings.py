"""The store-wide settings table: a small key → text store, every change audited."""

from __future__ import annotations

import json
from dataclasses import dataclass

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


# Issue #30: a store's time to greet: whether its pad offers the arrival tap,
# its greeting standard, after how long a waiting arrival is closed as "left
# before greeting", the wait bands' edges after the standard and the on-time
# goal. One JSON value per store ("time_to_greet:7"); the checks and the
# writes are cxlog/greeting/rules.py's (a new standard recomputes sums).
TIME_TO_GREET = "time_to_greet"


@dataclass(frozen=True)
class GreetRules:
    on: bool = False
    standard: int = 30  # seconds: greeted within it is on time
    limit: int = 30  # minutes a waiting arrival stays open
    bands: tuple[int, ...] = (120,)  # seconds: the bands' edges after the standard
    goal: float | None = None  # the on-time rate's goal, 0–1

    def as_json(self) -> str:
        return json.dumps(
            {
                "on": self.on,
                "standard": self.standard,
                "limit": self.limit,
                "bands": list(self.bands),
                "goal": self.goal,
            },
            sort_keys=True,
        )


def _greet_rules(value: str | None) -> GreetRules:
    if not value:
        return GreetRules()
    try:
        raw = json.loads(value)
        return GreetRules(
            bool(raw["on"]),
            int(raw["standard"]),
            int(raw["limit"]),
            tuple(int(b) for b in raw["bands"]),
            None if raw.get("goal") is None else float(raw["goal"]),
        )
    except (ValueError, KeyError, TypeError):
        # Only cxlog writes it, checked; a hand-edited value falls back to
        # the defaults (off) rather than stop every tap of the store.
        return GreetRules()


def greet_rules_in(db, store_ids: list[int]) -> dict[int, GreetRules]:
    """Each store's time-to-greet rules (the defaults, off, where none is set)."""
    keys = [store_key(TIME_TO_GREET, s) for s in store_ids]
    values = _values(db, keys) if keys else {}
    return {s: _greet_rules(values.get(k)) for s, k in zip(store_ids, keys, strict=True)}


def greet_rules(storage: Storage, store_id: int) -> GreetRules:
    with storage.read() as db:
        return greet_rules_in(db, [store_id])[store_id]
