"""Stores, associates and the two configurable lists (reasons for visit and
no-sale reasons). Nothing is ever deleted: renaming keeps history attached,
deactivating or retiring only hides an entry from the Log page."""

from __future__ import annotations

from cxlog.calendar import localtimes
from cxlog.core import model
from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.core.model import to_utc_text, utc_now
from cxlog.language.words import _
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
            _("That store does not exist."),
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
            _("That store does not exist."),
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
        _one(db, "SELECT id FROM stores WHERE id = ?", [store_id], _("That store does not exist."))
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
        raise ValidationError(
            _("An active associate is already called {name}.").format(name=repr(name))
        )


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
            _("That associate does not exist."),
        )


def rename_associate(storage: Storage, associate_id: int, name: str, *, actor: str) -> None:
    name = model.clean_text(name, "associate's name")
    with storage.write() as db:
        before = _one(
            db,
            "SELECT store_id, name FROM associates WHERE id = ?",
            [associate_id],
            _("That associate does not exist."),
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
            _("That associate does not exist."),
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
            _("That associate does not exist."),
        )
        db.execute("UPDATE associates SET pin_hash = ? WHERE id = ?", [pin_hash, associate_id])
        # The hash itself never goes into the audit trail.
        audit(db, actor, "set_pin" if pin_hash else "clear_pin", "associate", associate_id)


# --- reasons and no-sale reasons --------------------------------------------


# Issue #28: the two lists are the chain's, and a store may keep its own
# beside them: entries only it offers (``reasons.store_id``) and chain entries
# it does not offer (``reasons_hidden``). A chain entry keeps one id in every
# store, so the chain's view and the dashboard compare like with like.


def list_reasons(
    storage: Storage,
    kind: str,
    *,
    active_only: bool = True,
    store_id: int | None = None,
    every: bool = False,
) -> list[dict]:
    """A list in its managers' order: the chain's (no ``store_id``), or what
    a store offers (``store_id``: the chain's entries, then its own; with
    ``active_only=False`` the ones it hides too, marked ``hidden`` and not
    active there), or (``every``) every entry of every store, for names."""
    kind = model.list_kind(kind)
    args: list = [store_id, kind]
    where = "r.kind = ?"
    if store_id is not None:
        where += " AND (r.store_id IS NULL OR r.store_id = ?)"
        args.append(store_id)
    elif not every:
        where += " AND r.store_id IS NULL"
    if active_only:
        where += " AND r.active = 1 AND h.reason_id IS NULL"
    sql = (
        "SELECT r.id, r.name, r.position, r.learned, r.store_id,"
        " CASE WHEN h.reason_id IS NULL THEN r.active ELSE 0 END AS active,"
        " CASE WHEN h.reason_id IS NULL THEN 0 ELSE 1 END AS hidden"
        " FROM reasons r LEFT JOIN reasons_hidden h ON h.reason_id = r.id AND h.store_id = ?"
        f" WHERE {where} ORDER BY (r.store_id IS NOT NULL), r.store_id, r.position, r.id"
    )
    with storage.read() as db:
        return list(db.query(sql, args))


def _refuse_duplicate_reason(
    db: Database, kind: str, name: str, exclude_id: int | None, store_id: int | None
) -> None:
    # A chain entry may not repeat any store's own (that store would offer
    # the name twice); a store's own may not repeat the chain's or its own.
    where = "" if store_id is None else " AND (store_id IS NULL OR store_id = ?)"
    clash = list(
        db.query(
            "SELECT id FROM reasons WHERE kind = ? AND active = 1 AND lower(name) = lower(?)"
            f" AND id IS NOT ?{where}",
            [kind, name, exclude_id, *([store_id] if store_id is not None else [])],
        )
    )
    if clash:
        raise ValidationError(_("The list already has {name}.").format(name=repr(name)))


def add_reason(
    storage: Storage, kind: str, name: str, *, actor: str, store_id: int | None = None
) -> int:
    """A new entry at the end of the chain's list, or (``store_id``) of that
    store's own."""
    kind = model.list_kind(kind)
    name = model.clean_text(name, "list entry")
    with storage.write() as db:
        if store_id is not None:
            _one(
                db,
                "SELECT id FROM stores WHERE id = ?",
                [store_id],
                _("That store does not exist."),
            )
        _refuse_duplicate_reason(db, kind, name, None, store_id)
        position = next(
            db.query(
                "SELECT coalesce(max(position), -1) + 1 AS p FROM reasons"
                " WHERE kind = ? AND store_id IS ?",
                [kind, store_id],
            )
        )["p"]
        (reason_id,) = db.execute(
            "INSERT INTO reasons (kind, name, position, store_id) VALUES (?, ?, ?, ?) RETURNING id",
            [kind, name, position, store_id],
        ).fetchone()
        audit(db, actor, "create", kind, reason_id, after={"name": name}, store_id=store_id)
    return reason_id


def _get_reason(db: Database, reason_id: int) -> dict:
    return _one(
        db,
        "SELECT id, kind, name, active, learned, store_id FROM reasons WHERE id = ?",
        [reason_id],
        _("That list entry does not exist."),
    )


