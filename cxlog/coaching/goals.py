"""Per-store goals, currency and the daily focus (issue #14).

A manager sets, per store, goals for warm rate, conversion and units per
sale, the store's currency (ISO 4217), and each day's *focus*: one behaviour
picked from an editable list. A behaviour may name the number that shows
whether it happened (``measure``), so the huddle can check yesterday's focus
against the day's visits; one without a measure is simply named.

Every change is one transaction with its audit row. No Streamlit here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from cxlog.core import model, money
from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.core.model import to_utc_text, utc_now
from cxlog.core.money import check_currency
from cxlog.language.words import N_, _
from cxlog.storage.db import Storage, audit

# What a behaviour can be checked against: the share of visits with …
# (SQL over `visits v LEFT JOIN reasons r ON r.id = v.reason_id`). The key is
# stored; the words are shown through ``_``.
MEASURES: dict[str, tuple[str, str]] = {
    "warm": (N_("a warm first engagement"), "v.first_engagement = 'warm'"),
    "learned": (N_("the reason learned"), "coalesce(r.learned, 0) = 1"),
    "used_name": (N_("the customer's name used"), "v.used_name = 1"),
    "recommended": (N_("a product recommended"), "v.recommended = 1"),
}


@dataclass(frozen=True)
class StoreGoals:
    """A store's coaching settings; None where nothing is set."""

    store_id: int
    currency: str | None = None
    warm_rate: float | None = None  # 0–1
    conversion: float | None = None  # 0–1
    units_per_sale: float | None = None


def store_goals(storage: Storage, store_id: int) -> StoreGoals:
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT currency, warm_rate_goal, conversion_goal, ups_goal"
                " FROM store_coaching WHERE store_id = ?",
                [store_id],
            )
        )
    if not rows:
        return StoreGoals(store_id)
    r = rows[0]
    return StoreGoals(
        store_id, r["currency"], r["warm_rate_goal"], r["conversion_goal"], r["ups_goal"]
    )


def selection_currency(
    storage: Storage, store_id: int | None, store_ids: Iterable[int]
) -> str | None:
    """The currency of a dashboard selection: its store's, or the one all the
    stores share (None when they differ or one has none: amounts then show
    without a symbol rather than in a wrong one)."""
    codes = currencies(storage)
    shown = [store_id] if store_id else [s for s in store_ids if s in codes]
    return money.shared(codes.get(s) for s in shown)


def currencies(storage: Storage) -> dict[int, str | None]:
    """Every store's currency code (None where none is set)."""
    with storage.read() as db:
        return {
            r["id"]: r["currency"]
            for r in db.query(
                "SELECT s.id, c.currency FROM stores s"
                " LEFT JOIN store_coaching c ON c.store_id = s.id"
            )
        }


# A percentage goal's two refusals, by the goal's column.
_NOT_A_NUMBER = {
    "warm_rate_goal": N_("The warm rate goal must be a number from 0 to 100."),
    "conversion_goal": N_("The conversion goal must be a number from 0 to 100."),
}
_OUT_OF_RANGE = {
    "warm_rate_goal": N_("The warm rate goal must be from 0 to 100%, not {number}."),
    "conversion_goal": N_("The conversion goal must be from 0 to 100%, not {number}."),
}


def _share(value: object, goal: str) -> float | None:
    """A goal typed as a percentage (0–100), stored as a fraction; ``goal``:
    its column."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(_(_NOT_A_NUMBER[goal])) from None
    if not 0 <= number <= 100:
        raise ValidationError(_(_OUT_OF_RANGE[goal]).format(number=f"{number:g}"))
    return round(number / 100, 4)


def _ups(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(_("The units-per-sale goal must be a number.")) from None
    if not model.MIN_UNITS <= number <= model.MAX_UNITS:
        raise ValidationError(
            _("The units-per-sale goal must be from {low} to {high}.").format(
                low=model.MIN_UNITS, high=model.MAX_UNITS
            )
        )
    return round(number, 2)


def _upsert(db, store_id: int, changes: dict, actor: str) -> None:
    if not list(db.query("SELECT id FROM stores WHERE id = ?", [store_id])):
        raise NotFoundError(_("That store does not exist."))
    before = list(db.query("SELECT * FROM store_coaching WHERE store_id = ?", [store_id]))
    db.execute(
        "INSERT INTO store_coaching (store_id) VALUES (?) ON CONFLICT DO NOTHING", [store_id]
    )
    sets = ", ".join(f"{column} = ?" for column in changes)
    db.execute(
        f"UPDATE store_coaching SET {sets} WHERE store_id = ?", [*changes.values(), store_id]
    )
    was = before[0] if before else {}
    audit(db, actor, "update", "store_coaching", store_id, before=was, after=changes)


def set_goals(
    storage: Storage,
    store_id: int,
    *,
    warm_rate_percent: object = None,
    conversion_percent: object = None,
    units_per_sale: object = None,
    actor: str,
) -> StoreGoals:
    """Replace the store's three goals (an empty one clears that goal)."""
    changes = {
        "warm_rate_goal": _share(warm_rate_percent, "warm_rate_goal"),
        "conversion_goal": _share(conversion_percent, "conversion_goal"),
        "ups_goal": _ups(units_per_sale),
    }
    with storage.write() as db:
        _upsert(db, store_id, changes, actor)
    return store_goals(storage, store_id)


