"""Backups (issue #6): consistent while tablets write, verified before offered."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest

from cxlog.core.errors import StorageError, ValidationError
from cxlog.core.model import utc_now
from cxlog.storage import backup
from cxlog.visits import visits
from tests.conftest import new_id


def ids_in(path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM visits")}
    finally:
        conn.close()


def test_backup_while_four_threads_write_holds_every_earlier_visit(storage, shop, tmp_path):
    committed: list[tuple[float, str]] = []  # (time the write returned, id)
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        associate = shop["ana"] if n % 2 else shop["ben"]
        try:
            for i in range(5_000):  # bounded; stopped long before
                if stop.is_set():
                    return
                vid = new_id()
                visits.create_visit(
                    storage,
                    vid,
                    shop["store"],
                    associate,
                    "warm",
                    at=utc_now() - timedelta(seconds=i),
                )
                with lock:
                    committed.append((time.monotonic(), vid))
        except BaseException as exc:  # reported below, never swallowed
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while len(committed) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        began = time.monotonic()
        made = backup.make_backup(storage, tmp_path / "copy.db")
        after_backup = len(committed)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors
    assert after_backup > 200  # the tablets really were writing meanwhile
    before = {vid for when, vid in committed if when < began}
    copied = ids_in(made.path)
    assert before <= copied
    assert made.visits == len(copied)
    assert backup.integrity_problems(made.path) == []
    with sqlite3.connect(made.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_copy_that_fails_integrity_check_is_never_offered(storage, shop, tmp_path, monkeypatch):
    good = backup.make_backup(storage, tmp_path / "good.db").path.read_bytes()

    def torn_copy(source, target):  # a copy cut short, on either engine's path
        target.write_bytes(good[:8192] + b"\x00garbage" * 512)

    monkeypatch.setattr(backup, "_copy", torn_copy)
    monkeypatch.setattr(backup, "_copy_postgres", torn_copy)
    target = tmp_path / "copy.db"
    target.write_bytes(b"last night's good backup")
    with pytest.raises(StorageError, match="integrity check"):
        backup.make_backup(storage, target)
    assert target.read_bytes() == b"last night's good backup"  # untouched
    assert list(tmp_path.glob(".copy.db.*")) == []  # no leftovers


def test_integrity_problems_reports_a_damaged_file(storage, shop, tmp_path):
    good = backup.make_backup(storage, tmp_path / "good.db").path
    assert backup.integrity_problems(good) == []
    damaged = tmp_path / "damaged.db"
    data = bytearray(good.read_bytes())
    page = 4096
    data[page * 2 : page * 3] = b"\xff" * page  # smash a b-tree page
    damaged.write_bytes(bytes(data))
    assert backup.integrity_problems(damaged)
    with pytest.raises(StorageError):
        backup.verify(damaged)


def test_backup_bytes_is_a_database_with_the_visits(storage, shop, tmp_path):
    vid = new_id()
    visits.create_visit(storage, vid, shop["store"], shop["ana"], "neutral")
    data, made = backup.backup_bytes(storage)
    assert data.startswith(b"SQLite format 3\x00") and made.visits == 1
    copy = tmp_path / "downloaded.db"
    copy.write_bytes(data)
    assert ids_in(copy) == {vid}


def test_bad_targets_are_clear_sentences(storage, shop, tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        backup.make_backup(storage, tmp_path / "missing" / "copy.db")
    with pytest.raises(ValidationError, match="is a folder"):
        backup.make_backup(storage, tmp_path)
    if storage.engine == "sqlite":  # a server's database is no file to overwrite
        with pytest.raises(ValidationError, match="cannot overwrite"):
            backup.make_backup(storage, storage.path)
    from cxlog.storage.db import Storage

    with pytest.raises(ValidationError, match="no database"):
        backup.make_backup(Storage(tmp_path / "nothing.db"), tmp_path / "copy.db")
    assert not (tmp_path / "nothing.db").exists()


def test_the_backup_opens_in_cxlog_and_answers_as_the_database_did(storage, two_stores, tmp_path):
    """On either engine the backup is a SQLite file cxlog opens as it is: its
    visits CSV (voided visits in) and summary are the source's, byte for
    byte, and new visits follow on from the copied ids."""
    from cxlog.export import export, summary
    from cxlog.export.export import ExportSelection
    from cxlog.storage.db import Storage

    copy = Storage(backup.make_backup(storage, tmp_path / "copy.db").path)
    every = ExportSelection(include_voided=True)
    assert export.visits_csv(copy, every) == export.visits_csv(storage, every)
    assert summary.summary_csv(copy, every) == summary.summary_csv(storage, every)
    assert export.visits_csv(copy, every).count(b"\r\n") > 40
    copy.migrate()  # nothing left to do: the file is at this cxlog's schema
    visits.create_visit(copy, new_id(), two_stores["store"], two_stores["ana"], "warm")
