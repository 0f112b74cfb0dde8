"""A chain's PostgreSQL behind the same door as a store's SQLite file (#27):
``CXLOG_DB=postgresql://…`` opens this instead of ``Storage``.

Connections come from one psycopg pool per address and process, in
autocommit: a read is a statement, a write is ``BEGIN`` … ``COMMIT`` that
``write`` opens. Every write transaction first takes one advisory lock
(``WRITE_LOCK``), so writers take turns as they do on SQLite: the
read-then-write of an edit, the lockout's count or the setup claim sees
every write committed before it, and none is lost to PostgreSQL's READ
COMMITTED. Reads take no lock and never wait for a writer (MVCC).

A tablet's taps (``store_writes``, issue #28) write only their store's rows:
they hold ``WRITE_LOCK`` shared and their store's own lock (``STORE_LOCK``,
the store's id) alone, so the stores of a chain write side by side while
each store's writes still take turns, and any other write still goes alone.
One lock for every write held a 1,000-tablet chain to ~60–75 taps a second
(``bench/load.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cxlog.core.errors import StorageError
from cxlog.language.words import _
from cxlog.storage import addresses
from cxlog.storage.engine import Database, PostgresDatabase, prepare_postgres

# pg_advisory_xact_lock's key for writing: "write" read as a number.
WRITE_LOCK = int.from_bytes(b"write", "big")
# pg_advisory_xact_lock(STORE_LOCK, store id): one store's writes ("stor", an int4).
STORE_LOCK = int.from_bytes(b"stor", "big")
POOL_MAX = 16  # each app process: its API worker threads and page sessions
CONNECT_TIMEOUT_S = 10

_pools: dict[str, Any] = {}
_pools_lock = threading.Lock()
_PINNED = threading.local()
_STORE = threading.local()  # the store this thread's writes are kept to (store_writes)


def _pool(url: str) -> Any:
    """This process's pool for ``url``, made on first use."""
    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            # Here, not at the top: a store on SQLite never loads the pool.
            from psycopg_pool import ConnectionPool

            pool = ConnectionPool(
                url,
                kwargs={"autocommit": True},
                min_size=1,
                max_size=POOL_MAX,
                configure=prepare_postgres,
                timeout=CONNECT_TIMEOUT_S,
                open=True,
                name="cxlog",
            )
            _pools[url] = pool
        return pool


def close_pools() -> None:
    """Close every pool of this process (tests, and a server shutting down)."""
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()


def close_pool(url: str) -> None:
    """Close this process's pool for one database, before its server stops
    (cxlog/local_chain.py): the pool's connections would otherwise outlive it."""
    with _pools_lock:
        pool = _pools.pop(url, None)
    if pool is not None:
        pool.close()


def _error(exc: Exception, url: str, *, writing: bool, committing: bool = False) -> StorageError:
    """A sentence for the person at the screen, as ``db._storage_error`` does
    for SQLite. A connection lost while committing cannot tell whether the
    commit reached the server: the write may or may not have been saved, and
    tapping again is safe because every tap is idempotent."""
    import psycopg

    if committing and isinstance(exc, psycopg.OperationalError):
        return StorageError(
            _(
                "The connection to the database was lost while saving: it may not have been"
                " saved. Tap again."
            )
        )
    if isinstance(exc, psycopg.OperationalError):
        message = (
            _(
                "The database at {address} cannot be reached; nothing was saved. Tap again; if"
                " it keeps failing, ask the owner to check the database server."
            )
            if writing
            else _(
                "The database at {address} cannot be reached. Tap again; if it keeps failing,"
                " ask the owner to check the database server."
            )
        )
    elif isinstance(exc, psycopg.errors.DiskFull):
        message = (
            _("The database server's disk is full; nothing was saved. Ask the owner to free space.")
            if writing
            else _("The database server's disk is full. Ask the owner to free space.")
        )
    else:
        message = (
            _("The database reported a problem ({problem}); nothing was saved.")
            if writing
            else _("The database reported a problem ({problem}).")
        )
    return StorageError(message.format(address=addresses.shown(url), problem=exc))


