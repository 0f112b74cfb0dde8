"""Each visit as one finished CSV line, built by PostgreSQL (#27).

The same lines as cxlog.export.csvlines builds on SQLite, byte for byte, in
PostgreSQL's words: the lookups (names made CSV-safe once, in Python; every
combination of first engagement, reason and markers; of outcome, no-sale
reason and units; each store's UTC-offset spans) are temporary tables of the
export's snapshot, and one ``COPY (SELECT line …) TO STDOUT`` streams the
lines in the order visits were written (``rowid``). The server formats; the
export only turns COPY's row ends into CRLF (and undoes its backslash
escapes in the rare block that has any), ~8,000 lines at a time: a Python
object per line, none per cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

from cxlog.core.errors import StorageError
from cxlog.export.csvlines import Lookups, csv_text, engagement_key_sql, outcome_key_sql
from cxlog.language.words import _

BLOCK = 8_192  # lines joined and written at once (a small selection, through COPY)
CHUNK = 8_192  # rowids per chunk of a large selection: ~1.5 MB of CSV

_TEMP_TABLES = (
    "CREATE TEMP TABLE export_stores"
    " (id BIGINT PRIMARY KEY, cells TEXT, since TEXT, until TEXT) ON COMMIT DROP",
    "CREATE TEMP TABLE export_spans (store_id BIGINT, since TEXT, until TEXT,"
    " seconds INTEGER, shift TEXT, PRIMARY KEY (store_id, since)) ON COMMIT DROP",
    "CREATE TEMP TABLE export_associates"
    " (id BIGINT PRIMARY KEY, csv TEXT, cells TEXT) ON COMMIT DROP",
    "CREATE TEMP TABLE export_engagements (key BIGINT PRIMARY KEY, cells TEXT) ON COMMIT DROP",
    "CREATE TEMP TABLE export_outcomes (key BIGINT PRIMARY KEY, cells TEXT) ON COMMIT DROP",
    "CREATE TEMP TABLE export_traffic (store_id BIGINT, hour TEXT, shift TEXT,"
    " visitors TEXT, PRIMARY KEY (store_id, hour, shift)) ON COMMIT DROP",
    "CREATE TEMP TABLE export_ids (id TEXT PRIMARY KEY, csv TEXT) ON COMMIT DROP",
    "CREATE TEMP TABLE export_void_reasons (reason TEXT PRIMARY KEY, csv TEXT) ON COMMIT DROP",
)

# The visit ids the CSV must escape: word for word the WHERE clause of the
# partial index visits_unsafe_id (PostgreSQL's schema), so the index finds them.
UNSAFE_ID = (
    "ascii(id) IN (61, 43, 45, 64, 9, 13, 10) OR strpos(id, ',') > 0 OR strpos(id, '\"') > 0"
    " OR strpos(id, chr(10)) > 0 OR strpos(id, chr(13)) > 0"
)


def install(db, lookups: Lookups, include_voided: bool) -> tuple[bool, bool]:
    """The lookups as temporary tables of ``db``'s snapshot (dropped with it).
    Returns whether any visit id needs escaping and whether the selection
    has counter hours."""
    for ddl in _TEMP_TABLES:
        db.execute(ddl)
    db.load(
        "export_stores",
        ("id", "cells", "since", "until"),
        [(r.store_id, f",{csv_text(r.name)},", r.start, r.end) for r in lookups.ranges],
    )
    db.load(
        "export_spans",
        ("store_id", "since", "until", "seconds", "shift"),
        [
            (store_id, since, until, int(modifier.split()[0]), shift)
            for store_id, since, until, modifier, shift in lookups.spans
        ],
    )
    db.load(
        "export_associates",
        ("id", "csv", "cells"),
        [(i, csv_text(name), f",{csv_text(name)},") for i, name in lookups.associates],
    )
    # Keyed by one number each, as on SQLite (cxlog.export.csvlines): joined
    # on several coalesced columns, the planner guessed one visit where there
    # were thousands and hashed the visits instead of the lookups.
    db.load("export_engagements", ("key", "cells"), lookups.engagements())
    db.load("export_outcomes", ("key", "cells"), lookups.outcomes())
    db.load(
        "export_traffic",
        ("store_id", "hour", "shift", "visitors"),
        [
            (store_id, hour.replace(" ", "T"), shift, visitors)
            for store_id, hour, shift, visitors in lookups.traffic
        ],
    )
    unsafe = [row[0] for row in db.execute(f"SELECT id FROM visits WHERE {UNSAFE_ID}")]
    db.load("export_ids", ("id", "csv"), [(i, csv_text(i)) for i in unsafe])
    if include_voided:
        reasons = db.execute(
            "SELECT DISTINCT void_reason FROM visits"
            " WHERE voided_at IS NOT NULL AND void_reason IS NOT NULL"
        ).fetchall()
        db.load("export_void_reasons", ("reason", "csv"), [(r, csv_text(r)) for (r,) in reasons])
    for table in ("export_stores", "export_spans", "export_engagements", "export_outcomes"):
        db.execute(f"ANALYZE pg_temp.{table}")  # a temporary table has no statistics
    return bool(unsafe), bool(lookups.traffic)


# Issue #30: the visit's arrival in local time (and the comma after it), as
# kept on the visit (cxlog/calendar/localtimes.py); worked out only where a
# hand edit or a bulk load left it out.
_ARRIVED = (
    "CASE WHEN v.arrived_at IS NULL THEN ','"
    " WHEN v.arrived_local IS NOT NULL THEN v.arrived_local || ','"
    " ELSE {converted} END"
)


def _converted(column: str) -> str:
    """``column`` (UTC text) as local text with offset and the comma after
    it, through the store's offset span that holds it; for the few visits
    that do not carry their local times (cxlog/calendar/localtimes.py)."""
    return (
        f"(SELECT to_char({column}::timestamp + o.seconds * interval '1 second',"
        f" 'YYYY-MM-DD\"T\"HH24:MI:SS') || o.shift FROM pg_temp.export_spans o"
        f" WHERE o.store_id = v.store_id AND o.since <= {column}"
        " ORDER BY o.since DESC LIMIT 1)"
    )


def line_sql(
    include_voided: bool,
    escaped_ids: bool,
    traffic: bool,
    radix: int,
    *,
    chunk: bool = False,
    arrivals: bool = True,
) -> str:
    """One line per selected visit, without its line end, in rowid order.
    Cells from lookups carry the commas around them, as on SQLite.

    ``chunk``: instead, the lines of the rowids in [%s, %s) joined into one
    value, each ending in CRLF, as UTF-8 bytes (a large export's path).
    ``arrivals``: the visits have time to greet's columns (#30); without
    them, the three cells every visit without an arrival has."""
    started = (
        "l.start" if traffic else f"coalesce(v.started_local || ',', {_converted('v.started_at')})"
    )
    parts = [
        "coalesce(u.csv, v.id)" if escaped_ids else "v.id",
        "s.cells",
        started,
        "v.started_at",
        "a.cells",
        "e.cells",
        "o.cells",
        "CASE WHEN v.amount_cents IS NULL THEN ','"
        " ELSE (v.amount_cents / 100) || '.' || lpad(mod(v.amount_cents, 100)::text, 2, '0')"
        " || ',' END",
        "CASE WHEN v.closed_at IS NULL THEN ','"
        " WHEN v.closed_local IS NOT NULL THEN v.closed_local || ','"
        f" ELSE {_converted('v.closed_at')} END",
        "coalesce(c.csv, '')",
        "',' || coalesce(x.visitors, '')" if traffic else "','",
    ]
    joins = [
        "JOIN pg_temp.export_stores s ON s.id = v.store_id",
        "JOIN pg_temp.export_associates a ON a.id = v.associate_id",
        f"JOIN pg_temp.export_engagements e ON e.key = {engagement_key_sql(radix, 'ascii')}",
        f"JOIN pg_temp.export_outcomes o ON o.key = {outcome_key_sql(radix, 'ascii')}",
        "LEFT JOIN pg_temp.export_associates c ON c.id = v.closed_by",
    ]
    if escaped_ids:
        joins.append("LEFT JOIN pg_temp.export_ids u ON u.id = v.id")
    if traffic:
        joins += [
            "CROSS JOIN LATERAL (SELECT coalesce(v.started_local || ',',"
            f" {_converted('v.started_at')}) AS start) l",
            "LEFT JOIN pg_temp.export_traffic x ON x.store_id = v.store_id"
            " AND x.hour = left(l.start, 13) AND x.shift = substr(l.start, 20)",
        ]
    if include_voided:
        parts += [
            f"',' || CASE WHEN v.voided_at IS NULL THEN ',' ELSE {_converted('v.voided_at')} END",
            "coalesce(w.csv, '')",
        ]
        joins.append("LEFT JOIN pg_temp.export_void_reasons w ON w.reason = v.void_reason")
    if arrivals:
        # Issue #30: arrived_local, greet_seconds, left_before_greeting.
        parts += [
            "',' || " + _ARRIVED.format(converted=_converted("v.arrived_at")),
            "coalesce(v.greet_seconds::text, '')",
            "',' || v.left_before_greeting",
        ]
    else:
        parts.append("',,,0'")  # a database from before #30: no visit had an arrival
    where = "v.started_at >= s.since AND v.started_at < s.until"
    if not include_voided:
        where += " AND v.voided_at IS NULL"
    if chunk:
        return (
            f"SELECT convert_to(string_agg({' || '.join(parts)} || E'\\r\\n', ''"
            f" ORDER BY v.rowid), 'UTF8'), count(*) FROM visits v {' '.join(joins)}"
            f" WHERE v.rowid >= %s AND v.rowid < %s AND {where}"
        )
    return (
        f"SELECT {' || '.join(parts)} FROM visits v {' '.join(joins)}"
        f" WHERE {where} ORDER BY v.rowid"
    )


def write(
    db, out: BinaryIO, lookups: Lookups, include_voided: bool, *, scan: bool, beside=None
) -> int:
    """Stream the selection's lines into ``out``, inside ``db``'s snapshot;
    returns how many. ``scan``: the selection is a large share of the
    visits (cxlog.export.export decides, as on SQLite). ``beside``: a second
    connection in the same snapshot, which builds every other chunk."""
    escaped_ids, traffic = _prepare(db, lookups, include_voided)
    if scan:
        sql = line_sql(
            include_voided,
            escaped_ids,
            traffic,
            lookups.radix,
            chunk=True,
            arrivals=lookups.arrivals,
        )
        if beside is not None:
            _prepare(beside, lookups, include_voided)
        return _chunks(db, out, sql, beside)
    written = 0
    sql = line_sql(include_voided, escaped_ids, traffic, lookups.radix, arrivals=lookups.arrivals)
    for block, count in _blocks(db, f"COPY ({sql}) TO STDOUT"):
        out.write(block)
        written += count
    return written


def _prepare(db, lookups: Lookups, include_voided: bool) -> tuple[bool, bool]:
    found = install(db, lookups, include_voided)
    # Every lookup is a few hundred rows at most: hash joins, always (with a
    # bad guess of the rows, the planner once chose nested loops: 37 s, not 3).
    db.execute("SET LOCAL enable_nestloop = off")
    return found


def _chunks(db, out: BinaryIO, sql: str, beside=None) -> int:
    """A large selection in rowid chunks, each one value from the server:
    ~120 rows for a million visits reach Python instead of a million (the
    per-row cost was a third of the export), and each chunk's sort fits in
    memory. Bytes in binary format: no decoding, no escapes to undo. With
    ``beside``, chunks go in pairs: the second connection builds the odd one
    while this one builds the even one (the server's work on two cores, as
    SQLite's helper processes), and both are written in order."""
    low, high = db.execute("SELECT min(rowid), max(rowid) FROM visits").fetchone()
    if low is None:
        return 0

    def chunk(conn, start: int) -> tuple[bytes, int]:
        found = conn.execute(sql, (start, start + CHUNK), prepare=True, binary=True).fetchone()
        return (found[0] or b"", found[1])

    starts = list(range(low, high + 1, CHUNK))
    written = 0
    with ThreadPoolExecutor(max_workers=1) as other:
        for at in range(0, len(starts), 2):
            second = None
            if beside is not None and at + 1 < len(starts):
                second = other.submit(chunk, beside.conn, starts[at + 1])
            pieces = [chunk(db.conn, starts[at])]
            if second is not None:
                pieces.append(second.result())
            elif at + 1 < len(starts):
                pieces.append(chunk(db.conn, starts[at + 1]))
            for lines, count in pieces:
                out.write(lines)
                written += count
    return written


def _blocks(db, copy_sql: str) -> Iterator[tuple[bytes, int]]:
    with db.conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
        rows: list[bytes] = []
        for row in copy:  # one line each, as COPY's text format writes it
            rows.append(row)
            if len(rows) == BLOCK:
                yield as_csv(b"".join(rows)), len(rows)
                rows = []
        if rows:
            yield as_csv(b"".join(rows)), len(rows)


_ESCAPES = {
    b"\\": b"\\",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
    b"b": b"\b",
    b"f": b"\f",
    b"v": b"\v",
}
_ESCAPED = re.compile(rb"\\(.)", re.DOTALL)


def as_csv(block: bytes) -> bytes:
    """COPY's text rows as CSV lines: each row ends in CRLF, and the
    characters COPY writes as backslash escapes (backslash, tab, line breaks
    inside a quoted cell…) are themselves again. A row that is ``\\N`` (a
    line SQL made NULL: a lookup missing) is refused, not written."""
    if b"\\" not in block:  # nearly always: only a hand-typed name has one
        return block.replace(b"\n", b"\r\n")
    lines = block.split(b"\n")[:-1]
    if b"\\N" in lines:
        raise StorageError(_("A visit could not be written to the CSV (a lookup is missing)."))
    return b"".join(
        _ESCAPED.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), line) + b"\r\n"
        for line in lines
    )
