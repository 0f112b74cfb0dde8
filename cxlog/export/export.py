"""The owner's visits CSV: one row per visit, safe for Excel, fast (issue #6).

What to export (store-local days, stores, voided visits) and how the lines
reach the file. The lines themselves are built by SQLite (cxlog.export.csvlines).
Memory stays flat: the CSV of at most a few chunks of CHUNK visits (~1.5 MB
each) is held at once.

A small selection is read through the (store, start) index on one
connection. A large one is read in rowid chunks; the CLI hands them to
helper processes (cxlog.export.export_pool), each on its own core, all reading the
same snapshot. Files are written all or nothing (cxlog.storage.atomic).

Every column is described in docs/data-dictionary.md; a test keeps the two in
step.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from cxlog.calendar import localday
from cxlog.calendar.offsets import EARLIEST, LATEST
from cxlog.core.errors import NotFoundError, StorageError, ValidationError
from cxlog.export import csvlines, csvlines_postgres, export_pool
from cxlog.export.csvlines import (  # noqa: F401  (re-exported: the export's public names)
    BOM,
    GREET_COLUMNS,
    NEWLINE,
    OPEN,
    VISIT_COLUMNS,
    VOID_COLUMNS,
    StoreRange,
    csv_text,
    in_memory,
    neutralise,
    safe_row,
)
from cxlog.language.words import _
from cxlog.storage.atomic import write_file
from cxlog.storage.db import Storage
from cxlog.storage.engine import SqliteDatabase

# --- what to export -------------------------------------------------------------


@dataclass(frozen=True)
class ExportSelection:
    """Which visits a CSV holds: store-local calendar days (both inclusive),
    stores, and whether voided visits are in.

    Days are each store's own: 1 November in London and in New York are
    different UTC instants. No stores means every store.
    """

    first_day: date | None = None
    last_day: date | None = None
    store_ids: tuple[int, ...] = ()
    include_voided: bool = False

    def __post_init__(self) -> None:
        if self.first_day and self.last_day and self.first_day > self.last_day:
            raise ValidationError(
                _("The start date {first} is after the end date {last}.").format(
                    first=self.first_day.isoformat(), last=self.last_day.isoformat()
                )
            )


def parse_day(text: str, what: str = "date") -> date:
    """A calendar date typed as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValidationError(
            _("The {what} must be a date written like 2026-11-01, not {text}.").format(
                what=what, text=repr(text)
            )
        ) from None


def find_store(storage: Storage, text: str) -> int:
    """A store by id or by its exact name."""
    with storage.read() as db:
        stores = db.execute("SELECT id, name FROM stores ORDER BY id").fetchall()
    wanted = text.strip()
    if wanted.isdigit() and any(i == int(wanted) for i, _ in stores):
        return int(wanted)
    named = [i for i, name in stores if name == wanted]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValidationError(
            _("More than one store is called {name}; give its id instead.").format(
                name=repr(wanted)
            )
        )
    if not stores:
        raise NotFoundError(
            _("No store has the id or name {name}. Stores: none.").format(name=repr(wanted))
        )
    known = ", ".join(f"{i} ({name})" for i, name in stores)
    raise NotFoundError(
        _("No store has the id or name {name}. Stores: {stores}.").format(
            name=repr(wanted), stores=known
        )
    )


def store_ranges(db, selection: ExportSelection) -> list[StoreRange]:
    """Each selected store with the UTC bounds of its local days. ``db``: a
    sqlite3 connection or a cxlog.storage.engine.Database."""
    rows = db.execute("SELECT id, name, timezone FROM stores ORDER BY id").fetchall()
    if selection.store_ids:
        missing = set(selection.store_ids) - {store_id for store_id, *_ in rows}
        if missing:
            raise NotFoundError(_("No store has the id {id}.").format(id=min(missing)))
        rows = [row for row in rows if row[0] in selection.store_ids]
    result = []
    for store_id, name, timezone in rows:
        zone = localday.zone(timezone)
        first, last = selection.first_day, selection.last_day
        result.append(
            StoreRange(
                store_id,
                name,
                timezone,
                localday.local_midnight_utc(first, zone) if first else None,
                localday.local_midnight_utc(last + timedelta(days=1), zone) if last else None,
            )
        )
    return result