def reason_store(storage: Storage, reason_id: int) -> int | None:
    """The store whose own entry this is; None for the chain's."""
    with storage.read() as db:
        return _get_reason(db, reason_id)["store_id"]


def rename_reason(storage: Storage, reason_id: int, name: str, *, actor: str) -> None:
    name = model.clean_text(name, "list entry")
    with storage.write() as db:
        before = _get_reason(db, reason_id)
        _refuse_duplicate_reason(db, before["kind"], name, reason_id, before["store_id"])
        db.execute("UPDATE reasons SET name = ? WHERE id = ?", [name, reason_id])
        audit(
            db,
            actor,
            "rename",
            before["kind"],
            reason_id,
            before={"name": before["name"]},
            after={"name": name},
            store_id=before["store_id"],
        )


def set_reason_active(storage: Storage, reason_id: int, active: bool, *, actor: str) -> None:
    with storage.write() as db:
        before = _get_reason(db, reason_id)
        if active and not before["active"]:
            _refuse_duplicate_reason(
                db, before["kind"], before["name"], reason_id, before["store_id"]
            )
        db.execute("UPDATE reasons SET active = ? WHERE id = ?", [int(active), reason_id])
        audit(
            db,
            actor,
            "restore" if active else "retire",
            before["kind"],
            reason_id,
            before={"active": before["active"]},
            after={"active": int(active)},
            store_id=before["store_id"],
        )


def set_reason_hidden(
    storage: Storage, store_id: int, reason_id: int, hidden: bool, *, actor: str
) -> None:
    """Whether a store offers one of the chain's entries (issue #28)."""
    with storage.write() as db:
        _one(db, "SELECT id FROM stores WHERE id = ?", [store_id], _("That store does not exist."))
        entry = _get_reason(db, reason_id)
        if entry["store_id"] is not None:
            raise ValidationError(_("Only an entry of every store's list can be hidden at one."))
        if hidden:
            db.execute(
                "INSERT INTO reasons_hidden (store_id, reason_id) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                [store_id, reason_id],
            )
        else:
            db.execute(
                "DELETE FROM reasons_hidden WHERE store_id = ? AND reason_id = ?",
                [store_id, reason_id],
            )
        audit(
            db,
            actor,
            "hide" if hidden else "show",
            entry["kind"],
            reason_id,
            after={"hidden": int(hidden)},
            store_id=store_id,
        )


def move_reason(storage: Storage, kind: str, reason_id: int, step: int, *, actor: str) -> None:
    """Move an entry in use ``step`` places up (-1) or down (+1) its list
    (the chain's, or its store's own); at either end it stays."""
    kind = model.list_kind(kind)
    with storage.read() as db:
        owner = _get_reason(db, reason_id)["store_id"]
        order = [
            r["id"]
            for r in db.query(
                "SELECT id FROM reasons WHERE kind = ? AND store_id IS ? AND active = 1"
                " ORDER BY position, id",
                [kind, owner],
            )
        ]
    if reason_id not in order:
        raise ValidationError(
            _("Only an entry in use has a place in the list; use it again first.")
        )
    i = order.index(reason_id)
    j = min(max(i + step, 0), len(order) - 1)
    order[i], order[j] = order[j], order[i]
    reorder_reasons(storage, kind, order, actor=actor)


def reorder_reasons(storage: Storage, kind: str, ordered_ids: list[int], *, actor: str) -> None:
    kind = model.list_kind(kind)
    with storage.write() as db:
        known = {row["id"] for row in db.query("SELECT id FROM reasons WHERE kind = ?", [kind])}
        if set(ordered_ids) - known or len(set(ordered_ids)) != len(ordered_ids):
            raise ValidationError(_("The new order does not match the list; reload and try again."))
        db.executemany(
            "UPDATE reasons SET position = ? WHERE id = ?",
            [(position, reason_id) for position, reason_id in enumerate(ordered_ids)],
        )
        audit(db, actor, "reorder", kind, "*", after={"order": ordered_ids})


def active_reason(db: Database, reason_id: int, kind: str, store_id: int | None = None) -> dict:
    """The reason if it may be used on a new tap (at ``store_id``: one the
    store offers); raises otherwise."""
    reason = _get_reason(db, reason_id)
    if reason["kind"] != kind:
        raise ValidationError(_("That entry belongs to another list."))
    if not reason["active"]:
        raise ValidationError(
            _("{name} has been retired; pick another.").format(name=repr(reason["name"]))
        )
    if store_id is not None:
        hidden = list(
            db.query(
                "SELECT 1 FROM reasons_hidden WHERE store_id = ? AND reason_id = ?",
                [store_id, reason_id],
            )
        )
        if hidden or reason["store_id"] not in (None, store_id):
            raise ValidationError(
                _("{name} is not on this store's list; pick another.").format(
                    name=repr(reason["name"])
                )
            )
    return reason


def pickable(rows: list[dict], current: int | None) -> list[int]:
    """The ids a correction may pick from a list (associates, reasons): those
    in use, and the one the visit has now even if retired since, so a
    correction never silently changes it."""
    return [r["id"] for r in rows if r["active"] or r["id"] == current]
