"""The storage door (cxlog/storage/engine.py, #27): what domain code may do
with a connection, on SQLite."""

from __future__ import annotations

import sqlite3

import pytest

from cxlog.storage import engine
from cxlog.storage.engine import SqliteDatabase

TRIGGER = """
CREATE TABLE a (x INTEGER);
CREATE TABLE b (n INTEGER);
CREATE TRIGGER a_counts AFTER INSERT ON a BEGIN
    UPDATE b SET n = n + 1;
    UPDATE b SET n = n + 0;
END;
INSERT INTO b (n) VALUES (0)
"""


def _db() -> SqliteDatabase:
    return SqliteDatabase(sqlite3.connect(":memory:", isolation_level=None))


def test_statements_split_where_a_statement_ends_not_inside_a_trigger():
    parts = list(engine.statements(TRIGGER))
    assert len(parts) == 4
    assert parts[2].startswith("CREATE TRIGGER") and parts[2].endswith("END;")
    assert parts[3] == "INSERT INTO b (n) VALUES (0)"  # the last one needs no ';'


def test_a_script_inside_a_transaction_stays_inside_it():
    db = _db()
    db.execute("BEGIN IMMEDIATE")
    db.executescript(TRIGGER)
    assert db.in_transaction  # sqlite3's own executescript would have committed
    db.execute("INSERT INTO a (x) VALUES (1)")
    assert db.execute("SELECT n FROM b").fetchone() == (1,)
    db.execute("ROLLBACK")
    assert not db.has_table("a") and not db.has_table("b")
    db.executescript(TRIGGER)  # outside one: run as a script
    assert db.has_table("a") and db.columns("b") == ["n"]


def test_rows_read_as_dicts_and_written_in_runs_of_the_same_keys():
    db = _db()
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT DEFAULT 'none')")
    rows = [{"name": "a"}, {"name": "b"}, {"name": "c", "note": "x"}, {"name": "d"}]
    assert db.insert_rows("t", rows) == 4
    assert db.insert_rows("t", []) == 0
    got = list(db.query("SELECT name, note FROM t WHERE id > ? ORDER BY id", [1]))
    assert got == [
        {"name": "b", "note": "none"},
        {"name": "c", "note": "x"},
        {"name": "d", "note": "none"},
    ]


def test_an_insert_returns_its_id_and_commits():
    db = _db()
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("BEGIN IMMEDIATE")
    (first,) = db.execute("INSERT INTO t (name) VALUES (?) RETURNING id", ["a"]).fetchone()
    (second,) = db.execute("INSERT INTO t (name) VALUES (?) RETURNING id", ["b"]).fetchone()
    db.execute("COMMIT")  # a RETURNING cursor read once leaves nothing in progress
    assert (first, second) == (1, 2)
    assert db.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_a_failing_statement_inside_a_script_raises():
    db = _db()
    db.execute("BEGIN")
    with pytest.raises(sqlite3.OperationalError):
        db.executescript("CREATE TABLE a (x); CREATE TABLE a (x);")
    db.execute("ROLLBACK")
    assert not db.has_table("a")