class PostgresStorage:
    """Where a chain's data lives: an address only, safe to share between
    threads (the pool is per process)."""

    engine = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.address = url

    def __repr__(self) -> str:
        return f"PostgresStorage({addresses.shown(self.url)!r})"

    @property
    def shown(self) -> str:
        """Where the data is, as a message says it (no password)."""
        return addresses.shown(self.url)

    def change_stamp(self) -> tuple[int, ...]:
        """Changes with every commit: the server's write-ahead log position
        (it moves on any write to the cluster, so a cache keyed on it is
        dropped more often than needed, never kept too long)."""
        with self.read() as db:
            (lsn,) = db.execute("SELECT pg_current_wal_lsn() - '0/0'").fetchone()
        return (lsn,)

    def exists(self) -> bool:
        """A server's database is there once it answers: an unreachable one
        raises StorageError with its sentence."""
        with self.read() as db:
            db.execute("SELECT 1").fetchone()
        return True

    def keep_open(self) -> None:
        """Open the pool now (the server), so the first tap does not wait for it."""
        _pool(self.url)

    @contextmanager
    def _borrowed(self, *, own: bool = False) -> Iterator[Any]:
        """A pooled connection: this thread's pinned one if it has one (unless
        ``own``: a connection of its own whatever is pinned)."""
        pinned = None if own else getattr(_PINNED, "connections", {}).get(self.url)
        if pinned is not None:
            yield pinned
            return
        import psycopg

        try:
            with _pool(self.url).connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise _error(exc, self.url, writing=False) from exc

    @contextmanager
    def one_connection(self, *, keep: bool = False) -> Iterator[None]:
        """Within the block, this thread's reads and writes share one pooled
        connection (``keep`` changes nothing: the pool keeps connections)."""
        if getattr(_PINNED, "connections", {}).get(self.url) is not None:
            yield
            return
        with self._borrowed() as conn:
            _PINNED.connections = {**getattr(_PINNED, "connections", {}), self.url: conn}
            try:
                yield
            finally:
                _PINNED.connections.pop(self.url, None)

    def connect(self, *, create: bool = False) -> Database:
        """A connection of its own, outside the pool (closed by the caller)."""
        import psycopg

        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise _error(exc, self.url, writing=False) from exc
        prepare_postgres(conn)
        return PostgresDatabase(conn)

    @contextmanager
    def read(self) -> Iterator[Database]:
        import psycopg

        with self._borrowed() as conn:
            try:
                yield PostgresDatabase(conn)
            except psycopg.Error as exc:
                raise _error(exc, self.url, writing=False) from exc

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """Reads that all see one moment: one REPEATABLE READ transaction
        (READ COMMITTED would let each statement see newer commits). Not
        READ ONLY: that also refuses the temporary tables an export builds;
        it ends in a rollback, so nothing it does is kept."""
        with self._borrowed() as conn, _repeatable_read(conn, self.url) as db:
            yield db

    @contextmanager
    def snapshot_beside(self, db: Database) -> Iterator[Database]:
        """A second connection that sees exactly what ``db``'s snapshot sees
        (``pg_export_snapshot``), for work split between two server cores (a
        large export). Its own pooled connection, whatever this thread has pinned."""
        (name,) = db.execute("SELECT pg_export_snapshot()").fetchone()
        with (
            self._borrowed(own=True) as conn,
            _repeatable_read(conn, self.url, snapshot=name) as beside,
        ):
            yield beside

    @contextmanager
    def write(self) -> Iterator[Database]:
        """One transaction: everything inside is saved together or not at all."""
        store = getattr(_STORE, "id", None)
        with self._borrowed() as conn, _transaction(conn, self.url, store=store) as db:
            yield db

    @contextmanager
    def store_writes(self, store_id: int) -> Iterator[None]:
        """Writes in this block (this thread's) touch ``store_id``'s rows only:
        they wait for that store's other writes, not for other stores'."""
        before = getattr(_STORE, "id", None)
        _STORE.id = int(store_id)
        try:
            yield
        finally:
            _STORE.id = before

    def check(self) -> None:
        """Raise StorageError unless the database can be reached and read."""
        with self.read() as db:
            db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()

    def migrate(self) -> None:
        """Create or upgrade the schema: one transaction under the
        migrations' advisory lock (``migrations.Migrations``)."""
        from cxlog.storage import migrations

        with self._borrowed() as conn, _transaction(conn, self.url, lock=False) as db:
            migrations.migrations.apply(db)


@contextmanager
def _repeatable_read(conn: Any, url: str, *, snapshot: str | None = None) -> Iterator[Database]:
    """One REPEATABLE READ transaction on ``conn`` (the exported ``snapshot``
    of another one, when given), rolled back at its end."""
    import psycopg
    import psycopg.sql

    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            if snapshot is not None:
                # A utility statement: the name goes in as a quoted literal.
                conn.execute(
                    psycopg.sql.SQL("SET TRANSACTION SNAPSHOT {}").format(
                        psycopg.sql.Literal(snapshot)
                    )
                )
            yield PostgresDatabase(conn)
        finally:
            if not conn.closed:
                conn.execute("ROLLBACK")
    except psycopg.Error as exc:
        raise _error(exc, url, writing=False) from exc


@contextmanager
def _transaction(
    conn: Any, url: str, *, lock: bool = True, store: int | None = None
) -> Iterator[Database]:
    import psycopg

    db = PostgresDatabase(conn)
    try:
        conn.execute("BEGIN")
        try:
            if lock and store is None:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            elif lock:
                # Shared first, then the store's: every writer takes them in
                # this order, and one that needs WRITE_LOCK alone waits for all.
                conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", [WRITE_LOCK])
                conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", [STORE_LOCK, store])
            yield db
        except BaseException:
            if not conn.closed:
                conn.execute("ROLLBACK")
            raise
    except psycopg.Error as exc:
        raise _error(exc, url, writing=True) from exc
    try:
        conn.execute("COMMIT")
    except psycopg.Error as exc:
        raise _error(exc, url, writing=True, committing=True) from exc