# --- streaming the lines ----------------------------------------------------------

# Above this share of the table a scan beats index lookups plus a sort.
SCAN_SHARE = 0.05
CHUNK = 8_192  # rowids per chunk: ~1.5 MB of CSV
BATCH = 2_000  # rows per fetchmany on the index path
# Helper processes pay ~0.1 s to start: worth it from a few hundred thousand
# visits. At most two: the store's box also serves the tablets.
WORKERS = max(1, min(2, os.cpu_count() or 1))
PARALLEL_FROM = 200_000  # rowids


def _scan_is_cheaper(db, ranges: list[StoreRange]) -> bool:
    """Whether the selection is a large share of the table (index counts)."""
    if all(r.start == EARLIEST and r.end == LATEST for r in ranges):
        return True
    total = db.execute("SELECT coalesce(max(rowid), 0) FROM visits").fetchone()[0]
    chosen = sum(
        db.execute(
            "SELECT count(*) FROM visits INDEXED BY visits_store_started"
            " WHERE store_id = ? AND started_at >= ? AND started_at < ?",
            [r.store_id, r.start, r.end],
        ).fetchone()[0]
        for r in ranges
    )
    return chosen > SCAN_SHARE * total


def write_visits(
    storage: Storage,
    out: BinaryIO,
    selection: ExportSelection,
    *,
    for_excel: bool = False,
    workers: int = 1,
) -> int:
    """Stream the visits CSV (UTF-8; with a BOM for Excel) into ``out``.

    One snapshot while tablets keep writing. ``workers`` > 1 lets a large
    export use that many helper processes (SQLite). Returns the number of visits.
    """
    if for_excel:
        out.write(BOM)
    out.write((",".join(csvlines.header(selection.include_voided)) + NEWLINE).encode())
    # Each engine builds the lines its fastest way (docs/architecture.md,
    # "what differs per engine"); both write the same bytes.
    lines = _postgres_lines if storage.engine == "postgresql" else _sqlite_lines
    return lines(storage, out, selection, workers)


def _postgres_lines(storage, out: BinaryIO, selection: ExportSelection, workers: int) -> int:
    with storage.snapshot() as db:
        require_schema(db)
        lookups = csvlines.read_lookups(db, store_ranges(db, selection))
        if not lookups.ranges:
            return 0
        scan = _scan_is_cheaper(db, lookups.ranges)
        voided = selection.include_voided
        if not (scan and workers > 1):
            return csvlines_postgres.write(db, out, lookups, voided, scan=scan)
        with storage.snapshot_beside(db) as beside:
            return csvlines_postgres.write(db, out, lookups, voided, scan=True, beside=beside)


def _sqlite_lines(storage: Storage, out: BinaryIO, selection: ExportSelection, workers: int) -> int:
    with storage.read_plain() as conn:
        require_schema(SqliteDatabase(conn))
        scan = _scan_is_cheaper(conn, store_ranges(conn, selection))
        rows = conn.execute("SELECT coalesce(max(rowid), 0) FROM visits").fetchone()[0]
    if scan and workers > 1 and rows >= PARALLEL_FROM:
        return _write_in_parallel(storage, out, selection, workers)
    with storage.read_plain() as conn:
        conn.execute("BEGIN")  # the snapshot; rolled back (nothing to keep) on close
        lookups = sqlite_lookups(conn, selection)
        if not lookups.ranges:
            return 0
        csvlines.install(conn, lookups)
        conn.text_factory = bytes  # lines go to the file as SQLite made them
        if scan:
            sql = csvlines.chunk_sql(selection.include_voided, lookups)
            written = 0
            for start in _chunk_starts(conn):
                lines, count = csvlines.read_chunk(conn, sql, start, CHUNK)
                out.write(lines)
                written += count
            return written
        cursor = conn.execute(csvlines.indexed_sql(selection.include_voided, lookups))
        written = 0
        while rows := cursor.fetchmany(BATCH):
            out.write(b"".join([row[0] for row in rows]))
            written += len(rows)
        return written


