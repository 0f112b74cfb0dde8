"""The owner's visits CSV: one row per visit, safe for Excel, fast (issue #6).

Safe for Excel: a text cell that starts with = + - @ tab, CR or LF gets a
leading ``'`` (OWASP CSV injection), so a spreadsheet shows it as text, never
runs it as a formula; numeric columns are written as plain numbers.

Fast and flat in memory: SQLite builds each visits row as one finished CSV
line and Python only moves those bytes to the file. Python's ``csv`` module
runs ~2.6x the ``sqlite3`` CLI (STACK-NOTES): a Python object per cell is the
cost, so none is made. Names are made CSV-safe once, in Python, into small
temporary lookup tables; first engagement, reason, markers and outcome come
from one precomputed lookup of every combination; local times from each
store's UTC-offset spans (cxlog.offsets: exact across DST) and ``strftime``.
A large export reads the table in rowid chunks, each one string from SQLite.

Every column is described in docs/data-dictionary.md; a test keeps the two in
step.
"""

from __future__ import annotations

import io
import itertools
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from cxlog.db import Storage
from cxlog.errors import NotFoundError, StorageError, ValidationError
from cxlog.model import (
    FIRST_ENGAGEMENTS,
    MAX_UNITS,
    MIN_UNITS,
    NO_PURCHASE,
    PURCHASED,
    connection_depth,
    from_utc_text,
    to_utc_text,
    utc_now,
)
from cxlog.offsets import EARLIEST, LATEST, offset_spans, offset_text

# The visits CSV, in this order. Voided visits (and their two columns) only
# when asked for.
VISIT_COLUMNS: tuple[str, ...] = (
    "visit_id",
    "store",
    "started_local",
    "started_utc",
    "associate",
    "first_engagement",
    "reason",
    "used_name",
    "recommended",
    "connection_depth",
    "outcome",
    "no_sale_reason",
    "units",
    "amount",
    "closed_local",
    "closed_by",
)
VOID_COLUMNS: tuple[str, ...] = ("voided_local", "void_reason")

OPEN = "open"  # the outcome cell of a visit still in progress
NEWLINE = "\r\n"  # RFC 4180 and what Excel writes
BOM = "\ufeff".encode()
# OWASP's list, plus line feed: a cell starting with any of these can be read
# as a formula by Excel, LibreOffice or Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NEEDS_QUOTES = (",", '"', "\r", "\n")


# --- making a cell safe ---------------------------------------------------------


def neutralise(text: str) -> str:
    """A text cell a spreadsheet shows as text: prefix ``'`` to a formula start."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(value: object) -> str:
    """One text cell as it goes in the file: neutralised, then quoted if needed."""
    if value is None:
        return ""
    text = neutralise(str(value))
    if any(ch in text for ch in _NEEDS_QUOTES):
        return '"' + text.replace('"', '""') + '"'
    return text


def safe_row(row: Iterable[object]) -> list[object]:
    """For csv.writer: text neutralised, numbers left as numbers."""
    return [neutralise(cell) if isinstance(cell, str) else cell for cell in row]


# --- what to export -------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which visits: store-local calendar days (both inclusive) and stores.

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
                f"The start date {self.first_day} is after the end date {self.last_day}."
            )


def parse_day(text: str, what: str = "date") -> date:
    """A calendar date typed as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValidationError(
            f"The {what} must be a date written like 2026-11-01, not {text!r}."
        ) from None


def find_store(storage: Storage, text: str) -> int:
    """A store by id or by its exact name."""
    with storage.read() as db:
        stores = list(db.query("SELECT id, name FROM stores ORDER BY id"))
    wanted = text.strip()
    if wanted.isdigit() and any(s["id"] == int(wanted) for s in stores):
        return int(wanted)
    named = [s["id"] for s in stores if s["name"] == wanted]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValidationError(f"More than one store is called {wanted!r}; give its id instead.")
    known = ", ".join(f"{s['id']} ({s['name']})" for s in stores) or "none"
    raise NotFoundError(f"No store has the id or name {wanted!r}. Stores: {known}.")


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a store's calendar day starts.

    Where midnight is skipped by a DST change, zoneinfo's fold=0 reading
    gives the instant the day actually starts.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class StoreRange:
    """A selected store and the UTC instants its first and last local day
    start and end (None: no bound)."""

    store_id: int
    name: str
    timezone: str
    start_at: datetime | None
    end_at: datetime | None

    @property
    def start(self) -> str:  # as stored UTC text, inclusive
        return EARLIEST if self.start_at is None else to_utc_text(self.start_at)

    @property
    def end(self) -> str:  # exclusive
        return LATEST if self.end_at is None else to_utc_text(self.end_at)


