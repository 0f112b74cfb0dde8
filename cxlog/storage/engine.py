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

STREAM_BATCH = 10_000  # rows fetched at once by Database.stream


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

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple]:
        """The rows of a large result as tuples, a batch at a time in memory
        (a copy of a million visits), inside the caller's transaction."""
        cursor = self.execute(sql, params)
        while batch := cursor.fetchmany(STREAM_BATCH):
            yield from batch

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

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Many rows into ``table`` at once, the fastest way the engine has
        (demo data, ``cxlog copy``), inside the caller's transaction. Like
        ``insert_rows`` it keeps no derived table."""
        raise NotImplementedError

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

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        # Into an empty table, its secondary indexes are built once after the
        # rows, sorted, instead of row by row (the 1M demo: 70 s → 28 s); they
        # are dropped and made again inside the caller's transaction, so a
        # failure leaves the table as it was.
        empty = self.conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
        indexes = []
        if empty:
            indexes = self.conn.execute(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                [table],
            ).fetchall()
        for name, _ in indexes:
            self.conn.execute(f'DROP INDEX "{name}"')
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        for _, sql in indexes:
            self.conn.execute(sql)

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

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple]:
        # A server-side cursor: psycopg's plain cursor would hold the whole
        # result in the client's memory first.
        with self.conn.cursor(name="cxlog_stream") as cursor:
            cursor.itersize = STREAM_BATCH
            cursor.execute(postgres_sql(sql), params)
            yield from cursor

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

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        # COPY … FROM STDIN: rows stream to the server without a statement
        # each. Into an empty table, as pg_restore does, its secondary indexes
        # and foreign keys are dropped first and made again after, each in one
        # pass (1M visits: checked row by row, the 5 indexes and 4 keys took
        # ~40 s; the COPY alone ~3). Inside the caller's transaction: a
        # failure leaves the table as it was.
        empty = self.conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
        later = []
        if empty:
            later = self.conn.execute(
                "SELECT 'DROP INDEX ' || quote_ident(i.relname), pg_get_indexdef(i.oid)"
                " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                " WHERE x.indrelid = to_regclass(%s) AND NOT x.indisunique"
                " UNION ALL SELECT"
                " format('ALTER TABLE %%I DROP CONSTRAINT %%I', %s::text, conname),"
                " format('ALTER TABLE %%I ADD CONSTRAINT %%I ', %s::text, conname)"
                "   || pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'f'",
                [table, table, table, table],
            ).fetchall()
        for drop, _ in later:
            self.conn.execute(drop)
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.conn.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        for _, make in later:
            self.conn.execute(make)

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
      gives it;
    - no parallel plans, no JIT, room to sort in memory (below)."""
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
    # cxlog's reads are many small ones (a dashboard: ~140 statements). A
    # parallel plan's workers take ~10 ms to start, more than the read: the
    # follow-up numbers of a store took 18 ms in parallel, 2 without. The
    # export splits its own work between two connections.
    conn.execute("SET max_parallel_workers_per_gather = 0")
    # Nor JIT compiling: 18 ms of the chain's year sums (200 ms) went to it.
    conn.execute("SET jit = off")
    # The chain's year sums 135,000 rollup rows into ~1,200 groups; in
    # PostgreSQL's default 4 MB the sort spilled to disk. Used only by a
    # statement that needs it, per sort or hash.
    conn.execute("SET work_mem = '32MB'")