def sqlite_lookups(conn: sqlite3.Connection, selection: ExportSelection) -> csvlines.Lookups:
    lookups = csvlines.read_lookups(SqliteDatabase(conn), store_ranges(conn, selection))
    return dataclasses.replace(lookups, safe_ids=csvlines.no_unsafe_id(conn))


def _chunk_starts(conn: sqlite3.Connection) -> range:
    low, high = conn.execute("SELECT min(rowid), max(rowid) FROM visits").fetchone()
    return range(low or 0, (high or -1) + 1, CHUNK)


def _write_in_parallel(storage: Storage, out: BinaryIO, selection: ExportSelection, n: int) -> int:
    helpers = export_pool.start(n, storage.path)
    with helpers, storage.read_plain() as conn, storage.read_plain() as lock:
        try:
            lock.execute("BEGIN IMMEDIATE")  # no commit until all have begun
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc):  # a read-only file has no writers to hold off
                raise
        try:
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM stores").fetchone()
            helpers.begin()
        finally:
            if lock.in_transaction:
                lock.execute("ROLLBACK")
        lookups = sqlite_lookups(conn, selection)
        if not lookups.ranges:
            return 0
        helpers.prepare(lookups, selection.include_voided, CHUNK)
        written = 0
        for lines, count in helpers.chunks(_chunk_starts(conn)):
            out.write(lines)
            written += count
        return written


def require_schema(db) -> None:
    """``db``: a cxlog.storage.engine.Database of either engine."""
    if not (db.has_table("visits") and db.has_table("stores")):
        raise StorageError(_("That file is not a cxlog database (it has no visits table)."))


def count_visits(storage: Storage, selection: ExportSelection) -> int:
    """How many rows the visits CSV of this selection will have."""
    voided = "" if selection.include_voided else " AND voided_at IS NULL"
    with storage.read() as db:
        require_schema(db)
        return sum(
            db.execute(
                "SELECT count(*) FROM visits WHERE store_id = ? AND started_at >= ?"
                f" AND started_at < ?{voided}",
                [r.store_id, r.start, r.end],
            ).fetchone()[0]
            for r in store_ranges(db, selection)
        )


def file_name(kind: str, selection: ExportSelection, store_name: str | None = None) -> str:
    """cxlog-visits-2026-11-01-to-2026-11-30-corner-shop.csv"""
    days = "-to-".join(str(d) for d in (selection.first_day, selection.last_day) if d) or "all"
    slug = "".join(ch if ch.isalnum() else "-" for ch in (store_name or "").casefold()).strip("-")
    return f"cxlog-{kind}-{days}{'-' + slug if slug else ''}.csv"


def visits_csv(
    storage: Storage, selection: ExportSelection, *, for_excel: bool = False, workers: int = 1
) -> bytes:
    """The visits CSV in memory, for the Export page's download button."""
    return in_memory(
        lambda out: write_visits(storage, out, selection, for_excel=for_excel, workers=workers)
    )


def export_visits_file(
    storage: Storage,
    target: Path,
    selection: ExportSelection,
    *,
    for_excel: bool = False,
    workers: int = WORKERS,
) -> int:
    """The CLI's export: written beside ``target`` then renamed, so a failed or
    interrupted run never leaves a half file where a good one was expected."""
    return write_file(
        target,
        lambda out: write_visits(storage, out, selection, for_excel=for_excel, workers=workers),
    )
