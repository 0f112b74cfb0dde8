"""Opening the SQLite database safely from many Streamlit sessions at once.

docs/stack-facts.md ("Connections and transactions"): one connection shared
across threads silently loses rows, and ``db.atomic()``'s plain ``BEGIN``
fails under concurrent writers. So every call
opens its own short-lived connection, and every write runs inside
``BEGIN IMMEDIATE`` … ``COMMIT`` with a busy timeout. Opening one and parsing
the schema costs ~0.8 ms; a request that reads and writes several times (a
tap) holds one connection of its own thread for all of them
(``Storage.one_connection``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from cxlog.core.errors import StorageError
from cxlog.core.model import to_utc_text, utc_now
from cxlog.language.words import _
from cxlog.storage import addresses
from cxlog.storage.engine import Database, SqliteDatabase
from cxlog.storage.postgres import PostgresStorage

# The files SQLite keeps beside a database in WAL mode.
SIDECARS = ("-wal", "-shm")

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "data" / "cxlog.db"
BUSY_TIMEOUT_MS = 10_000

_migrate_lock = threading.Lock()
# Storage.one_connection: per thread, the connection each database path shares.
_PINNED = threading.local()
# Storage.one_connection(keep=True): per thread, the connection kept between
# blocks, with the identity of the file it was opened on.
_KEPT = threading.local()


def _identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def file_path(where: str | os.PathLike[str]) -> Path:
    """The database file ``where`` names. A database server's address is
    refused with a sentence: it would otherwise become a folder named
    "postgresql:" beside the server, holding a new, empty SQLite file."""
    if addresses.is_address(where):
        raise StorageError(
            _(
                "{address} is a database server's address, not a file."
                " Give a SQLite file's path here."
            ).format(address=addresses.shown(str(where)))
        )
    return Path(where)


def default_address() -> str:
    """CXLOG_DB (a file's path or a PostgreSQL address), or data/cxlog.db."""
    return os.environ.get("CXLOG_DB") or str(DEFAULT_PATH)


def open_storage(where: str | os.PathLike[str] | None = None) -> Storage | PostgresStorage:
    """The storage ``where`` names (CXLOG_DB's when None): a SQLite file, or
    a chain's PostgreSQL for a ``postgresql://`` address."""
    where = str(where or default_address())
    addresses.refuse_unknown(where)
    return PostgresStorage(where) if addresses.is_postgres(where) else Storage(where)


def _storage_error(exc: sqlite3.Error, path: Path, *, writing: bool) -> StorageError:
    """A sentence for the person at the screen. A failed write says nothing was
    saved (its transaction rolled back); a failed read does not mention saving.
    Each is one whole sentence to translate (#29)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        message = (
            _("The database is busy right now; nothing was saved. Tap again.")
            if writing
            else _("The database is busy right now. Tap again.")
        )
    elif "readonly" in text or "read-only" in text:
        message = (
            _("The database file is read-only; nothing was saved. Ask the owner to check it.")
            if writing
            else _("The database file is read-only. Ask the owner to check it.")
        )
    elif "full" in text:
        message = (
            _("The disk is full; nothing was saved. Ask the owner to free space.")
            if writing
            else _("The disk is full. Ask the owner to free space.")
        )
    elif "unable to open" in text:
        message = (
            _(
                "The database file {path} cannot be opened; nothing was saved. Check that the"
                " file and its folder are there."
            )
            if writing
            else _(
                "The database file {path} cannot be opened. Check that the file and its folder"
                " are there."
            )
        )
    else:
        message = (
            _("The database reported a problem ({problem}); nothing was saved.")
            if writing
            else _("The database reported a problem ({problem}).")
        )
    return StorageError(message.format(path=path, problem=exc))


class Storage:
    """Where the data lives. Holds a path only: safe to share between threads."""

    engine = "sqlite"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = file_path(path)
        self.address = str(self.path)
        self._keeper: sqlite3.Connection | None = None

    def keep_open(self) -> None:
        """Hold one idle connection for the life of the process (the server).

        When the last connection to a WAL database closes, SQLite checkpoints
        and deletes the WAL — ~3 ms of fsyncs on every tap with a connection
        per call (py-spy on the Log page). An idle connection that stays open
        leaves checkpoints to SQLite's automatic ones.
        """
        if self._keeper is None:
            try:
                self._keeper = sqlite3.connect(self._uri(), uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                raise _storage_error(exc, self.path, writing=False) from exc

    def __repr__(self) -> str:
        return f"Storage({str(self.path)!r})"

    @property
    def shown(self) -> str:
        """Where the data is, as a message says it."""
        return str(self.path)

    def change_stamp(self) -> tuple[int, ...]:
        """Changes with every commit: the database and WAL files' modification
        times and sizes (a commit touches one of them)."""
        stamps = []
        for suffix in ("", "-wal"):
            try:
                stat = os.stat(f"{self.path}{suffix}")
                stamps.append(stat.st_mtime_ns ^ stat.st_size)
            except OSError:
                stamps.append(0)
        return *stamps, len(stamps)

    def exists(self) -> bool:
        """True when the file is there (commands other than migrate and demo
        never make a new one)."""
        return self.path.is_file()

    def _uri(self, mode: str = "rw") -> str:
        # mode=rw: a file that went missing (moved, folder unmounted) is an
        # error, never silently replaced by a new empty database (issue #7).
        return f"{self.path.absolute().as_uri()}?mode={mode}"

    def connect(self, *, create: bool = False) -> Database:
        """A new connection; only ``migrate`` may create the file (create=True)."""
        return SqliteDatabase(self.plain_connection(create=create))

    def plain_connection(self, *, create: bool = False) -> sqlite3.Connection:
        """A new ``sqlite3`` connection with the settings of ``connect``."""
        try:
            conn = sqlite3.connect(
                self._uri("rwc" if create else "rw"),
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,  # sets SQLite's busy timeout
                isolation_level=None,  # we issue BEGIN IMMEDIATE ourselves
                check_same_thread=False,
            )
            # FULL costs ~0.3 ms a commit in WAL (docs/stack-facts.md): a confirmed tap
            # survives a power cut.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise _storage_error(exc, self.path, writing=False) from exc
        return conn

    @contextmanager
    def read(self) -> Iterator[Database]:
        with self.read_plain() as conn:
            yield SqliteDatabase(conn)

    @contextmanager
    def one_connection(self, *, keep: bool = False) -> Iterator[None]:
        """Within the block, this thread's reads and writes of this database
        share one connection instead of opening one each.

        For a request that reads and writes a few times (a tap: the shift,
        the batch check, the write, the answer): opening a connection and
        parsing the schema cost ~0.8 ms each time, most of a tap's server
        time. The connection is this thread's alone, as the rule above
        requires, and is closed when the block ends.

        ``keep``: the connection stays open for this thread's next block
        instead (the API's worker threads, which serve one request after
        another: opening, parsing the schema and closing took ~2 ms of a
        tap's ~5 ms). It is only used again while the path still names the
        file it was opened on: a database moved away or deleted is still an
        error (#7), never read or written through the old file.
        """
        if self._pinned() is not None:
            yield
            return
        conn, identity = (self._kept() if keep else None) or self._opened()
        _PINNED.connections = {**getattr(_PINNED, "connections", {}), self.path: conn}
        try:
            yield
        finally:
            _PINNED.connections.pop(self.path, None)
            if keep and identity is not None and not conn.in_transaction:
                kept = getattr(_KEPT, "connections", {})
                _KEPT.connections = {**kept, self.path: (conn, identity)}
            else:
                conn.close()

    def _opened(self) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
        """A new connection and the identity of the file it opened."""
        conn = self.plain_connection()
        try:
            return conn, _identity(self.path)
        except OSError:  # gone again already: used once, never kept
            return conn, None

    def _kept(self) -> tuple[sqlite3.Connection, tuple[int, int]] | None:
        """This thread's kept connection, if the path still names its file."""
        conn, identity = getattr(_KEPT, "connections", {}).pop(self.path, (None, None))
        if conn is None:
            return None
        try:
            same = _identity(self.path) == identity
        except OSError:
            same = False
        if not same:
            conn.close()
            return None
        return conn, identity

    def _pinned(self) -> sqlite3.Connection | None:
        return getattr(_PINNED, "connections", {}).get(self.path)

    @contextmanager
    def _borrowed(self) -> Iterator[sqlite3.Connection]:
        """This thread's pinned connection (left open), or a new one (closed after)."""
        pinned = self._pinned()
        conn = pinned or self.plain_connection()
        try:
            yield conn
        finally:
            if pinned is None:
                conn.close()

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """Reads that all see one moment: one read transaction (in WAL, a
        reader sees the commits before its first read and none after, while
        tablets keep writing). Nothing is written; it ends in a rollback."""
        with self.read_plain() as conn:
            conn.execute("BEGIN")
            try:
                yield SqliteDatabase(conn)
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

    @contextmanager
    def read_plain(self) -> Iterator[sqlite3.Connection]:
        """``read``'s bare connection (the CSV export reads it directly)."""
        with self._borrowed() as conn:
            try:
                yield conn
            except sqlite3.Error as exc:
                raise _storage_error(exc, self.path, writing=False) from exc

    @contextmanager
    def write(self) -> Iterator[Database]:
        """One transaction: everything inside is saved together or not at all."""
        with self._borrowed() as conn, self._transaction(SqliteDatabase(conn)) as db:
            yield db

    @contextmanager
    def store_writes(self, store_id: int) -> Iterator[None]:
        """Writes in this block touch one store's rows only (PostgreSQL lets
        such writes of different stores run side by side); a file has one
        writer at a time whatever they touch, so here it changes nothing."""
        yield

    @contextmanager
    def _transaction(self, db: Database) -> Iterator[Database]:
        try:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
            db.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise _storage_error(exc, self.path, writing=True) from exc

    def check(self) -> None:
        """Raise StorageError unless the database can be opened and read."""
        with self.read() as db:
            db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()

    def make_owner_only(self) -> None:
        """A new database file is made readable by its owner only (0600), and so
        is its folder (0700): it holds the password and PIN hashes. SQLite
        gives the -wal and -shm files the main file's permissions.

        Issue #25: the folder is made 0700 only when cxlog made it, or when it
        belongs to this user and is not a shared (sticky) folder such as the
        system's temp folder; and on every start a database and its sidecars
        that others can read (left so by an older cxlog) lose those bits."""
        folder = self.path.parent
        made_folder = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            info = folder.stat()
            if made_folder or (info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX):
                os.chmod(folder, 0o700)
        for path in (self.path, *(self.path.with_name(self.path.name + s) for s in SIDECARS)):
            try:
                info = path.stat()
                if info.st_uid == os.getuid() and info.st_mode & 0o077:
                    os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o077)
            except FileNotFoundError:
                continue

    def migrate(self) -> None:
        """Create or upgrade the schema. Safe to call on every start.

        A migration that changed what a derived table holds marks it stale;
        once every migration has run, today's code rebuilds it (registered by
        ``rebuild_when_stale``), each in its own write transaction."""
        # Here, not at the top: the migrations' SQL is long, and a visits
        # export of a file already migrated never needs it.
        from cxlog.storage import migrations

        try:
            self.make_owner_only()
        except OSError as exc:
            raise StorageError(
                _("The folder {path} cannot be created: {problem}").format(
                    path=self.path.parent, problem=exc
                )
            ) from exc
        with _migrate_lock:
            db = self.connect(create=True)
            try:
                # WAL lets tablets read while another writes; the setting is
                # stored in the file, so it holds for every later connection.
                db.conn.execute("PRAGMA journal_mode = WAL")
                if migrations.migrations.pending(db):
                    migrations.migrations.apply(db)
                for name in migrations.stale(db):
                    if name not in _STALE_REBUILDS:
                        raise StorageError(
                            _(
                                "{path} needs its {table} rebuilt and nothing here can: run"
                                " {command} with this file."
                            ).format(
                                path=self.path,
                                table=name,
                                command="python -m cxlog rollup --rebuild --db",
                            )
                        )
                    db.conn.execute("BEGIN IMMEDIATE")
                    try:
                        _STALE_REBUILDS[name](db, None)
                        migrations.rebuilt(db, name)
                    except BaseException:
                        db.conn.execute("ROLLBACK")
                        raise
                    db.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise _storage_error(exc, self.path, writing=True) from exc
            finally:
                db.conn.close()


# name → rebuild(db, store_ids): what fills a derived table a migration
# marked stale (cxlog.numbers.derived registers them; storage imports no domain code).
_STALE_REBUILDS: dict[str, Callable[[Database, None], object]] = {}


def rebuild_when_stale(name: str, rebuild: Callable[[Database, None], object]) -> None:
    """Register what rebuilds ``name`` after a migration marked it stale."""
    _STALE_REBUILDS[name] = rebuild


@cache
def _shared(where: str) -> Storage | PostgresStorage:
    storage = open_storage(where)
    storage.migrate()
    storage.keep_open()
    return storage


def shared_storage(where: str | os.PathLike[str] | None = None) -> Storage | PostgresStorage:
    """The server's one storage for a file or address (CXLOG_DB's when None),
    migrated once per process: shared by the pages (cxlog.web.ui) and the API
    routes (cxlog.server.api). It holds an address and an idle keeper
    connection (SQLite) or a pool (PostgreSQL), so sharing it between threads
    is safe."""
    return _shared(str(where or default_address()))


def audit(
    db: Database,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    before: dict | None = None,
    after: dict | None = None,
    *,
    device_at: str | None = None,
    received_at: str | None = None,
    store_id: int | None = None,
) -> None:
    """Record who changed what, inside the caller's transaction.

    ``store_id``: the store the change belongs to (issue #12), None for
    chain-wide changes. A tap sent from a device's outbox also records when it
    was tapped on the device and when it reached the server (issue #10)."""
    db.execute(
        "INSERT INTO audit (at, actor, action, entity, entity_id, before, after,"
        " device_at, received_at, store_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            to_utc_text(utc_now()),
            actor,
            action,
            entity,
            str(entity_id),
            None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True),
            None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True),
            device_at,
            received_at,
            store_id,
        ],
    )
