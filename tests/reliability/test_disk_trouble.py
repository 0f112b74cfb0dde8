"""Disk trouble while the Log page is in use (issue #7): the database file
turns read-only, the disk fills up, the file or its folder goes missing. The
page shows a sentence, never a stack trace; what was stored stays stored; once
the fault is cleared the very same taps work again.

A full disk is simulated inside SQLite (PRAGMA max_page_count on every new
connection), never by filling the machine's disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlite_utils
from streamlit.testing.v1 import AppTest

from cxlog import access, visits
from cxlog.db import Storage
from cxlog.errors import StorageError
from tests.conftest import ROOT, new_id
from tests.test_log_page import device, keys, signed_in, start


def snapshot(storage: Storage) -> dict[str, dict]:
    """Every stored row of the tables a tap writes, by table."""
    with sqlite_utils.Database(storage.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {
            table: [dict(r) for r in db.query(f"SELECT * FROM {table} ORDER BY rowid")]
            for table in ("visits", "audit", "shifts", "associates", "reasons", "settings")
        }


def _writable(path) -> bool:
    try:
        with open(path, "r+b"):
            return True
    except OSError:
        return False


@contextmanager
def read_only(storage: Storage) -> Iterator[None]:
    """The database file cannot be written. Root ignores file modes, so as root
    the file is also made immutable (chattr +i); where even that is not
    possible, every new connection is put in SQLite's query_only mode."""
    path = storage.path
    mode = path.stat().st_mode
    path.chmod(0o444)
    immutable = False
    if _writable(path) and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    connect = Storage.connect

    def query_only(self, **kwargs):
        db = connect(self, **kwargs)
        db.conn.execute("PRAGMA query_only = ON")
        return db

    try:
        with pytest.MonkeyPatch.context() as patch:
            if _writable(path):
                patch.setattr(Storage, "connect", query_only)
            yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


@contextmanager
def disk_full(storage: Storage) -> Iterator[None]:
    """No page can be added to the file: SQLite answers SQLITE_FULL, as on a full disk."""
    with sqlite_utils.Database(storage.path) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    connect = Storage.connect

    def capped(self, **kwargs):
        db = connect(self, **kwargs)
        db.conn.execute(f"PRAGMA max_page_count = {pages}")
        return db

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Storage, "connect", capped)
        yield


@contextmanager
def folder_missing(storage: Storage) -> Iterator[None]:
    """The folder holding the database goes away (a drive unplugged, a share unmounted)."""
    folder = storage.path.parent
    away = folder.with_name(folder.name + "-away")
    folder.rename(away)
    try:
        yield
        assert not folder.exists(), "the app re-created the missing folder"
    finally:
        away.rename(folder)


@contextmanager
def file_missing(storage: Storage) -> Iterator[None]:
    """The database file is moved away (its -wal and -shm stay)."""
    away = storage.path.with_name("moved-away.db")
    storage.path.rename(away)
    try:
        yield
        # Never a new empty database in its place: it would hide every visit.
        assert not storage.path.exists(), "the app created an empty database"
    finally:
        away.rename(storage.path)


READ_FAULTS: dict[str, Callable] = {
    "folder missing": folder_missing,
    "file missing": file_missing,
}
MAX_TAPS = 150  # the disk-full loop stops by itself


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_a_read_only_database_refuses_taps_with_a_sentence_then_works_again(app_env, shop):
    """The server starts on a file it cannot write (restored from a backup with
    the wrong owner, a disk remounted read-only)."""
    vid = new_id()
    visits.create_visit(app_env, vid, shop["store"], shop["ana"], "warm")
    token = access.start_shift(app_env, shop["ana"])
    before = snapshot(app_env)

    with read_only(app_env):
        at = device({"shift": token})
        assert not at.exception
        assert keys(at, "none-") == [f"none-{vid}"]  # reads work: the card is shown
        at.button(key=f"units-2-{vid}").click().run()
        assert not at.exception
        assert any("read-only; nothing was saved" in e for e in errors(at)), errors(at)
        assert keys(at, "none-") == [f"none-{vid}"]  # no confirmation: the card stays open
        (start_key,) = keys(at, "start-warm-")
        at.button(key=start_key).click().run()
        assert not at.exception
        assert any("read-only; nothing was saved" in e for e in errors(at)), errors(at)
        assert not at.success  # nothing says "started"
        assert snapshot(app_env) == before

    at.button(key=f"units-2-{vid}").click().run()  # the same taps, once cleared
    at.button(key=start_key).click().run()
    assert not at.exception and not errors(at)
    after = snapshot(app_env)
    assert [(v["id"], v["outcome"], v["units"]) for v in after["visits"]] == [
        (vid, "purchased", 2),
        (start_key.rsplit("-", 1)[1], None, None),
    ]


