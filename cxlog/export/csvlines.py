"""Each visit as one finished CSV line, built by SQLite (issue #6).

Python's ``csv`` module runs ~2.6x the ``sqlite3`` CLI (docs/stack-facts.md): a Python
object per cell is the cost, so none is made. Names are made CSV-safe once,
in Python, into small temporary lookup tables; first engagement, reason,
markers and outcome come from lookups of every combination; local times from
each store's UTC-offset spans (cxlog.calendar.offsets: exact across DST) and one
``datetime()``. A chunk of rowids comes back as one string.

Deliberately light (the standard library, cxlog.core.model, cxlog.calendar.offsets and
cxlog.calendar.localtimes): the helper processes of a large export
(cxlog.export.export_worker) import only this.

Excel-safe: a text cell that starts with = + - @ tab, CR or LF gets a leading
``'`` (OWASP CSV injection); numeric columns are written as plain numbers.
"""

from __future__ import annotations

import csv
import io
import itertools
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from cxlog.calendar import localday, localtimes
from cxlog.calendar.offsets import EARLIEST, LATEST, offset_spans, offset_text
from cxlog.core.model import (
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

# The visits CSV, in this order (docs/data-dictionary.md). Voided visits, and
# their two columns, only when asked for.
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
    "hour_visitors",  # issue #13: the door counter's visitors that local hour
)
VOID_COLUMNS: tuple[str, ...] = ("voided_local", "void_reason")
# Issue #30: time to greet, after every other column (the void columns
# included), so a reader of the file from before keeps its column positions.
GREET_COLUMNS: tuple[str, ...] = ("arrived_local", "greet_seconds", "left_before_greeting")

OPEN = "open"  # the outcome cell of a visit still in progress
NEWLINE = "\r\n"  # RFC 4180 and what Excel writes
BOM = "\ufeff".encode()
# OWASP's list, plus line feed: a cell starting with any of these can be read
# as a formula by Excel, LibreOffice or Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_NEEDS_QUOTES = (",", '"', "\r", "\n")
# Format (zero-width, bidi), control, separator and unassigned characters.
_INVISIBLE = {"Cf", "Cc", "Zs", "Zl", "Zp", "Cn", "Co"}


# --- making a cell safe ---------------------------------------------------------


def neutralise(text: str) -> str:
    """A text cell a spreadsheet shows as text: prefix ``'`` to a formula start,
    also one hidden behind leading spaces or invisible characters (U+200B
    zero-width space, U+FEFF, bidi marks…), which some spreadsheets skip (#11)."""
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    if text[:1].isalnum():  # the usual name: nothing to look behind
        return text
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) in _INVISIBLE:
            continue
        return "'" + text if ch in FORMULA_STARTS else text
    return text


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


def fraction_cell(value: float | None) -> float | str:
    """A rate or share as a CSV number: a fraction to four places (0.4312),
    an empty cell for none. Every CSV writes rates so (summary, follow-ups)."""
    return "" if value is None else round(value, 4)


def interval_cells(rate: object) -> tuple[float | str, float | str]:
    """A rate's 95% interval as two CSV cells (``rate.interval``: low, high)."""
    bounds = rate.interval
    return ("", "") if bounds is None else (fraction_cell(bounds[0]), fraction_cell(bounds[1]))


def in_memory(write: Callable[[BinaryIO], object]) -> bytes:
    """What ``write(out)`` puts in a file, as bytes: every CSV's download
    (the Export page) goes through here, every CSV's file through
    ``cxlog.storage.atomic.write_file``, and both through the same writer."""
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


def write_rows(
    out: BinaryIO,
    header: Sequence[str],
    rows: Iterable[Iterable[object]],
    *,
    for_excel: bool,
    decimal: str = ".",
    delimiter: str = ",",
) -> int:
    """A small CSV (the summary, the follow-ups) into ``out``: UTF-8 (with a
    BOM for Excel), CRLF, text neutralised and numbers left as numbers, like
    the visits CSV. Returns the row count; ``out`` stays open.

    ``decimal`` and ``delimiter``: "." and "," in every file but the summary's
    Excel variant in a language that writes "," for decimals (issue #29:
    cxlog.export.summary.excel_signs), where Excel expects "," and ";"."""
    text = io.TextIOWrapper(
        out, encoding="utf-8-sig" if for_excel else "utf-8", newline="", write_through=True
    )
    try:
        writer = csv.writer(text, delimiter=delimiter, lineterminator=NEWLINE)
        writer.writerow(header)
        count = 0
        for row in rows:
            cells = safe_row(row)
            if decimal != ".":
                cells = [
                    repr(cell).replace(".", decimal) if isinstance(cell, float) else cell
                    for cell in cells
                ]
            writer.writerow(cells)
            count += 1
        return count
    finally:
        text.detach()  # leave ``out`` open for the caller


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