def store_ranges(db, selection: Selection) -> list[StoreRange]:
    """Each selected store with the UTC bounds of its local days."""
    rows = list(db.query("SELECT id, name, timezone FROM stores ORDER BY id"))
    if selection.store_ids:
        missing = set(selection.store_ids) - {r["id"] for r in rows}
        if missing:
            raise NotFoundError(f"No store has the id {min(missing)}.")
        rows = [r for r in rows if r["id"] in selection.store_ids]
    result = []
    for row in rows:
        zone = ZoneInfo(row["timezone"])
        first, last = selection.first_day, selection.last_day
        result.append(
            StoreRange(
                row["id"],
                row["name"],
                row["timezone"],
                local_midnight_utc(first, zone) if first else None,
                local_midnight_utc(last + timedelta(days=1), zone) if last else None,
            )
        )
    return result


# --- the visits CSV: lookups ----------------------------------------------------


def _header(include_voided: bool) -> list[str]:
    return [*VISIT_COLUMNS, *(VOID_COLUMNS if include_voided else ())]


def _engagement_cells(engagement: str, reason: dict | None, used: int, recommended: int) -> str:
    """first_engagement … connection_depth, each followed by a comma."""
    depth = connection_depth(engagement, bool(reason and reason["learned"]), bool(recommended))
    name = csv_text(reason["name"]) if reason else ""
    return f"{csv_text(engagement)},{name},{used},{recommended},{depth},"


def _outcome_cells(outcome: str | None, no_sale: dict | None, units: int | None) -> str:
    """outcome, no_sale_reason, units, each followed by a comma."""
    name = csv_text(no_sale["name"]) if no_sale else ""
    return f"{csv_text(outcome or OPEN)},{name},{'' if units is None else units},"


# The two moment lookups are keyed by small integers SQLite computes from the
# visit's columns with a few operations, then finds by rowid: cheaper than
# building these cells per visit. Keys are mixed-radix numbers whose digits the
# schema's CHECKs keep inside their radix (first engagement's first letter m/n/w
# → 0/1/10, markers 0/1, outcome's first letter n/p or none, units 1–99, reason
# ids below the radix), so two different combinations never share a key.
def _engagement_key_sql(radix: int) -> str:
    return (
        f"(((unicode(v.first_engagement) - 109) * 2 + v.used_name) * 2 + v.recommended)"
        f" * {radix} + coalesce(v.reason_id, 0)"
    )


def _engagement_key(engagement: str, used: int, recommended: int, reason_id: int, radix: int):
    return (((ord(engagement[0]) - 109) * 2 + used) * 2 + recommended) * radix + reason_id


def _outcome_key_sql(radix: int) -> str:
    return (
        f"(coalesce(unicode(v.outcome), 0) * {radix} + coalesce(v.no_sale_reason_id, 0)) * 100"
        " + coalesce(v.units, 0)"
    )


def _outcome_key(outcome: str | None, no_sale_id: int, units: int, radix: int) -> int:
    return ((ord(outcome[0]) if outcome else 0) * radix + no_sale_id) * 100 + units


@dataclass(frozen=True)
class _Lookups:
    """Everything a visits line needs besides the visit, made CSV-safe once."""

    ranges: list[StoreRange]
    spans: list[tuple[int, str, str, str, str]]
    associates: list[tuple[int, str]]
    reasons: dict[int, dict]

    @property
    def radix(self) -> int:
        return max(self.reasons, default=0) + 1

    def engagements(self) -> Iterable[tuple[int, str]]:
        for engagement, reason_id, used, recommended in itertools.product(
            FIRST_ENGAGEMENTS, [0, *self.reasons], (0, 1), (0, 1)
        ):
            yield (
                _engagement_key(engagement, used, recommended, reason_id, self.radix),
                _engagement_cells(engagement, self.reasons.get(reason_id), used, recommended),
            )

    def outcomes(self) -> Iterable[tuple[int, str]]:
        endings = [(None, 0, 0)]
        endings += [(PURCHASED, 0, units) for units in range(MIN_UNITS, MAX_UNITS + 1)]
        endings += [(NO_PURCHASE, key, 0) for key in [0, *self.reasons]]
        for outcome, no_sale_id, units in endings:
            yield (
                _outcome_key(outcome, no_sale_id, units, self.radix),
                _outcome_cells(outcome, self.reasons.get(no_sale_id), units or None),
            )


