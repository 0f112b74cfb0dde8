"""The visits CSV's lines as PostgreSQL builds them (#27,
cxlog/export/csvlines_postgres.py): COPY's text rows turned into CSV lines,
and names no spreadsheet may read as anything but text, through both of its
paths (COPY for a small selection, rowid chunks for a large one), equal on
either engine."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from cxlog.core.errors import StorageError
from cxlog.export import csvlines_postgres, export
from cxlog.export.export import ExportSelection
from cxlog.stores import catalog
from tests.conftest import log_visit_in, utc
from tests.helpers.peek import peek


def test_copy_rows_become_crlf_lines_with_their_escapes_undone():
    plain = b"a,b\nc,d\n"
    assert csvlines_postgres.as_csv(plain) == b"a,b\r\nc,d\r\n"
    # Backslash, tab, and a line break inside a quoted cell, as COPY writes them.
    escaped = b'1,"two\\nlines",back\\\\slash,tab\\there\n2,x\n'
    assert csvlines_postgres.as_csv(escaped) == (b'1,"two\nlines",back\\slash,tab\there\r\n2,x\r\n')


def test_a_line_the_server_made_null_is_refused_not_written():
    with pytest.raises(StorageError, match="could not be written"):
        csvlines_postgres.as_csv(b"1,a\n\\N\n")


HOSTILE = {
    "store": 'Back\\slash "Quoted", Shop',
    "associate": "Tab\tAnd\nNewline",
    "other": "=cmd|' /C calc'!A0",
}


@pytest.mark.parametrize("scan", [False, True], ids=["copy", "chunks"])
def test_hostile_names_come_out_whole_through_either_path(storage, shop, monkeypatch, scan):
    catalog.update_store(storage, shop["store"], name=HOSTILE["store"], actor="test")
    # cxlog refuses control characters in a name; a hand edit may leave one.
    peek(storage).execute(
        "UPDATE associates SET name = ? WHERE id = ?", [HOSTILE["associate"], shop["ana"]]
    )
    catalog.rename_associate(storage, shop["ben"], HOSTILE["other"], actor="test")
    for day in (3, 4, 5):
        log_visit_in(storage, shop, utc(f"2026-11-0{day}T10:00:00+00:00"), units=2)
        log_visit_in(
            storage,
            shop,
            utc(f"2026-11-0{day}T11:00:00+00:00"),
            no_sale="Price",
            associate=shop["ben"],
        )
    monkeypatch.setattr(export, "SCAN_SHARE", 0.0 if scan else 2.0)
    monkeypatch.setattr(csvlines_postgres, "CHUNK", 2)
    selection = ExportSelection(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
    data = export.visits_csv(storage, selection)
    rows = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    assert len(rows) == 6
    assert {r["store"] for r in rows} == {HOSTILE["store"]}
    assert {r["associate"] for r in rows} == {HOSTILE["associate"], "'" + HOSTILE["other"]}
    assert data.count(b"\r\n") == 7  # the name's line break stays a bare LF
    assert data.count(b"\n") == 7 + 6  # Ana logged and closed three visits: two cells each
