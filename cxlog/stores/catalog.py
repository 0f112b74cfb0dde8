"""Stores, associates and the two configurable lists (reasons for visit and
no-sale reasons). Nothing is ever deleted: renaming keeps history attached,
deactivating or retiring only hides an entry from the Log page."""

from __future__ import annotations

from cxlog.calendar import localtimes
from cxlog.core import model
from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.core.model import to_utc_text, utc_now
from cxlog.numbers import derived
from cxlog.storage.db import Storage, audit
from cxlog.storage.engine import Database


def _one(db: Database, sql: str, params: list, missing: str) -> dict:
    rows = list(db.query(sql, params))
    if not rows:
        raise NotFoundError(missing)
    return rows[0]


# --- stores -----------------------------------------------------------------


def create_store(storage: Storage, name: str, timezone: str, actor: str = "system") -> int:
    name = model.clean_text(name, "store name")
    timezone = model.timezone_name(timezone)
    with storage.write() as db:
        return insert_store(db, name, timezone, actor)


def insert_store(db, name: str, timezone: str, actor: str) -> int:
    """Inside the caller's transaction: a store whose name and zone are checked."""
    (store_id,) = db.execute(
        "INSERT INTO stores (name, timezone, created_at) VALUES (?, ?, ?) RETURNING id",
        [name, timezone, to_utc_text(utc_now())],
    ).fetchone()
    audit(db, actor, "create", "store", store_id, after={"name": name, "timezone": timezone})
    return store_id


def list_stores(storage: Storage) -> list[dict]:
    with storage.read() as db:
        return list(db.query("SELECT id, name, timezone FROM stores ORDER BY id"))


def get_store(storage: Storage, store_id: int) -> dict:
    with storage.read() as db:
        return _one(
            db,
            "SELECT id, name, timezone FROM stores WHERE id = ?",
            [store_id],
            "That store does not exist.",
        )


def update_store(
    storage: Storage,
    store_id: int,
    *,
    name: str | None = None,
    timezone: str | None = None,
    actor: str,
) -> None:
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = model.clean_text(name, "store name")
    if timezone is not None:
        changes["timezone"] = model.timezone_name(timezone)
    if not changes:
        return
    with storage.write() as db:
        before = _one(
            db,
            "SELECT name, timezone FROM stores WHERE id = ?",
            [store_id],
            "That store does not exist.",
        )
        sets = ", ".join(f"{column} = ?" for column in changes)
        db.execute(f"UPDATE stores SET {sets} WHERE id = ?", [*changes.values(), store_id])
        if changes.get("timezone", before["timezone"]) != before["timezone"]:
            # Local days and hours move with the zone: recount the store (#12).
            derived.rebuild(db, [store_id])
            localtimes.fill(db, [store_id])  # its visits' local times too
        audit(
            db, actor, "update", "store", store_id, before=before, after=changes, store_id=store_id
        )


# --- associates -------------------------------------------------------------


def add_associate(
    storage: Storage,
    store_id: int,
    name: str,
    *,
    actor: str,
    pin_hash: str | None = None,
) -> int:
    name = model.clean_text(name, "associate's name")
    with storage.write() as db:
        _one(db, "SELECT id FROM stores WHERE id = ?", [store_id], "That store does not exist.")
        _refuse_duplicate_associate(db, store_id, name, exclude_id=None)
        (associate_id,) = db.execute(
            "INSERT INTO associates (store_id, name, pin_hash, created_at) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            [store_id, name, pin_hash, to_utc_text(utc_now())],
        ).fetchone()
        audit(db, actor, "create", "associate", associate_id, after={"name": name})
    return associate_id


def _refuse_duplicate_associate(
    db: Database, store_id: int, name: str, exclude_id: int | None
) -> None:
    clash = list(
        db.query(
            "SELECT id FROM associates WHERE store_id = ? AND active = 1"
            " AND lower(name) = lower(?) AND id IS NOT ?",
            [store_id, name, exclude_id],
        )
    )
    if clash:
        raise ValidationError(f"An active associate is already called {name!r}.")


def list_associates(
    storage: Storage, store_id: int | None = None, *, active_only: bool = False
) -> list[dict]:
    where, params = [], []
    if store_id is not None:
        where.append("store_id = ?")
        params.append(store_id)
    if active_only:
        where.append("active = 1")
    sql = "SELECT id, store_id, name, active, pin_hash IS NOT NULL AS has_pin FROM associates"
    if where:
        sql += " WHERE " + " AND ".join(where)
    with storage.read() as db:
        return list(db.query(sql + " ORDER BY name COLLATE NOCASE, id", params))


def get_associate(storage: Storage, associate_id: int) -> dict:
    with storage.read() as db:
        return _one(
            db,
            "SELECT id, store_id, name, active, pin_hash FROM associates WHERE id = ?",
            [associate_id],
            "That associate does not exist.",
        )


def rename_associate(storage: Storage, associate_id: int, name: str, *, actor: str) -> None:
    name = model.clean_text(name, "associate's name")
    with storage.write() as db:
        before = _one(
            db,
            "SELECT store_id, name FROM associates WHERE id = ?",
            [associate_id],
            "That associate does not exist.",
        )
        _refuse_duplicate_associate(db, before["store_id"], name, exclude_id=associate_id)
        db.execute("UPDATE associates SET name = ? WHERE id = ?", [name, associate_id])
        audit(
            db,
            actor,
            "rename",
            "associate",
            associate_id,
            before={"name": before["name"]},
            after={"name": name},
        )


