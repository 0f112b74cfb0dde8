"""Disk trouble while the Log page is in use (issue #7): the database file
turns read-only, the disk fills up, the file or its folder goes missing. The
page and the tap API answer with a sentence, never a stack trace; what was stored stays stored; once
the fault is cleared the very same taps work again.

A full disk is simulated inside SQLite (PRAGMA max_page_count on every new
connection), never by filling the machine's disk.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlite_utils

from cxlog.access import shifts
from cxlog.core.errors import StorageError
from cxlog.storage.db import Storage
from cxlog.visits import taps, visits
from tests.conftest import new_id
from tests.helpers.pages import device, open_page, pad_data


def snapshot(storage: Storage) -> dict[str, dict]:
    """Every stored row of the tables a tap writes, by table."""
    with sqlite_utils.Database(storage.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {
            table: [dict(r) for r in db.query(f"SELECT * FROM {table} ORDER BY rowid")]
            for table in (
                "visits",
                "audit",
                "taps",
                "device_shifts",
                "associates",
                "reasons",
                "settings",
            )
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
    connect = Storage.plain_connection  # every connection cxlog opens comes from here

    def query_only(self, **kwargs):
        conn = connect(self, **kwargs)
        conn.execute("PRAGMA query_only = ON")
        return conn

    try:
        with pytest.MonkeyPatch.context() as patch:
            if _writable(path):
                patch.setattr(Storage, "plain_connection", query_only)
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
    connect = Storage.plain_connection  # every connection cxlog opens comes from here

    def capped(self, **kwargs):
        conn = connect(self, **kwargs)
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Storage, "plain_connection", capped)
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


def send(storage: Storage, shift: dict, *taps_: dict) -> dict:
    """A batch from the pad's outbox, as POST /api/v1/taps applies it."""
    now = int(time.time() * 1000)
    return taps.apply_batch(storage, shift, {"sent_at": now, "taps": list(taps_)})


# Device times a second apart, from an hour ago: a person's taps (two starts
# within half a second from one device are one double tap, issue #24), made
# during a shift that began before them (issue #25).
_TICKS = itertools.count()
_HOUR_AGO_MS = int(time.time() * 1000) - 3_600_000


def begun_shift(storage, associate_id: int) -> str:
    """A shift cookie of a shift begun two hours ago."""
    began = datetime.now(UTC) - timedelta(hours=2)
    return shifts.start(storage, associate_id, shifts.new_device_id(), now=began)


def tap(shift: dict, kind: str, visit: str, **fields) -> dict:
    return {
        "id": new_id(),
        "visit": visit,
        "kind": kind,
        "at": _HOUR_AGO_MS + next(_TICKS) * 1_000,
        "by": shift["id"],
        **fields,
    }


def test_a_read_only_database_refuses_taps_with_a_sentence_then_works_again(app_env, shop):
    """The server starts on a file it cannot write (restored from a backup with
    the wrong owner, a disk remounted read-only). The API answers 503 with the
    sentence and the pad keeps the taps; the same taps work once it is fixed."""
    vid = new_id()
    visits.create_visit(app_env, vid, shop["store"], shop["ana"], "warm")
    shift = shifts.check(app_env, begun_shift(app_env, shop["ana"]))
    close, start = (
        tap(shift, "purchase", vid, units=2),
        tap(shift, "start", new_id(), engagement="warm"),
    )
    before = snapshot(app_env)

    with read_only(app_env):
        assert taps.board(app_env, shop["store"], "Europe/London")["open"][0]["id"] == vid
        for one in (close, start):
            with pytest.raises(StorageError, match="read-only; nothing was saved"):
                send(app_env, shift, one)
        assert snapshot(app_env) == before

    answer = send(app_env, shift, close, start)  # the same taps, once cleared
    assert [a["ok"] for a in answer["taps"]] == [True, True]
    after = snapshot(app_env)
    assert [(v["id"], v["outcome"], v["units"]) for v in after["visits"]] == [
        (vid, "purchased", 2),
        (start["visit"], None, None),
    ]


def test_a_full_disk_refuses_the_tap_that_does_not_fit_and_keeps_the_rest(app_env, shop):
    """The disk fills up during the day: taps are saved until one does not fit;
    that one says so and leaves nothing half-written; once space is freed the
    same tap works."""
    shift = shifts.check(app_env, begun_shift(app_env, shop["ana"]))
    confirmed: dict[str, str | None] = {}  # visit id → outcome the server acknowledged
    failed = None
    with disk_full(app_env), pytest.MonkeyPatch.context() as patch:
        patch.setattr(shifts, "START_BURST", float(MAX_TAPS))  # the disk, not the rate limit
        for _ in range(MAX_TAPS):
            vid = new_id()
            for one, outcome in (
                (tap(shift, "start", vid, engagement="warm"), None),
                (tap(shift, "purchase", vid, units=1), "purchased"),
            ):
                try:
                    assert send(app_env, shift, one)["taps"][0]["ok"]
                except StorageError as exc:
                    assert "disk is full; nothing was saved" in str(exc)
                    failed = one
                    break
                confirmed[vid] = outcome
            if failed:
                break
        assert failed, f"the disk never filled in {MAX_TAPS} visits"
        stored = {v["id"]: v["outcome"] for v in snapshot(app_env)["visits"]}
        assert stored == confirmed  # every acknowledged tap, and nothing of the failed one

    assert send(app_env, shift, failed)["taps"][0]["ok"]  # space freed: the same tap works
    stored = {v["id"]: v["outcome"] for v in snapshot(app_env)["visits"]}
    outcome = None if failed["kind"] == "start" else "purchased"
    assert stored == {**confirmed, failed["visit"]: outcome}


@pytest.mark.parametrize("fault", list(READ_FAULTS))
def test_a_missing_database_stops_the_page_with_a_sentence_and_loses_nothing(
    fault, app_env, shop, monkeypatch
):
    cookie = begun_shift(app_env, shop["ana"])
    vid = new_id()
    visits.create_visit(app_env, vid, shop["store"], shop["ana"], "warm")
    assert pad_data(device(monkeypatch, app_env, cookie))["mode"] == "log"  # the server is up
    before = snapshot(app_env)

    with READ_FAULTS[fault](app_env):
        at = device(monkeypatch, app_env, cookie)  # a refresh, or another tablet
        assert not at.exception
        assert any("cannot be opened" in e.value for e in at.error)
        assert pad_data(at) is None  # no pad that would pretend to save
        with pytest.raises(StorageError, match="cannot be opened"):
            shifts.check(app_env, cookie)  # the API's first read: a 503 with the sentence

    data = pad_data(device(monkeypatch, app_env, cookie))
    assert [v["id"] for v in data["board"]["open"]] == [vid]  # still there
    assert snapshot(app_env) == before
    shift = shifts.check(app_env, cookie)
    send(app_env, shift, tap(shift, "no_purchase", vid))
    assert snapshot(app_env)["visits"][0]["outcome"] == "no_purchase"


def test_an_unusable_data_folder_at_start_up_is_a_sentence(tmp_path, monkeypatch):
    """The server starts while its data folder cannot be created."""
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv("CXLOG_DB", str(blocker / "cxlog.db"))
    at = open_page().run()
    assert not at.exception
    assert any("cannot be created" in e.value for e in at.error), at.error
    blocker.unlink()  # the owner fixes it; the next page load starts normally
    at.run()
    assert not at.exception
    assert at.title[0].value == "Welcome to cxlog"
    assert os.path.exists(blocker / "cxlog.db")