def set_currency(storage: Storage, store_id: int, code: object, *, actor: str) -> str:
    code = check_currency(code)
    with storage.write() as db:
        _upsert(db, store_id, {"currency": code}, actor)
    return code


# --- behaviours -----------------------------------------------------------------


def _measure(value: object) -> str | None:
    if value in (None, ""):
        return None
    if value not in MEASURES:
        raise ValidationError(_("Unknown measure {measure}.").format(measure=repr(value)))
    return str(value)


def list_behaviours(storage: Storage, *, active_only: bool = True) -> list[dict]:
    sql = "SELECT id, name, position, active, measure FROM behaviours"
    if active_only:
        sql += " WHERE active = 1"
    with storage.read() as db:
        return list(db.query(sql + " ORDER BY position, id"))


def _refuse_duplicate(db, name: str, exclude_id: int | None) -> None:
    if list(
        db.query(
            "SELECT id FROM behaviours WHERE active = 1 AND lower(name) = lower(?) AND id IS NOT ?",
            [name, exclude_id],
        )
    ):
        raise ValidationError(_("The list already has {name}.").format(name=repr(name)))


def add_behaviour(storage: Storage, name: str, measure: object = None, *, actor: str) -> int:
    name = model.clean_text(name, "behaviour")
    measure = _measure(measure)
    with storage.write() as db:
        _refuse_duplicate(db, name, None)
        (position,) = db.execute(
            "SELECT coalesce(max(position), -1) + 1 FROM behaviours"
        ).fetchone()
        (behaviour_id,) = db.execute(
            "INSERT INTO behaviours (name, position, measure) VALUES (?, ?, ?) RETURNING id",
            [name, position, measure],
        ).fetchone()
        audit(
            db,
            actor,
            "create",
            "behaviour",
            behaviour_id,
            after={"name": name, "measure": measure},
        )
        return behaviour_id


def _behaviour(db, behaviour_id: int) -> dict:
    rows = list(
        db.query("SELECT id, name, active, measure FROM behaviours WHERE id = ?", [behaviour_id])
    )
    if not rows:
        raise NotFoundError(_("That behaviour does not exist."))
    return rows[0]


def rename_behaviour(storage: Storage, behaviour_id: int, name: str, *, actor: str) -> None:
    name = model.clean_text(name, "behaviour")
    with storage.write() as db:
        before = _behaviour(db, behaviour_id)
        _refuse_duplicate(db, name, behaviour_id)
        db.execute("UPDATE behaviours SET name = ? WHERE id = ?", [name, behaviour_id])
        audit(
            db,
            actor,
            "rename",
            "behaviour",
            behaviour_id,
            before={"name": before["name"]},
            after={"name": name},
        )


def set_behaviour_active(storage: Storage, behaviour_id: int, active: bool, *, actor: str) -> None:
    with storage.write() as db:
        before = _behaviour(db, behaviour_id)
        if active and not before["active"]:
            _refuse_duplicate(db, before["name"], behaviour_id)
        db.execute("UPDATE behaviours SET active = ? WHERE id = ?", [int(active), behaviour_id])
        audit(
            db,
            actor,
            "restore" if active else "retire",
            "behaviour",
            behaviour_id,
            before={"active": before["active"]},
            after={"active": int(active)},
        )


# --- the daily focus --------------------------------------------------------------


def set_focus(storage: Storage, store_id: int, day: date, behaviour_id: int, *, actor: str) -> None:
    """The store's focus for one of its local days (replaces an earlier pick)."""
    with storage.write() as db:
        if not list(db.query("SELECT id FROM stores WHERE id = ?", [store_id])):
            raise NotFoundError(_("That store does not exist."))
        behaviour = _behaviour(db, behaviour_id)
        if not behaviour["active"]:
            raise ValidationError(
                _("{name} has been retired; pick another.").format(name=repr(behaviour["name"]))
            )
        db.execute(
            "INSERT INTO daily_focus (store_id, day, behaviour_id, set_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (store_id, day) DO UPDATE SET behaviour_id = excluded.behaviour_id,"
            " set_at = excluded.set_at",
            [store_id, day.isoformat(), behaviour_id, to_utc_text(utc_now())],
        )
        audit(
            db,
            actor,
            "set_focus",
            "daily_focus",
            f"{store_id}:{day.isoformat()}",
            after={"behaviour_id": behaviour_id},
        )


def focus_on(storage: Storage, store_id: int, day: date) -> dict | None:
    """The behaviour picked for that day ({id, name, measure}), or None."""
    with storage.read() as db:
        rows = list(
            db.query(
                "SELECT b.id, b.name, b.measure FROM daily_focus f"
                " JOIN behaviours b ON b.id = f.behaviour_id"
                " WHERE f.store_id = ? AND f.day = ?",
                [store_id, day.isoformat()],
            )
        )
    return rows[0] if rows else None
