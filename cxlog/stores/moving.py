"""A store moving between engines: ``python -m cxlog copy`` (#27).

A store joins a chain (its SQLite file into the chain's PostgreSQL), leaves
it (back out to a file of its own), or is kept as a portable file. Everything
happens in one transaction on the destination, reading one snapshot of the
source: a failure leaves the destination as it was.

- Into a database with no store yet, without ``--store``: every table as it
  is, ids kept (cxlog.storage.transfer), the derived tables included.
- Otherwise the chosen stores are renumbered into the destination: a store of
  the same name is that store (refused if it already has visits, unless
  ``merge``: then only visits it does not have yet are added), associates are
  matched by name within their store, reasons and behaviours by name;
  visits, follow-ups, audit, counter and till data, coaching and counter
  settings, taps and visit codes come along with the new numbers. Sign-ins,
  sessions, limits and accounts do not (each device signs in again; the
  destination's owner adds the store to its managers' accounts), nor the
  source's chain-wide settings where the destination has its own.
  The rollups and coverage sums of those stores are then rebuilt.

Either way the copy is checked before it is committed: each store's visits,
warm moments, closed visits, purchases, units and amounts, summed by the
destination's rollups, equal the source's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from cxlog.core.errors import StorageError, ValidationError
from cxlog.numbers import derived, rollups
from cxlog.storage import transfer
from cxlog.storage.db import audit
from cxlog.storage.engine import Database

# Per store, not carried over: who is signed in where, and the limits on it.
SIGN_INS = frozenset(
    {
        "shifts",
        "device_shifts",
        "role_sessions",
        "sign_in_failures",
        "sign_in_throttle",
        "device_start_limits",
        "rate_limits",
        "downloads",
        "known_devices",
        # Issue #28: accounts are the destination's; its owner gives access.
        "account_stores",
    }
)
DERIVED = frozenset({"rollups", "coverage_days", "coverage_months", "greet_sums"})
# Columns that name a row of another table, and which table's numbering.
REFERENCES = {
    "store_id": "stores",
    "associate_id": "associates",
    "closed_by": "associates",
    "promised_by": "associates",
    "result_by": "associates",
    "linked_by": "associates",
    "reason_id": "reasons",
    "no_sale_reason_id": "reasons",
    "visit_reason_id": "reasons",
    "behaviour_id": "behaviours",
}


@dataclass
class Moved:
    """What a copy did, for the sentence the command prints."""

    stores: dict[int, int] = field(default_factory=dict)  # source id → destination id
    rows: dict[str, int] = field(default_factory=dict)  # per table
    visits: int = 0
    whole: bool = False


def copy(source, target, store: str | None = None, *, merge: bool = False) -> Moved:
    """Copy ``source``'s stores (one, with ``store``: its id or exact name)
    into ``target`` (both Storage objects, either engine)."""
    if source.address == target.address:
        raise ValidationError("The source and the destination are the same database.")
    if not source.exists():
        raise ValidationError(f"There is no database at {source.shown}.")
    source.migrate()  # an older file is brought up to this cxlog's schema first
    target.migrate()
    with source.snapshot() as src, target.write() as dst:
        wanted = _chosen(src, store)
        empty = not dst.execute("SELECT count(*) FROM stores").fetchone()[0]
        if store is None and empty:
            moved = Moved(
                stores={i: i for i in wanted}, rows=transfer.copy_all(src, dst), whole=True
            )
        else:
            moved = _renumbered(src, dst, wanted, merge)
        # Recounted from the copied visits, whatever came with them.
        derived.rebuild(dst, moved.stores.values())
        _check(src, dst, moved, merge)
        moved.visits = sum(
            dst.execute("SELECT count(*) FROM visits WHERE store_id = ?", [i]).fetchone()[0]
            for i in moved.stores.values()
        )
        audit(
            dst,
            "console",
            "copy",
            "store",
            ",".join(str(i) for i in moved.stores.values()) or "*",
            after={"from": source.shown, "stores": {str(k): v for k, v in moved.stores.items()}},
        )
    return moved


def _chosen(src: Database, store: str | None) -> list[int]:
    stores = src.execute("SELECT id, name FROM stores ORDER BY id").fetchall()
    if store is None:
        return [i for i, _ in stores]
    wanted = store.strip()
    found = [i for i, name in stores if str(i) == wanted or name == wanted]
    if len(found) != 1:
        known = ", ".join(f"{i} ({name})" for i, name in stores) or "none"
        raise ValidationError(f"The source has no one store {wanted!r}. Its stores: {known}.")
    return found


def _renumbered(src: Database, dst: Database, wanted: list[int], merge: bool) -> Moved:
    stores = _stores(src, dst, wanted, merge)
    numbers: dict[str, dict[int, int]] = {
        "stores": stores,
        "reasons": _reasons(src, dst, stores),
        "behaviours": _by_name(
            src, dst, "behaviours", ("name",), ("position", "active", "measure")
        ),
    }
    numbers["associates"] = _associates(src, dst, numbers["stores"])
    moved = Moved(stores=numbers["stores"])
    ids = list(numbers["stores"])
    marks = ", ".join("?" for _ in ids)
    for table in transfer.tables(src, dst):
        if table in SIGN_INS | DERIVED or table in (
            "stores",
            "associates",
            "reasons",
            "behaviours",
        ):
            continue
        columns = transfer.shared_columns(src, dst, table)
        if "store_id" not in columns:
            if table == "settings":  # the destination's own settings win
                moved.rows[table] = _insert(
                    dst,
                    table,
                    columns,
                    src.stream("SELECT key, value FROM settings"),
                    keep_theirs=True,
                )
            continue
        # Ids of rows nothing refers to (audit, follow-ups) are the destination's.
        if table in ("audit", "followups"):
            columns = [c for c in columns if c != "id"]
        rows = transfer.rows(src, table, columns, f" WHERE store_id IN ({marks})", ids)
        renumber = [(at, numbers[REFERENCES[c]]) for at, c in enumerate(columns) if c in REFERENCES]
        moved.rows[table] = _insert(
            dst, table, columns, _renumber(rows, renumber), keep_theirs=merge
        )
    return moved


def _renumber(rows: Iterable[tuple], renumber: list[tuple[int, dict[int, int]]]) -> Iterable[tuple]:
    for row in rows:
        row = list(row)
        for at, numbering in renumber:
            if row[at] is not None:
                row[at] = numbering[row[at]]
        yield row


def _insert(
    dst: Database, table: str, columns: list[str], rows: Iterable, *, keep_theirs: bool
) -> int:
    """Load the rows; when merging, a row the destination already has (its
    key taken) is left as it is there."""
    before = dst.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if keep_theirs:
        marks = ", ".join("?" for _ in columns)
        dst.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING",
            rows,
        )
    else:
        dst.load(table, columns, rows)
    return dst.execute(f"SELECT count(*) FROM {table}").fetchone()[0] - before


def _stores(src: Database, dst: Database, wanted: list[int], merge: bool) -> dict[int, int]:
    numbering = {}
    for store_id in wanted:
        name, timezone, created_at = src.execute(
            "SELECT name, timezone, created_at FROM stores WHERE id = ?", [store_id]
        ).fetchone()
        there = dst.execute("SELECT id FROM stores WHERE name = ?", [name]).fetchall()
        if len(there) > 1:
            raise ValidationError(f"The destination has more than one store called {name!r}.")
        if there:
            (target_id,) = there[0]
            (visits,) = dst.execute(
                "SELECT count(*) FROM visits WHERE store_id = ?", [target_id]
            ).fetchone()
            if visits and not merge:
                raise ValidationError(
                    f"The store {name!r} in the destination already has {visits:,} visits."
                    " Add --merge to add the visits it does not have yet, or copy into"
                    " another database."
                )
            numbering[store_id] = target_id
        else:
            (numbering[store_id],) = dst.execute(
                "INSERT INTO stores (name, timezone, created_at) VALUES (?, ?, ?) RETURNING id",
                [name, timezone, created_at],
            ).fetchone()
    return numbering


def _by_name(src, dst, table: str, key: tuple[str, ...], rest: tuple[str, ...]) -> dict[int, int]:
    """A list's entries (reasons, behaviours) matched by name; the ones the
    destination lacks are added after its own."""
    numbering = {}
    where = " AND ".join(f"{k} = ?" for k in key)
    for row in src.execute(
        f"SELECT id, {', '.join(key + rest)} FROM {table} ORDER BY id"
    ).fetchall():
        source_id, values = row[0], list(row[1:])
        found = dst.execute(f"SELECT id FROM {table} WHERE {where}", values[: len(key)]).fetchone()
        if found is None:
            columns = ", ".join(key + rest)
            found = dst.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in values)})"
                " RETURNING id",
                values,
            ).fetchone()
        numbering[source_id] = found[0]
    return numbering


def _reasons(src: Database, dst: Database, stores: dict[int, int]) -> dict[int, int]:
    """The lists' entries matched by kind and name: the chain's with the
    chain's, a copied store's own (issue #28) with that store's own; other
    stores' own entries stay behind (no copied visit can name them)."""
    numbering = {}
    for row in src.execute(
        "SELECT id, kind, name, position, active, learned, store_id FROM reasons ORDER BY id"
    ).fetchall():
        source_id, kind, name, *rest, store_id = row
        if store_id is not None and store_id not in stores:
            continue
        owner = None if store_id is None else stores[store_id]
        found = dst.execute(
            "SELECT id FROM reasons WHERE kind = ? AND name = ? AND store_id IS ?",
            [kind, name, owner],
        ).fetchone()
        if found is None:
            found = dst.execute(
                "INSERT INTO reasons (kind, name, position, active, learned, store_id)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [kind, name, *rest, owner],
            ).fetchone()
        numbering[source_id] = found[0]
    return numbering


def _associates(src: Database, dst: Database, stores: dict[int, int]) -> dict[int, int]:
    numbering = {}
    marks = ", ".join("?" for _ in stores)
    people = src.execute(
        "SELECT id, store_id, name, active, pin_hash, created_at FROM associates"
        f" WHERE store_id IN ({marks}) ORDER BY id",
        list(stores),
    ).fetchall()
    for source_id, store_id, name, active, pin_hash, created_at in people:
        found = dst.execute(
            "SELECT id FROM associates WHERE store_id = ? AND name = ?", [stores[store_id], name]
        ).fetchone()
        if found is None:
            found = dst.execute(
                "INSERT INTO associates (store_id, name, active, pin_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                [stores[store_id], name, active, pin_hash, created_at],
            ).fetchone()
        numbering[source_id] = found[0]
    # Visits of the chosen stores may name a closer from another store.
    others = src.execute(
        f"SELECT DISTINCT closed_by FROM visits WHERE store_id IN ({marks})"
        " AND closed_by IS NOT NULL",
        list(stores),
    ).fetchall()
    missing = [a for (a,) in others if a not in numbering]
    if missing:
        raise ValidationError(
            f"Visits of these stores were closed by associates of other stores ({missing[:3]});"
            " copy those stores too (leave out --store)."
        )
    return numbering


def _check(src: Database, dst: Database, moved: Moved, merge: bool) -> None:
    """Each store's sums in the destination's rollups equal the source's
    (with ``merge``: at least the source's), or nothing is committed."""
    always = (date.min, date.max)
    for source_id, target_id in moved.stores.items():
        theirs = rollups.counts(src, {source_id: always}).get((), None)
        ours = rollups.counts(dst, {target_id: always}).get((), None)
        expected = _totals(theirs)
        found = _totals(ours)
        if found != expected and not (
            merge and all(f >= e for f, e in zip(found, expected, strict=True))
        ):
            raise StorageError(
                f"The copy of store {source_id} does not add up (source {expected}, copy {found});"
                " nothing was copied."
            )


def _totals(counts) -> tuple[int, ...]:
    if counts is None:
        return (0,) * 6
    return (
        counts.visits,
        counts.warm,
        counts.closed,
        counts.purchased,
        counts.units,
        counts.amount_cents,
    )