def _read_lookups(db, selection: Selection) -> _Lookups:
    ranges = store_ranges(db, selection)
    spans = []
    if ranges:
        begin, end = _span_bounds(db, ranges)
        for r in ranges:
            for since, until, seconds in offset_spans(ZoneInfo(r.timezone), begin, end):
                # The offset cell carries the comma that follows it.
                modifier, offset = f"{seconds:+d} seconds", offset_text(seconds) + ","
                spans.append((r.store_id, since, until, modifier, offset))
    reasons = {
        row[0]: {"name": row[1], "learned": row[2]}
        for row in db.execute("SELECT id, name, learned FROM reasons")
    }
    associates = list(db.execute("SELECT id, name FROM associates"))
    return _Lookups(ranges=ranges, spans=spans, associates=associates, reasons=reasons)


def _span_bounds(db, ranges: list[StoreRange]) -> tuple[datetime, datetime]:
    """Where offsets must be exact: from the selection's first start to a
    year past now (closes and voids come after starts, never in the future)."""
    # Two queries: each is one index lookup, min and max together are a scan.
    first = db.execute("SELECT min(started_at) FROM visits").fetchone()[0]
    last = db.execute("SELECT max(started_at) FROM visits").fetchone()[0]
    now = utc_now()
    lowest = max(first or LATEST, min(r.start for r in ranges))
    begin = (now if lowest == LATEST else from_utc_text(lowest)) - timedelta(days=2)
    end = max(now, from_utc_text(last) if last else now) + timedelta(days=366)
    return begin, end


_TEMP_TABLES = (
    "CREATE TEMP TABLE export_stores (id INTEGER PRIMARY KEY, cells TEXT, start TEXT, end TEXT)",
    """CREATE TEMP TABLE export_spans (
        store_id INTEGER, start TEXT, end TEXT, modifier TEXT, offset TEXT,
        PRIMARY KEY (store_id, start)
    ) WITHOUT ROWID""",
    "CREATE TEMP TABLE export_associates (id INTEGER PRIMARY KEY, csv TEXT, cells TEXT)",
    "CREATE TEMP TABLE export_engagements (key INTEGER PRIMARY KEY, cells TEXT)",
    "CREATE TEMP TABLE export_outcomes (key INTEGER PRIMARY KEY, cells TEXT)",
)


def _install(conn: sqlite3.Connection, lookups: _Lookups) -> None:
    """The lookups as temporary tables of this connection, inside its read
    transaction (one statement each: executescript() would commit it)."""
    for ddl in _TEMP_TABLES:
        conn.execute(ddl)
    conn.executemany(
        "INSERT INTO export_stores VALUES (?, ?, ?, ?)",
        [(r.store_id, csv_text(r.name) + ",", r.start, r.end) for r in lookups.ranges],
    )
    conn.executemany("INSERT INTO export_spans VALUES (?, ?, ?, ?, ?)", lookups.spans)
    conn.executemany(
        "INSERT INTO export_associates VALUES (?, ?, ?)",
        [(i, csv_text(name), csv_text(name) + ",") for i, name in lookups.associates],
    )
    conn.executemany("INSERT INTO export_engagements VALUES (?, ?)", lookups.engagements())
    conn.executemany("INSERT INTO export_outcomes VALUES (?, ?)", lookups.outcomes())
    reasons = lookups.reasons

    def named(key: int | None) -> dict | None:
        return None if key is None else reasons.get(key, {"name": f"#{key}", "learned": 0})

    # For what the lookups cannot serve; only a hand-edited database gets here.
    conn.create_function("cxlog_csv_text", 1, csv_text, deterministic=True)
    conn.create_function(
        "cxlog_engagement",
        4,
        lambda e, used, rec, reason: _engagement_cells(str(e), named(reason), used, rec),
        deterministic=True,
    )
    conn.create_function(
        "cxlog_outcome",
        3,
        lambda outcome, no_sale, units: _outcome_cells(outcome, named(no_sale), units),
        deterministic=True,
    )


