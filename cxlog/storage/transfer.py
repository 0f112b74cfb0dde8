"""Every table of one cxlog database into a fresh one, of either engine (#27).

The owner's backup on PostgreSQL (a SQLite file of one snapshot) and
``cxlog copy`` into an empty database both come here: each table's rows as
they are, ids and the derived tables included, so the copy answers exactly
as the source did. Rows are read in the source's snapshot and written with
``Database.load`` (COPY on PostgreSQL) inside the destination's one
transaction. A store's move into a chain that already has stores renumbers
what it copies: cxlog.stores.moving.
"""

from __future__ import annotations

from collections.abc import Iterator

from cxlog.core.errors import ValidationError
from cxlog.language.words import _
from cxlog.storage.engine import Database

# Parents first: a foreign key finds its row (both engines check them).
PARENTS = ("stores", "accounts", "associates", "reasons", "behaviours", "visits")
# The migrations' own record: each database keeps its engine's.
NOT_COPIED = frozenset({"_sqlite_migrations"})


def tables(source: Database, target: Database) -> list[str]:
    """The tables both databases have, parents first."""
    names = [name for name in _names(target) if name not in NOT_COPIED and source.has_table(name)]
    return [t for t in PARENTS if t in names] + sorted(set(names) - set(PARENTS))


def _names(db: Database) -> list[str]:
    if db.engine == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    return [name for (name,) in db.execute(sql)]


def shared_columns(source: Database, target: Database, table: str) -> list[str]:
    """Columns both have, in the target's order. PostgreSQL's visits name the
    rowid SQLite keeps hidden: never copied, each engine numbers its rows."""
    theirs = set(source.columns(table))
    return [c for c in target.columns(table) if c in theirs and c != "rowid"]


def rows(db: Database, table: str, columns: list[str], where: str = "", params=()) -> Iterator:
    """A table's rows, streamed; visits in the order they were written."""
    order = " ORDER BY rowid" if table == "visits" else ""
    return db.stream(f"SELECT {', '.join(columns)} FROM {table}{where}{order}", params)


def copy_all(source: Database, target: Database) -> dict[str, int]:
    """Every row of every table, ids kept, into ``target`` (a database with no
    store yet: the seeded lists a new one starts with are replaced). Inside
    the caller's transactions; returns the rows copied per table."""
    if target.execute("SELECT count(*) FROM stores").fetchone()[0]:
        raise ValidationError(_("The destination already has stores: copy into an empty database."))
    names = tables(source, target)
    for table in reversed(names):  # children first
        target.execute(f"DELETE FROM {table}")
    copied = {}
    for table in names:
        columns = shared_columns(source, target, table)
        target.load(table, columns, rows(source, table, columns))
        copied[table] = target.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if target.engine == "postgresql":
        move_identities(target, names)
    return copied


def move_identities(db: Database, names: list[str]) -> None:
    """After rows came in with their ids, PostgreSQL's identity columns go on
    from the highest (SQLite's integer keys do by themselves)."""
    for table in names:
        if "id" not in db.columns(table):
            continue
        (sequence,) = db.execute("SELECT pg_get_serial_sequence(?, 'id')", [table]).fetchone()
        if sequence:
            db.execute(
                f"SELECT setval(?, coalesce(max(id), 0) + 1, false) FROM {table}", [sequence]
            )
