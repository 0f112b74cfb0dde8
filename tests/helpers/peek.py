"""A test's look at the stored rows, through the storage door, so the same
check runs on SQLite and on PostgreSQL (#27). It stands where tests used
sqlite-utils on the SQLite file: ``query``, ``execute`` and a table's
``count``, ``get`` and ``rows``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


class Rows(list):
    """Fetched rows, read like a cursor's."""

    def fetchone(self) -> tuple | None:
        return self[0] if self else None

    def fetchall(self) -> list[tuple]:
        return list(self)


class Table:
    def __init__(self, peek: Peek, name: str) -> None:
        self.peek, self.name = peek, name

    @property
    def count(self) -> int:
        return self.peek.execute(f"SELECT count(*) FROM {self.name}").fetchone()[0]

    @property
    def rows(self) -> Iterator[dict]:
        return iter(self.peek.query(f"SELECT * FROM {self.name}"))

    def get(self, key: Any) -> dict:
        found = self.peek.query(f"SELECT * FROM {self.name} WHERE id = ?", [key])
        if not found:
            raise LookupError(f"no {self.name} row has the id {key!r}")
        return found[0]


class Peek:
    def __init__(self, storage: Any) -> None:
        self.storage = storage

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict]:
        with self.storage.read() as db:
            return list(db.query(sql, list(params)))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """A read, or a change made behind cxlog's back (in one transaction)."""
        reading = sql.lstrip().upper().startswith(("SELECT", "WITH", "EXPLAIN"))
        with self.storage.read() if reading else self.storage.write() as db:
            cursor = db.execute(sql, list(params))
            return Rows(cursor.fetchall() if cursor.description else [])

    def __getitem__(self, table: str) -> Table:
        return Table(self, table)


def peek(storage: Any) -> Peek:
    return Peek(storage)