# --- the visits CSV: SQL ----------------------------------------------------------


def _local(column: str) -> str:
    """A UTC text column as local ISO 8601, to the second, with the store's
    offset (and the comma that follows).

    ``z`` is the span of the visit's start; a close or void minutes later is
    nearly always in it, otherwise its own span is looked up. ``datetime()``
    then a space-to-T swap costs ~0.2 µs; ``strftime`` with milliseconds ~0.35.
    """
    convert = "replace(datetime({c}, {z}.modifier), ' ', 'T') || {z}.offset"
    if column == "v.started_at":
        return convert.format(c=column, z="z")
    other = (
        f"(SELECT {convert.format(c=column, z='o')} FROM export_spans o"
        f" WHERE o.store_id = v.store_id AND o.start <= {column} ORDER BY o.start DESC LIMIT 1)"
    )
    return (
        f"CASE WHEN {column} IS NULL THEN ','"
        f" WHEN {column} >= z.start AND {column} < z.end THEN {convert.format(c=column, z='z')}"
        f" ELSE {other} END"
    )


# Visit ids from the Log page match [A-Za-z0-9_-]{8,64}; one that starts like a
# formula or holds a comma, quote or line break goes through csv_text.
_ID_CELL = (
    "CASE WHEN unicode(v.id) IN (61, 43, 45, 64, 9, 13, 10) OR instr(v.id, ',')"
    " OR instr(v.id, '\"') OR instr(v.id, char(10)) OR instr(v.id, char(13))"
    " THEN cxlog_csv_text(v.id) ELSE v.id END"
)


def _line_sql(include_voided: bool) -> str:
    """One finished CSV line per visit. Cells from lookups carry their comma."""
    parts = [
        _ID_CELL,
        "','",
        "s.cells",
        _local("v.started_at"),
        "v.started_at",
        "','",
        "a.cells",
        "coalesce(e.cells, cxlog_engagement(v.first_engagement, v.used_name, v.recommended,"
        " v.reason_id))",
        "coalesce(o.cells, cxlog_outcome(v.outcome, v.no_sale_reason_id, v.units))",
        # cents as a decimal with two places, in integers (no float rounding)
        "CASE WHEN v.amount_cents IS NULL THEN ','"
        " ELSE (v.amount_cents / 100) || '.' || substr(100 + v.amount_cents % 100, 2) || ',' END",
        _local("v.closed_at"),
        "coalesce(c.csv, '')",
    ]
    if include_voided:
        parts += [
            "','",
            _local("v.voided_at"),
            "CASE WHEN v.void_reason IS NULL THEN '' ELSE cxlog_csv_text(v.void_reason) END",
        ]
    return " || ".join([*parts, "char(13, 10)"])


def _joins(radix: int) -> str:
    return f"""
        JOIN export_spans z ON z.store_id = v.store_id
            AND z.start <= v.started_at AND z.end > v.started_at
        JOIN export_associates a ON a.id = v.associate_id
        LEFT JOIN export_engagements e ON e.key = {_engagement_key_sql(radix)}
        LEFT JOIN export_outcomes o ON o.key = {_outcome_key_sql(radix)}
        LEFT JOIN export_associates c ON c.id = v.closed_by
    """


def _where(include_voided: bool) -> str:
    where = "v.started_at >= s.start AND v.started_at < s.end"
    return where if include_voided else where + " AND v.voided_at IS NULL"


def _chunk_sql(include_voided: bool, radix: int) -> str:
    """The lines of one rowid range as one string: a single step per chunk,
    so Python handles ~60 strings per million visits, not a million.
    CROSS JOIN keeps the table scan outermost: lines come in rowid order."""
    return f"""
        SELECT group_concat(line, ''), count(*) FROM (
            SELECT {_line_sql(include_voided)} AS line
            FROM visits v NOT INDEXED
            CROSS JOIN export_stores s ON s.id = v.store_id
            {_joins(radix)}
            WHERE v.rowid >= ? AND v.rowid < ? AND {_where(include_voided)}
        )
    """