def test_a_full_disk_refuses_the_tap_that_does_not_fit_and_keeps_the_rest(app_env, shop):
    """The disk fills up during the day: taps are saved until one does not fit;
    that one says so and leaves nothing half-written; once space is freed the
    same tap works."""
    at = signed_in(shop["ana"])
    confirmed: dict[str, str | None] = {}  # visit id → outcome the screen confirmed
    failed = None
    with disk_full(app_env):
        for _ in range(MAX_TAPS):
            (start_key,) = keys(at, "start-warm-")
            vid = start_key.rsplit("-", 1)[1]
            at.button(key=start_key).click().run()
            assert not at.exception
            if errors(at):
                failed = ("start", start_key, vid)
                break
            assert at.success[0].value == "Warm visit started"
            confirmed[vid] = None
            at.button(key=f"units-1-{vid}").click().run()
            assert not at.exception
            if errors(at):
                failed = ("close", f"units-1-{vid}", vid)
                break
            confirmed[vid] = "purchased"
        assert failed, f"the disk never filled in {MAX_TAPS} visits"
        assert any("disk is full; nothing was saved" in e for e in errors(at)), errors(at)
        stored = {v["id"]: v["outcome"] for v in snapshot(app_env)["visits"]}
        assert stored == confirmed  # every confirmed tap, and nothing of the failed one

    kind, key, vid = failed
    at.button(key=key).click().run()  # space freed: the same tap works
    assert not at.exception and not errors(at)
    stored = {v["id"]: v["outcome"] for v in snapshot(app_env)["visits"]}
    assert stored == {**confirmed, vid: None if kind == "start" else "purchased"}


@pytest.mark.parametrize("fault", list(READ_FAULTS))
def test_a_missing_database_stops_the_page_with_a_sentence_and_loses_nothing(fault, app_env, shop):
    at = signed_in(shop["ana"])
    vid = start(at)
    before = snapshot(app_env)

    with READ_FAULTS[fault](app_env):
        at.run()
        assert not at.exception
        assert any("cannot be opened" in e for e in errors(at)), errors(at)
        assert keys(at, "start-") == []  # no button that would pretend to save
        fresh = device({"shift": at.query_params["shift"]})  # another tablet, or a refresh
        assert not fresh.exception
        assert any("cannot be opened" in e for e in errors(fresh))

    at.run()
    assert not at.exception and not errors(at)
    assert keys(at, "none-") == [f"none-{vid}"]  # the open visit is still there
    assert snapshot(app_env) == before
    at.button(key=f"none-{vid}").click().run()
    assert snapshot(app_env)["visits"][0]["outcome"] == "no_purchase"


def test_a_page_whose_reads_fail_mid_shift_shows_a_sentence(app_env, shop, monkeypatch):
    """The Log page's own reads (open visits, cards, the Today list) fail after
    the router's have passed: each shows the sentence, none a stack trace."""
    at = signed_in(shop["ana"])
    vid = start(at)

    def gone(*args, **kwargs):
        raise StorageError("The database file x cannot be opened.")

    for name in ("open_visits", "get_visit", "visits_between"):
        with monkeypatch.context() as patch:
            patch.setattr(visits, name, gone)
            at.run()
            assert not at.exception, name
            assert any("cannot be opened" in e for e in errors(at)), name
    at.run()
    assert not errors(at) and keys(at, "none-") == [f"none-{vid}"]


def test_an_unusable_data_folder_at_start_up_is_a_sentence(tmp_path, monkeypatch):
    """The server starts while its data folder cannot be created."""
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv("CXLOG_DB", str(blocker / "cxlog.db"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    assert any("cannot be created" in e for e in errors(at)), errors(at)
    blocker.unlink()  # the owner fixes it; the next page load starts normally
    at.run()
    assert not at.exception
    assert at.title[0].value == "Welcome to cxlog"
    assert os.path.exists(blocker / "cxlog.db")