def set_associate_active(storage: Storage, associate_id: int, active: bool, *, actor: str) -> None:
    with storage.write() as db:
        before = _one(
            db,
            "SELECT store_id, name, active FROM associates WHERE id = ?",
            [associate_id],
            "That associate does not exist.",
        )
        if active and not before["active"]:
            _refuse_duplicate_associate(db, before["store_id"], before["name"], associate_id)
        db.execute("UPDATE associates SET active = ? WHERE id = ?", [int(active), associate_id])
        audit(
            db,
            actor,
            "activate" if active else "deactivate",
            "associate",
            associate_id,
            before={"active": before["active"]},
            after={"active": int(active)},
        )


def set_associate_pin_hash(
    storage: Storage, associate_id: int, pin_hash: str | None, *, actor: str
) -> None:
    with storage.write() as db:
        _one(
            db,
            "SELECT id FROM associates WHERE id = ?",
            [associate_id],
            "That associate does not exist.",
        )
        db.execute("UPDATE associates SET pin_hash = ? WHERE id = ?", [pin_hash, associate_id])
        # The hash itself never goes into the audit trail.
        audit(db, actor, "set_pin" if pin_hash else "clear_pin", "associate", associate_id)


# --- reasons and no-sale reasons --------------------------------------------


def list_reasons(storage: Storage, kind: str, *, active_only: bool = True) -> list[dict]:
    kind = model.list_kind(kind)
    sql = "SELECT id, name, position, active, learned FROM reasons WHERE kind = ?"
    if active_only:
        sql += " AND active = 1"
    with storage.read() as db:
        return list(db.query(sql + " ORDER BY position, id", [kind]))


def _refuse_duplicate_reason(db: Database, kind: str, name: str, exclude_id: int | None) -> None:
    clash = list(
        db.query(
            "SELECT id FROM reasons WHERE kind = ? AND active = 1 AND lower(name) = lower(?)"
            " AND id IS NOT ?",
            [kind, name, exclude_id],
        )
    )
    if clash:
        raise ValidationError(f"The list already has {name!r}.")


def add_reason(storage: Storage, kind: str, name: str, *, actor: str) -> int:
    kind = model.list_kind(kind)
    name = model.clean_text(name, "list entry")
    with storage.write() as db:
        _refuse_duplicate_reason(db, kind, name, None)
        position = next(
            db.query(
                "SELECT coalesce(max(position), -1) + 1 AS p FROM reasons WHERE kind = ?", [kind]
            )
        )["p"]
        (reason_id,) = db.execute(
            "INSERT INTO reasons (kind, name, position) VALUES (?, ?, ?) RETURNING id",
            [kind, name, position],
        ).fetchone()
        audit(db, actor, "create", kind, reason_id, after={"name": name})
    return reason_id


def _get_reason(db: Database, reason_id: int) -> dict:
    return _one(
        db,
        "SELECT id, kind, name, active, learned FROM reasons WHERE id = ?",
        [reason_id],
        "That list entry does not exist.",
    )


def rename_reason(storage: Storage, reason_id: int, name: str, *, actor: str) -> None:
    name = model.clean_text(name, "list entry")
    with storage.write() as db:
        before = _get_reason(db, reason_id)
        _refuse_duplicate_reason(db, before["kind"], name, reason_id)
        db.execute("UPDATE reasons SET name = ? WHERE id = ?", [name, reason_id])
        audit(
            db,
            actor,
            "rename",
            before["kind"],
            reason_id,
            before={"name": before["name"]},
            after={"name": name},
        )


def set_reason_active(storage: Storage, reason_id: int, active: bool, *, actor: str) -> None:
    with storage.write() as db:
        before = _get_reason(db, reason_id)
        if active and not before["active"]:
            _refuse_duplicate_reason(db, before["kind"], before["name"], reason_id)
        db.execute("UPDATE reasons SET active = ? WHERE id = ?", [int(active), reason_id])
        audit(
            db,
            actor,
            "restore" if active else "retire",
            before["kind"],
            reason_id,
            before={"active": before["active"]},
            after={"active": int(active)},
        )


def move_reason(storage: Storage, kind: str, reason_id: int, step: int, *, actor: str) -> None:
    """Move an entry in use ``step`` places up (-1) or down (+1) its list;
    at either end it stays."""
    order = [r["id"] for r in list_reasons(storage, kind)]
    if reason_id not in order:
        raise ValidationError("Only an entry in use has a place in the list; use it again first.")
    i = order.index(reason_id)
    j = min(max(i + step, 0), len(order) - 1)
    order[i], order[j] = order[j], order[i]
    reorder_reasons(storage, kind, order, actor=actor)


def reorder_reasons(storage: Storage, kind: str, ordered_ids: list[int], *, actor: str) -> None:
    kind = model.list_kind(kind)
    with storage.write() as db:
        known = {row["id"] for row in db.query("SELECT id FROM reasons WHERE kind = ?", [kind])}
        if set(ordered_ids) - known or len(set(ordered_ids)) != len(ordered_ids):
            raise ValidationError("The new order does not match the list; reload and try again.")
        db.executemany(
            "UPDATE reasons SET position = ? WHERE id = ?",
            [(position, reason_id) for position, reason_id in enumerate(ordered_ids)],
        )
        audit(db, actor, "reorder", kind, "*", after={"order": ordered_ids})


def active_reason(db: Database, reason_id: int, kind: str) -> dict:
    """The reason if it may be used on a new tap; raises otherwise."""
    reason = _get_reason(db, reason_id)
    if reason["kind"] != kind:
        raise ValidationError("That entry belongs to another list.")
    if not reason["active"]:
        raise ValidationError(f"{reason['name']!r} has been retired; pick another.")
    return reason


def pickable(rows: list[dict], current: int | None) -> list[int]:
    """The ids a correction may pick from a list (associates, reasons): those
    in use, and the one the visit has now even if retired since, so a
    correction never silently changes it."""
    return [r["id"] for r in rows if r["active"] or r["id"] == current]