# --- lookups ----------------------------------------------------------


def header(include_voided: bool) -> list[str]:
    return [*VISIT_COLUMNS, *(VOID_COLUMNS if include_voided else ()), *GREET_COLUMNS]


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
def engagement_key_sql(radix: int, code: str = "unicode") -> str:
    """``_engagement_key`` in SQL; ``code``: the engine's function giving a
    text's first code point (SQLite's ``unicode``, PostgreSQL's ``ascii``)."""
    return (
        f"((({code}(v.first_engagement) - 109) * 2 + v.used_name) * 2 + v.recommended)"
        f" * {radix} + coalesce(v.reason_id, 0)"
    )


def _engagement_key(engagement: str, used: int, recommended: int, reason_id: int, radix: int):
    return (((ord(engagement[0]) - 109) * 2 + used) * 2 + recommended) * radix + reason_id


def outcome_key_sql(radix: int, code: str = "unicode") -> str:
    """``_outcome_key`` in SQL (``code`` as for ``engagement_key_sql``)."""
    return (
        f"(coalesce({code}(v.outcome), 0) * {radix} + coalesce(v.no_sale_reason_id, 0)) * 100"
        " + coalesce(v.units, 0)"
    )


def _outcome_key(outcome: str | None, no_sale_id: int, units: int, radix: int) -> int:
    return ((ord(outcome[0]) if outcome else 0) * radix + no_sale_id) * 100 + units


@dataclass(frozen=True)
class Lookups:
    """Everything a visits line needs besides the visit, made CSV-safe once."""

    ranges: list[StoreRange]
    spans: list[tuple[int, str, str, str, str]]
    associates: list[tuple[int, str]]
    reasons: dict[int, dict]
    # Issue #13: (store id, local hour "YYYY-MM-DD HH", offset cell, visitors cell).
    traffic: list[tuple[int, str, str, str]] = ()
    # Issue #12: the visits carry their local start and close (cxlog/calendar/localtimes.py),
    # and no visit id needs escaping (migration i12_visits_keep_local_times).
    local_times: bool = False
    safe_ids: bool = False
    # Issue #30: the visits carry their arrival (migration i30_time_to_greet);
    # a file from before has none, and its greet cells are empty.
    arrivals: bool = False

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


def read_lookups(db, ranges: list[StoreRange]) -> Lookups:
    """The lookups of the selected stores, read inside the caller's snapshot
    (``db``: a cxlog.storage.engine.Database of either engine)."""
    spans = []
    if ranges:
        begin, end = _span_bounds(db, ranges)
        for r in ranges:
            for since, until, seconds in offset_spans(localday.zone(r.timezone), begin, end):
                # The offset cell carries the comma that follows it.
                modifier, offset = f"{seconds:+d} seconds", offset_text(seconds) + ","
                spans.append((r.store_id, since, until, modifier, offset))
    reasons = {
        row[0]: {"name": row[1], "learned": row[2]}
        for row in db.execute("SELECT id, name, learned FROM reasons")
    }
    associates = [tuple(row) for row in db.execute("SELECT id, name FROM associates")]
    columns = set(db.columns("visits"))
    return Lookups(
        ranges=ranges,
        spans=spans,
        associates=associates,
        reasons=reasons,
        traffic=_traffic_hours(db, ranges),
        local_times={"started_local", "closed_local"} <= columns,
        arrivals={"arrived_at", "arrived_local", "greet_seconds", "left_before_greeting"}
        <= columns,
    )


