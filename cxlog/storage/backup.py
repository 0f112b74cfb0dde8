"""A consistent copy of the database while tablets keep writing (issue #6).

SQLite's online backup API copies every page inside one read transaction (a
single ``step(-1)``), so the copy is the database exactly as of the moment the
copy began: every visit committed before is in it, none half-written, and in
WAL mode the tablets' writes go on meanwhile. On PostgreSQL (#27) the backup is the same
kind of SQLite file, made by cxlog.storage.transfer from one REPEATABLE READ
snapshot. A backup is offered only after
``PRAGMA integrity_check`` on the copy says "ok"; it is written beside the
target and renamed into place (cxlog.storage.atomic), so a failed backup never
replaces a good one.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cxlog.core.errors import StorageError, ValidationError
from cxlog.language.words import _
from cxlog.storage import transfer
from cxlog.storage.atomic import check_target, replacing
from cxlog.storage.db import BUSY_TIMEOUT_MS, Storage


@dataclass(frozen=True)
class Backup:
    path: Path
    size_bytes: int
    visits: int


def integrity_problems(path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` reports; empty when the file is sound."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:  # not a database at all, or a torn header
        return [str(exc)]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def verify(path: Path) -> int:
    """Raise unless the copy passes integrity_check; return its visit count."""
    problems = integrity_problems(path)
    if problems:
        raise StorageError(
            _("The backup copy failed its integrity check, so it was not kept: {problems}").format(
                problems="; ".join(problems[:3])
            )
        )
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM visits").fetchone()[0]
    except sqlite3.Error as exc:
        raise StorageError(
            _("The backup copy has no visits table ({problem}).").format(problem=exc)
        ) from exc
    finally:
        conn.close()


def _copy(source: Path, target: Path) -> None:
    # Read-write like the app's connections (a read-only one cannot open a WAL
    # file whose -shm is missing); the backup only reads it.
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)
    dst = sqlite3.connect(target)
    try:
        # pages=-1: all pages in one step, inside one read transaction. Done
        # in several steps, a write by a tablet would restart the copy.
        src.backup(dst, pages=-1)
        # A plain (rollback-journal) file: one self-contained file to keep.
        dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        dst.close()
        src.close()


def _copy_postgres(storage, target: Path) -> None:
    """A chain's PostgreSQL as a SQLite file cxlog opens as it is (#27): every
    table read in one REPEATABLE READ snapshot, so the copy is the database
    as of one moment while tablets keep writing."""
    copy = Storage(target)
    copy.migrate()  # the schema this cxlog writes, on an empty file
    with storage.snapshot() as source, copy.write() as db:
        transfer.copy_all(source, db)
    conn = sqlite3.connect(target)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        conn.close()


def make_backup(storage: Storage, target: Path) -> Backup:
    """Copy the database to ``target``, verified, replacing any file there."""
    if storage.engine == "postgresql":  # the storage door's per-engine backup
        with replacing(
            check_target(target, "backup file"), mode=0o600, what="backup file"
        ) as partial:
            _copy_postgres(storage, partial)
            visits = verify(partial)
        return Backup(path=target, size_bytes=target.stat().st_size, visits=visits)
    source, target = Path(storage.path), check_target(target, "backup file")
    if not source.is_file():
        raise ValidationError(_("There is no database at {path}.").format(path=source))
    if target.exists() and target.resolve() == source.resolve():
        raise ValidationError(_("The backup cannot overwrite the database it copies."))
    # 0o600: the copy holds password hashes, like the database.
    with replacing(target, mode=0o600, what="backup file") as partial:
        try:
            _copy(source, partial)
        except sqlite3.Error as exc:
            raise StorageError(
                _("The backup could not be made: {problem}.").format(problem=exc)
            ) from exc
        visits = verify(partial)
    return Backup(path=target, size_bytes=target.stat().st_size, visits=visits)


def backup_bytes(storage: Storage) -> tuple[bytes, Backup]:
    """A verified backup in memory, for the Export page's download button."""
    with tempfile.TemporaryDirectory(prefix="cxlog-backup-") as folder:
        made = make_backup(storage, Path(folder) / "cxlog-backup.db")
        return made.path.read_bytes(), made