def _indexed_sql(include_voided: bool, radix: int) -> str:
    """A small selection: through the (store, start) index, its few lines
    sorted into the same rowid order a scan gives."""
    return f"""
        SELECT {_line_sql(include_voided)}
        FROM export_stores s
        CROSS JOIN visits v INDEXED BY visits_store_started ON v.store_id = s.id
        {_joins(radix)}
        WHERE {_where(include_voided)}
        ORDER BY v.rowid
    """


# --- the visits CSV: streaming ----------------------------------------------------

# Above this share of the table a scan beats index lookups plus a sort.
SCAN_SHARE = 0.05
CHUNK = 16_384  # rowids per chunk: ~3 MB of CSV
BATCH = 2_000  # rows per fetchmany on the index path


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
    storage: Storage, out: BinaryIO, selection: Selection, *, for_excel: bool = False
) -> int:
    """Stream the visits CSV (UTF-8; with a BOM for Excel) into ``out``.

    One read transaction: names, offsets and visits are one snapshot while
    tablets keep writing. Memory stays flat: at most one chunk (~3 MB) of
    lines is held. Returns the number of visits written.
    """
    if for_excel:
        out.write(BOM)
    out.write((",".join(_header(selection.include_voided)) + NEWLINE).encode())
    with storage.read() as db:
        require_schema(db)
        conn: sqlite3.Connection = db.conn
        conn.execute("BEGIN")  # the snapshot; rolled back (nothing to keep) on close
        lookups = _read_lookups(db, selection)
        if not lookups.ranges:
            return 0
        _install(conn, lookups)
        conn.text_factory = bytes  # lines go to the file as SQLite made them
        if _scan_is_cheaper(db, lookups.ranges):
            return _write_chunks(conn, out, _chunk_sql(selection.include_voided, lookups.radix))
        cursor = conn.execute(_indexed_sql(selection.include_voided, lookups.radix))
        written = 0
        while rows := cursor.fetchmany(BATCH):
            out.write(b"".join([row[0] for row in rows]))
            written += len(rows)
        return written


def _write_chunks(conn: sqlite3.Connection, out: BinaryIO, sql: str) -> int:
    low, high = conn.execute("SELECT min(rowid), max(rowid) FROM visits").fetchone()
    written = 0
    for start in range(low or 0, (high or -1) + 1, CHUNK):
        lines, count = conn.execute(sql, (start, start + CHUNK)).fetchone()
        if lines:
            out.write(lines)
        written += count
    return written


def require_schema(db) -> None:
    if not db["visits"].exists() or not db["stores"].exists():
        raise StorageError("That file is not a cxlog database (it has no visits table).")


def count_visits(storage: Storage, selection: Selection) -> int:
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


def file_name(kind: str, selection: Selection, store_name: str | None = None) -> str:
    """cxlog-visits-2026-11-01-to-2026-11-30-corner-shop.csv"""
    days = "-to-".join(str(d) for d in (selection.first_day, selection.last_day) if d) or "all"
    slug = "".join(ch if ch.isalnum() else "-" for ch in (store_name or "").casefold()).strip("-")
    return f"cxlog-{kind}-{days}{'-' + slug if slug else ''}.csv"


def visits_csv(storage: Storage, selection: Selection, *, for_excel: bool = False) -> bytes:
    """The visits CSV in memory, for the Export page's download button."""
    buffer = io.BytesIO()
    write_visits(storage, buffer, selection, for_excel=for_excel)
    return buffer.getvalue()


def export_visits_file(
    storage: Storage, target: Path, selection: Selection, *, for_excel: bool = False
) -> int:
    """The CLI's export: written beside ``target`` then renamed, so a failed or
    interrupted run never leaves a half file where a good one was expected."""
    return write_file(
        target, lambda out: write_visits(storage, out, selection, for_excel=for_excel)
    )


def write_file(target: Path, write: Callable[[BinaryIO], int]) -> int:
    target = Path(target)
    if target.is_dir():
        raise ValidationError(f"{target} is a folder; give a file name to write.")
    folder = target.parent
    if not folder.is_dir():
        raise ValidationError(f"The folder {folder} does not exist.")
    try:
        handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=folder)
    except OSError as exc:
        raise ValidationError(f"Cannot write to {folder}: {exc.strerror}.") from None
    try:
        with os.fdopen(handle, "wb", buffering=1 << 20) as out:
            count = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    except OSError as exc:
        Path(partial).unlink(missing_ok=True)
        raise ValidationError(f"Cannot write {target}: {exc.strerror}.") from None
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return count