def no_unsafe_id(conn: sqlite3.Connection) -> bool:
    """Whether no visit id needs escaping, from the partial index of those
    that do (normally empty): one index probe instead of a check per visit
    (~0.3 s of CPU per million visits). A file from before the index: False."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'visits_unsafe_id'").fetchone():
        return False
    (found,) = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM visits INDEXED BY visits_unsafe_id WHERE {unsafe_id()})"
    ).fetchone()
    return not found


def _traffic_hours(db, ranges: list[StoreRange]) -> list[tuple]:
    """Issue #13: each counter hour of the selection keyed as a visit finds it:
    its store, local clock hour and UTC offset (the hour repeated when clocks
    go back is two hours). Visitors as the store's settings count them."""
    if not db.has_table("traffic_hours"):
        return []
    result = []
    for r in ranges:
        zone = localday.zone(r.timezone)
        rows = db.execute(
            "SELECT t.hour_start, max(0, CASE WHEN coalesce(c.two_way, 0) = 1"
            " AND t.exits IS NOT NULL"
            " THEN (t.entries + t.exits) / 2.0 ELSE t.entries END - coalesce(c.staff_per_hour, 0))"
            " FROM traffic_hours t LEFT JOIN traffic_settings c ON c.store_id = t.store_id"
            " WHERE t.store_id = ? AND t.hour_start >= ? AND t.hour_start < ?",
            (r.store_id, r.start, r.end),
        )
        for hour_start, visitors in rows:
            local = from_utc_text(hour_start).astimezone(zone)
            offset = offset_text(int(local.utcoffset().total_seconds())) + ","
            result.append((r.store_id, f"{local:%Y-%m-%d %H}", offset, f"{visitors:g}"))
    return result


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
        store_id INTEGER, start TEXT, end TEXT, modifier TEXT, shift TEXT,
        PRIMARY KEY (store_id, start)
    ) WITHOUT ROWID""",
    "CREATE TEMP TABLE export_associates (id INTEGER PRIMARY KEY, csv TEXT, cells TEXT)",
    "CREATE TEMP TABLE export_engagements (key INTEGER PRIMARY KEY, cells TEXT)",
    "CREATE TEMP TABLE export_outcomes (key INTEGER PRIMARY KEY, cells TEXT)",
    """CREATE TEMP TABLE export_traffic (
        store_id INTEGER, hour TEXT, offset TEXT, visitors TEXT,
        PRIMARY KEY (store_id, hour, offset)
    ) WITHOUT ROWID""",
)


def install(conn: sqlite3.Connection, lookups: Lookups) -> None:
    """The lookups as temporary tables of this connection, inside its read
    transaction (one statement each: executescript() would commit it)."""
    for ddl in _TEMP_TABLES:
        conn.execute(ddl)
    conn.executemany(
        "INSERT INTO export_stores VALUES (?, ?, ?, ?)",
        [(r.store_id, f",{csv_text(r.name)},", r.start, r.end) for r in lookups.ranges],
    )
    conn.executemany("INSERT INTO export_spans VALUES (?, ?, ?, ?, ?)", lookups.spans)
    conn.executemany(
        "INSERT INTO export_associates VALUES (?, ?, ?)",
        [(i, csv_text(name), f",{csv_text(name)},") for i, name in lookups.associates],
    )
    conn.executemany("INSERT INTO export_engagements VALUES (?, ?)", lookups.engagements())
    conn.executemany("INSERT INTO export_outcomes VALUES (?, ?)", lookups.outcomes())
    conn.executemany("INSERT INTO export_traffic VALUES (?, ?, ?, ?)", lookups.traffic)
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


# --- SQL ----------------------------------------------------------------


def _local(column: str, stored: str | None = None) -> str:
    """A UTC text column as local ISO 8601, to the second, with the store's
    offset (and the comma that follows).

    ``stored``: the visit's own local text of that time (cxlog/calendar/localtimes.py),
    read when present. Otherwise ``z`` is the span of the visit's start; a
    close or void minutes later is nearly always in it, otherwise its own span
    is looked up. ``datetime()`` then a space-to-T swap costs ~0.2 µs;
    ``strftime`` with milliseconds ~0.35.
    """
    convert = localtimes.convert_sql(column, "z")
    if column == "v.started_at":
        return convert if stored is None else f"coalesce({stored} || ',', {convert})"
    other = (
        f"(SELECT {localtimes.convert_sql(column, 'o')} FROM export_spans o"
        f" WHERE o.store_id = v.store_id AND o.start <= {column} ORDER BY o.start DESC LIMIT 1)"
    )
    known = "" if stored is None else f" WHEN {stored} IS NOT NULL THEN {stored} || ','"
    return (
        f"CASE WHEN {column} IS NULL THEN ','{known}"
        f" WHEN {column} >= z.start AND {column} < z.end THEN {convert}"
        f" ELSE {other} END"
    )


# Visit ids from the Log page match [A-Za-z0-9_-]{8,64}; one that starts like a
# formula or holds a comma, quote or line break goes through csv_text. The
# migration i12_visits_keep_local_times indexes the ids this matches.
def unsafe_id(column: str = "id") -> str:
    """SQL that is true for an id the CSV must escape. With the default
    column it is, word for word, the partial index's WHERE clause, which is
    what lets a query use that index."""
    return (
        f"unicode({column}) IN (61, 43, 45, 64, 9, 13, 10) OR instr({column}, ',')"
        f" OR instr({column}, '\"') OR instr({column}, char(10)) OR instr({column}, char(13))"
    )


_ID_CELL = f"CASE WHEN {unsafe_id('v.id')} THEN cxlog_csv_text(v.id) ELSE v.id END"


def _line_sql(include_voided: bool, lookups: Lookups) -> str:
    """One finished CSV line per visit. Cells from lookups carry the commas
    around them; one ``printf`` joins the parts (each ``||`` was an
    allocation and a copy of the line so far: ~0.2 s per million visits)."""
    traffic, stored = bool(lookups.traffic), lookups.local_times
    parts = [
        "v.id" if lookups.safe_ids else _ID_CELL,
        "s.cells",  # ,store,
        _local("v.started_at", "v.started_local" if stored else None),  # …+01:00,
        "v.started_at",
        "a.cells",  # ,associate,
        "coalesce(e.cells, cxlog_engagement(v.first_engagement, v.used_name, v.recommended,"
        " v.reason_id))",
        "coalesce(o.cells, cxlog_outcome(v.outcome, v.no_sale_reason_id, v.units))",
        # cents as a decimal with two places, in integers (no float rounding)
        "CASE WHEN v.amount_cents IS NULL THEN ','"
        " ELSE (v.amount_cents / 100) || '.' || substr(100 + v.amount_cents % 100, 2) || ',' END",
        _local("v.closed_at", "v.closed_local" if stored else None),
        "coalesce(c.csv, '')",
        # hour_visitors (#13); an empty cell for every visit when the selection
        # has no counter hours: the join's key costs every visit a datetime()
        # (~0.5 s of CPU per million visits) even when nothing can match.
        "',' || coalesce(x.visitors, '')" if traffic else "','",
    ]
    if include_voided:
        parts += [
            "','",
            _local("v.voided_at"),
            "CASE WHEN v.void_reason IS NULL THEN '' ELSE cxlog_csv_text(v.void_reason) END",
        ]
    form = "%s" * len(parts)
    if lookups.arrivals:
        # Issue #30: arrived_local (its comma after it), greet_seconds (printf
        # writes NULL as nothing), left_before_greeting; the commas between
        # are the format's. The arrival's local text is kept on the visit (a
        # conversion per arrival cost ~0.75 s of CPU per million visits).
        form += ",%s%s,%s"
        parts += [
            _local("v.arrived_at", "v.arrived_local"),
            "v.greet_seconds",
            "v.left_before_greeting",
        ]
    else:
        form += ",,,0"  # a file from before #30: no visit had an arrival
    return f"printf('{form}' || char(13, 10), {', '.join(parts)})"


def _joins(radix: int, traffic: bool) -> str:
    joins = f"""
        JOIN export_spans z ON z.store_id = v.store_id
            AND z.start <= v.started_at AND z.end > v.started_at
        JOIN export_associates a ON a.id = v.associate_id
        LEFT JOIN export_engagements e ON e.key = {engagement_key_sql(radix)}
        LEFT JOIN export_outcomes o ON o.key = {outcome_key_sql(radix)}
        LEFT JOIN export_associates c ON c.id = v.closed_by
    """
    if traffic:
        joins += """
        LEFT JOIN export_traffic x ON x.store_id = v.store_id
            AND x.hour = substr(datetime(v.started_at, z.modifier), 1, 13) AND x.offset = z.shift
    """
    return joins


def _where(include_voided: bool) -> str:
    where = "v.started_at >= s.start AND v.started_at < s.end"
    return where if include_voided else where + " AND v.voided_at IS NULL"


def chunk_sql(include_voided: bool, lookups: Lookups) -> str:
    """The lines of one rowid range as one string: a single step per chunk,
    so Python handles ~60 strings per million visits, not a million.
    CROSS JOIN keeps the table scan outermost: lines come in rowid order."""
    return f"""
        SELECT group_concat(line, ''), count(*) FROM (
            SELECT {_line_sql(include_voided, lookups)} AS line
            FROM visits v NOT INDEXED
            CROSS JOIN export_stores s ON s.id = v.store_id
            {_joins(lookups.radix, bool(lookups.traffic))}
            WHERE v.rowid >= ? AND v.rowid < ? AND {_where(include_voided)}
        )
    """


def indexed_sql(include_voided: bool, lookups: Lookups) -> str:
    """A small selection: through the (store, start) index, its few lines
    sorted into the same rowid order a scan gives."""
    return f"""
        SELECT {_line_sql(include_voided, lookups)}
        FROM export_stores s
        CROSS JOIN visits v INDEXED BY visits_store_started ON v.store_id = s.id
        {_joins(lookups.radix, bool(lookups.traffic))}
        WHERE {_where(include_voided)}
        ORDER BY v.rowid
    """


def read_chunk(conn: sqlite3.Connection, sql: str, start: int, size: int) -> tuple[bytes, int]:
    """The lines of rowids [start, start + size) and how many there are."""
    lines, count = conn.execute(sql, (start, start + size)).fetchone()
    return lines or b"", count
