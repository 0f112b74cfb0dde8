"""The one door to SQL: a connection behind the few methods domain code may
use, so that no domain module knows which engine holds the data (#27).

Domain code writes its SQL once, with ``?`` placeholders, in the dialect both
engines accept (``ON CONFLICT``, ``RETURNING``, partial indexes); it reads
rows as tuples (``execute``) or dicts (``query``). Before #27 these methods
were sqlite-utils' ``Database``, which also imported pandas and numpy
(~0.5 s of every command) for the few calls cxlog made of it."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from cxlog.storage.dialect import postgres_sql


class Database:
    """One connection, as domain code sees it. Holds the connection only: it
    is as thread-bound as the connection it wraps."""

    engine: ClassVar[str]

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        """Run one statement; the cursor gives rows as tuples, ``rowcount``
        and, after ``RETURNING``, the returned rows."""
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[dict]:
        """The rows of one statement as dicts keyed by column name."""
        cursor = self.execute(sql, params)
        keys = [d[0] for d in cursor.description]
        for row in cursor:
            yield dict(zip(keys, row, strict=True))

    def executescript(self, script: str) -> None:
        """Several statements with no parameters (the migrations' DDL)."""
        raise NotImplementedError

    def columns(self, table: str) -> list[str]:
        """The names of ``table``'s columns, in order."""
        raise NotImplementedError

    def has_table(self, name: str) -> bool:
        raise NotImplementedError

    def insert_rows(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert dicts (rows in a run with the same keys go in one
        ``executemany``); returns how many. For data moved in bulk (demo data,
        an engine copy, tests behind cxlog's back): it keeps no derived table."""
        count = 0
        for names, run in itertools.groupby(rows, key=lambda row: tuple(row)):
            sql = (
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
            )
            values = [tuple(row.values()) for row in run]
            self.executemany(sql, values)
            count += len(values)
        return count

    @property
    def in_transaction(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        self.conn.close()


class SqliteDatabase(Database):
    """A ``sqlite3`` connection opened by ``cxlog.storage.db.Storage``."""

    engine = "sqlite"

    def executescript(self, script: str) -> None:
        # sqlite3's executescript commits an open transaction first: inside
        # one (a migration), run the statements one by one instead, so the
        # migration and the record of it are saved together or not at all.
        if not self.conn.in_transaction:
            self.conn.executescript(script)
            return
        for statement in statements(script):
            self.conn.execute(statement)

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self.conn.execute(f"PRAGMA table_info({table})")]

    def has_table(self, name: str) -> bool:
        found = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]
        ).fetchone()
        return found is not None

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction


def statements(script: str) -> Iterator[str]:
    """The complete statements of ``script``: split at each ``;`` that ends
    one (a trigger's body holds ``;`` that do not)."""
    start = 0
    for at, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : at + 1]):
            yield script[start : at + 1].strip()
            start = at + 1
    if script[start:].strip():
        yield script[start:].strip()


# --- PostgreSQL ---------------------------------------------------------------


class PostgresDatabase(Database):
    """A psycopg 3 connection from ``cxlog.storage.postgres``'s pool."""

    engine = "postgresql"

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        return self.conn.execute(postgres_sql(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(postgres_sql(sql), rows)

    def executescript(self, script: str) -> None:
        # No parameters: psycopg sends it as one simple query, which may hold
        # several statements; inside the caller's transaction, as DDL is.
        self.conn.execute(script)

    def columns(self, table: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
        return [name for (name,) in rows]

    def has_table(self, name: str) -> bool:
        found = self.conn.execute(
            "SELECT 1 FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = %s",
            [name],
        ).fetchone()
        return found is not None

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.conn.info.transaction_status != TransactionStatus.IDLE


def prepare_postgres(conn: Any) -> None:
    """Make a new psycopg connection answer as SQLite does, so numbers and
    CSV lines are the same on both engines (#27, "one answer"):
    - ``numeric`` (what PostgreSQL's ``sum`` of a bigint and its ``avg``
      return) is read as an int when whole, else a float — never a Decimal;
    - ``boolean`` (what a comparison returns) is read as 1 or 0, as SQLite
      gives it."""
    from psycopg.adapt import Loader

    class Number(Loader):
        def load(self, data: Any) -> int | float:
            text = bytes(data)
            return float(text) if any(c in text for c in b".eEN") else int(text)

    class Truth(Loader):
        def load(self, data: Any) -> int:
            return 1 if bytes(data) == b"t" else 0

    conn.adapters.register_loader("numeric", Number)
    conn.adapters.register_loader("bool", Truth)
