"""The visits CSV (issue #6): round trip through pandas, store-local days,
Excel-safe cells, exact local times across DST, streaming."""

from __future__ import annotations

import io
import os
import random
import signal
import sqlite3
import sys
import types
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from cxlog.calendar.offsets import offset_spans
from cxlog.core.errors import NotFoundError, StorageError, ValidationError
from cxlog.core.model import from_utc_text
from cxlog.export import export, export_pool, export_worker, followups_csv, summary
from cxlog.export.export import ExportSelection
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import ROOT, log_visit_in, new_id, utc


def read(data: bytes) -> pd.DataFrame:
    """As a spreadsheet user's script would: every cell as its text."""
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def local_iso(utc_text: str | None, zone: str) -> str:
    if not utc_text:
        return ""
    return from_utc_text(utc_text).astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def expected_rows(storage, selection: ExportSelection) -> dict[str, dict[str, str]]:
    """The visits of the selection straight from the tables, formatted by hand
    with Python's zoneinfo: what the CSV must say, cell by cell."""
    with storage.read() as db:
        rows = list(
            db.query(
                """SELECT v.*, s.name AS store, s.timezone, a.name AS associate,
                          r.name AS reason, r.learned, n.name AS no_sale, c.name AS closer
                   FROM visits v JOIN stores s ON s.id = v.store_id
                   JOIN associates a ON a.id = v.associate_id
                   LEFT JOIN reasons r ON r.id = v.reason_id
                   LEFT JOIN reasons n ON n.id = v.no_sale_reason_id
                   LEFT JOIN associates c ON c.id = v.closed_by"""
            )
        )
    result = {}
    for v in rows:
        zone = ZoneInfo(v["timezone"])
        local_day = from_utc_text(v["started_at"]).astimezone(zone).date()
        if selection.first_day and local_day < selection.first_day:
            continue
        if selection.last_day and local_day > selection.last_day:
            continue
        if selection.store_ids and v["store_id"] not in selection.store_ids:
            continue
        if v["voided_at"] and not selection.include_voided:
            continue
        depth = (v["first_engagement"] == "warm") + bool(v["learned"]) + v["recommended"]
        row = {
            "visit_id": v["id"],
            "store": v["store"],
            "started_local": local_iso(v["started_at"], v["timezone"]),
            "started_utc": v["started_at"],
            "associate": v["associate"],
            "first_engagement": v["first_engagement"],
            "reason": v["reason"] or "",
            "used_name": str(v["used_name"]),
            "recommended": str(v["recommended"]),
            "connection_depth": str(depth),
            "outcome": v["outcome"] or "open",
            "no_sale_reason": v["no_sale"] or "",
            "units": "" if v["units"] is None else str(v["units"]),
            "amount": "" if v["amount_cents"] is None else f"{v['amount_cents'] / 100:.2f}",
            "closed_local": local_iso(v["closed_at"], v["timezone"]),
            "closed_by": v["closer"] or "",
            "hour_visitors": "",  # no counter data in these tests (#13: test_export_traffic)
        }
        if selection.include_voided:
            row["voided_local"] = local_iso(v["voided_at"], v["timezone"])
            row["void_reason"] = v["void_reason"] or ""
        # Issue #30: time to greet (tests/test_export_greet.py has arrivals).
        row["arrived_local"] = local_iso(v["arrived_at"], v["timezone"])
        row["greet_seconds"] = "" if v["greet_seconds"] is None else str(v["greet_seconds"])
        row["left_before_greeting"] = str(v["left_before_greeting"])
        result[v["id"]] = row
    return result


def test_round_trip_through_pandas_equals_the_database(storage, two_stores):
    selection = ExportSelection(first_day=date(2026, 11, 3), last_day=date(2026, 11, 20))
    frame = read(export.visits_csv(storage, selection))
    assert list(frame.columns) == [*export.VISIT_COLUMNS, *export.GREET_COLUMNS]
    expected = expected_rows(storage, selection)
    assert len(expected) > 20  # both stores, the middle of the month
    assert {r["visit_id"]: r for r in frame.to_dict("records")} == expected


def test_round_trip_with_voided_visits_adds_their_columns(storage, two_stores):
    selection = ExportSelection(store_ids=(two_stores["store"],), include_voided=True)
    frame = read(export.visits_csv(storage, selection))
    assert list(frame.columns) == [
        *export.VISIT_COLUMNS,
        *export.VOID_COLUMNS,
        *export.GREET_COLUMNS,
    ]
    assert {r["visit_id"]: r for r in frame.to_dict("records")} == expected_rows(storage, selection)
    voided = frame[frame["void_reason"] != ""]
    assert len(voided) == 4 and set(voided["void_reason"]) == {"Logged twice"}


def test_voided_visits_are_left_out_unless_asked_for(storage, two_stores):
    plain = read(export.visits_csv(storage, ExportSelection()))
    with_voided = read(export.visits_csv(storage, ExportSelection(include_voided=True)))
    assert len(plain) == 48 and len(with_voided) == 56
    assert "void_reason" not in plain.columns


def test_numbers_are_numbers_for_a_spreadsheet(storage, two_stores):
    frame = pd.read_csv(io.BytesIO(export.visits_csv(storage, ExportSelection())))
    for column in ("used_name", "recommended", "connection_depth"):
        assert frame[column].dtype.kind == "i", column
    for column in ("units", "amount"):
        assert frame[column].dtype.kind == "f", column  # numbers, blank for open visits
    assert frame["amount"].max() == 1_000_000.00
    text = export.visits_csv(storage, ExportSelection(include_voided=True)).decode()
    assert ",1000000.00," in text and ",0.05," in text and ",19.99," in text


def test_days_are_each_stores_own_calendar_days(storage, shop):
    ny = catalog.create_store(storage, "Uptown", "America/New_York")
    cy = catalog.add_associate(storage, ny, "Cy", actor="test")
    shop = {**shop}
    # 30 Nov 23:30 in New York is 1 Dec 04:30 UTC; in London 23:30 is 23:30 UTC.
    inside_ny = log_visit_in(
        storage, shop, utc("2026-11-30T23:30:00-05:00"), store=ny, associate=cy
    )
    after_ny = log_visit_in(storage, shop, utc("2026-12-01T00:10:00-05:00"), store=ny, associate=cy)
    first_ny = log_visit_in(storage, shop, utc("2026-11-01T00:00:00-04:00"), store=ny, associate=cy)
    before_ny = log_visit_in(
        storage, shop, utc("2026-10-31T23:59:59-04:00"), store=ny, associate=cy
    )
    inside_ldn = log_visit_in(storage, shop, utc("2026-11-30T23:59:59+00:00"))
    after_ldn = log_visit_in(storage, shop, utc("2026-12-01T00:00:00+00:00"))
    november = ExportSelection(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
    ids = set(read(export.visits_csv(storage, november))["visit_id"])
    assert ids == {inside_ny, first_ny, inside_ldn}
    assert not ids & {after_ny, before_ny, after_ldn}
    only_ny = ExportSelection(
        first_day=date(2026, 11, 1), last_day=date(2026, 11, 30), store_ids=(ny,)
    )
    assert set(read(export.visits_csv(storage, only_ny))["visit_id"]) == {inside_ny, first_ny}


@pytest.mark.parametrize(
    ("zone", "started", "closed", "local_start", "local_close"),
    [
        # London springs forward at 01:00 UTC on 29 March 2026.
        (
            "Europe/London",
            "2026-03-29T00:50:00+00:00",
            "2026-03-29T01:10:00+00:00",
            "2026-03-29T00:50:00+00:00",
            "2026-03-29T02:10:00+01:00",
        ),
        # …and falls back at 01:00 UTC on 25 October: 01:30 happens twice.
        (
            "Europe/London",
            "2026-10-25T00:30:00+00:00",
            "2026-10-25T01:30:00+00:00",
            "2026-10-25T01:30:00+01:00",
            "2026-10-25T01:30:00+00:00",
        ),
        ("Asia/Kolkata", "2026-06-01T10:45:00+00:00", None, "2026-06-01T16:15:00+05:30", ""),
        ("Asia/Kathmandu", "2026-06-01T23:59:00+00:00", None, "2026-06-02T05:44:00+05:45", ""),
        # Lord Howe Island moves its clocks by half an hour.
        (
            "Australia/Lord_Howe",
            "2026-04-04T14:50:00+00:00",
            "2026-04-04T15:10:00+00:00",
            "2026-04-05T01:50:00+11:00",
            "2026-04-05T01:40:00+10:30",
        ),
    ],
)
def test_local_times_are_exact_across_offset_changes(
    storage, zone, started, closed, local_start, local_close
):
    store = catalog.create_store(storage, "Zone Shop", zone)
    ana = catalog.add_associate(storage, store, "Ana", actor="test")
    vid = new_id()
    visits.create_visit(storage, vid, store, ana, "warm", at=utc(started))
    if closed:
        with storage.write() as db:  # a close at a chosen instant
            db.execute(
                "UPDATE visits SET outcome = 'no_purchase', closed_at = ? WHERE id = ?",
                [utc(closed).strftime("%Y-%m-%dT%H:%M:%S.000Z"), vid],
            )
    row = read(export.visits_csv(storage, ExportSelection()))
    assert row.loc[0, "started_local"] == local_start
    assert row.loc[0, "closed_local"] == local_close


def test_offset_spans_agree_with_zoneinfo_everywhere():
    rng = random.Random(6)
    start, end = utc("2024-01-01T00:00:00+00:00"), utc("2027-01-01T00:00:00+00:00")
    for name in ("Europe/London", "America/St_Johns", "Australia/Lord_Howe", "Asia/Tehran"):
        zone = ZoneInfo(name)
        spans = offset_spans(zone, start, end)
        for _ in range(400):
            moment = start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))
            text = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            (offset,) = [s for since, until, s in spans if since <= text < until]
            assert offset == moment.astimezone(zone).utcoffset().total_seconds(), (name, text)


HOSTILE = {
    "associate": '=HYPERLINK("http://evil.example","click")',
    "reason": "+1+1",
    "no_sale": "-2",
    "store": "@SUM(A1:A9)",
    "closer": "\tcmd",
}


def test_hostile_names_come_out_as_text_not_formulas(storage):
    # Written straight into the tables: the checks on typed names do not
    # protect a file restored or edited by hand.
    with storage.write() as db:
        db.execute(
            "INSERT INTO stores (name, timezone, created_at) VALUES (?, 'UTC', 'x')",
            [HOSTILE["store"]],
        )
        store = db.execute("SELECT max(id) FROM stores").fetchone()[0]
        for name in (HOSTILE["associate"], HOSTILE["closer"]):
            db.execute(
                "INSERT INTO associates (store_id, name, created_at) VALUES (?, ?, 'x')",
                [store, name],
            )
        db.execute("UPDATE reasons SET name = ? WHERE name = 'Gift'", [HOSTILE["reason"]])
        db.execute("UPDATE reasons SET name = ? WHERE name = 'Price'", [HOSTILE["no_sale"]])
        ids = dict(db.execute("SELECT name, id FROM associates").fetchall())
        reasons = dict(db.execute("SELECT name, id FROM reasons").fetchall())
        db.execute(
            "INSERT INTO visits (id, store_id, associate_id, started_at, first_engagement,"
            " reason_id, outcome, no_sale_reason_id, closed_at, closed_by, updated_at)"
            " VALUES ('-1+2-visit', ?, ?, '2026-11-02T10:00:00.000Z', 'warm', ?, 'no_purchase',"
            " ?, '2026-11-02T10:05:00.000Z', ?, 'x')",
            [
                store,
                ids[HOSTILE["associate"]],
                reasons[HOSTILE["reason"]],
                reasons[HOSTILE["no_sale"]],
                ids[HOSTILE["closer"]],
            ],
        )
    data = export.visits_csv(storage, ExportSelection())
    row = read(data).iloc[0]
    assert row["associate"] == "'" + HOSTILE["associate"]
    assert row["reason"] == "'+1+1"
    assert row["no_sale_reason"] == "'-2"
    assert row["store"] == "'@SUM(A1:A9)"
    assert row["closed_by"] == "'\tcmd"
    assert row["visit_id"] == "'-1+2-visit"
    # In the file itself: quoted where a comma or quote needs it, every
    # dangerous cell starting with the apostrophe.
    text = data.decode()
    assert '"\'=HYPERLINK(""http://evil.example"",""click"")"' in text
    for cell in text.replace('"', "").split("\r\n")[1].split(","):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", '"\'\rx"'),
        ("Gift", "Gift"),
        ("a,b", '"a,b"'),
        ('say "hi"', '"say ""hi"""'),
        ("", ""),
        (None, ""),
        ("Zoë 🌟 שלום", "Zoë 🌟 שלום"),
    ],
)
def test_csv_text(cell, written):
    assert export.csv_text(cell) == written


def test_safe_row_neutralises_text_but_keeps_numbers():
    row = [-3, -0.25, "-3", "=A1", "ok", ""]
    assert export.safe_row(row) == [-3, -0.25, "'-3", "'=A1", "ok", ""]


def test_a_void_reason_and_an_unusual_id_are_made_safe_too(storage, shop):
    vid = log_visit_in(storage, shop, utc("2026-11-02T10:00:00+00:00"), units=1)
    with storage.write() as db:
        db.execute(
            "UPDATE visits SET id = 'odd,id\"1', voided_at = closed_at,"
            " void_reason = '=cmd|''/c calc''!A0' WHERE id = ?",
            [vid],
        )
    row = read(export.visits_csv(storage, ExportSelection(include_voided=True))).iloc[0]
    assert row["visit_id"] == 'odd,id"1'
    assert row["void_reason"] == "'=cmd|'/c calc'!A0"


@pytest.mark.sqlite  # PostgreSQL keeps its foreign keys: no hand edit gets here
def test_a_combination_outside_the_lookups_is_still_written(storage, shop):
    vid = log_visit_in(storage, shop, utc("2026-11-02T10:00:00+00:00"), reason="Gift", units=3)
    conn = sqlite3.connect(storage.path)  # foreign keys off, as a hand edit would be
    conn.execute("UPDATE visits SET reason_id = 999 WHERE id = ?", [vid])
    conn.commit()
    conn.close()
    row = read(export.visits_csv(storage, ExportSelection())).iloc[0]
    assert (row["reason"], row["connection_depth"], row["units"]) == ("#999", "1", "3")


def test_excel_choice_adds_a_bom_and_utf8_stays_utf8(storage, shop):
    catalog.rename_associate(storage, shop["ana"], "Zoë", actor="test")
    log_visit_in(storage, shop, utc("2026-11-02T10:00:00+00:00"), units=1)
    plain = export.visits_csv(storage, ExportSelection())
    excel = export.visits_csv(storage, ExportSelection(), for_excel=True)
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel == b"\xef\xbb\xbf" + plain
    assert "Zoë".encode() in plain
    assert plain.split(b"\r\n")[0].decode() == ",".join(
        [*export.VISIT_COLUMNS, *export.GREET_COLUMNS]
    )


def test_rows_come_in_the_order_visits_were_recorded(storage, two_stores, monkeypatch):
    with storage.read() as db:
        recorded = [
            r[0] for r in db.execute("SELECT id FROM visits WHERE voided_at IS NULL ORDER BY rowid")
        ]
    monkeypatch.setattr(export, "CHUNK", 5)  # many chunks
    assert list(read(export.visits_csv(storage, ExportSelection()))["visit_id"]) == recorded


def test_scan_and_index_paths_write_the_same_file(storage, two_stores, monkeypatch):
    selection = ExportSelection(first_day=date(2026, 11, 5), last_day=date(2026, 11, 9))
    monkeypatch.setattr(export, "SCAN_SHARE", 2.0)  # never scan
    through_index = export.visits_csv(storage, selection)
    monkeypatch.setattr(export, "SCAN_SHARE", 0.0)  # always scan
    monkeypatch.setattr(export, "CHUNK", 7)
    scanned = export.visits_csv(storage, selection)
    assert scanned == through_index and scanned.count(b"\r\n") > 5


class Recorder(io.BytesIO):
    def __init__(self):
        super().__init__()
        self.sizes: list[int] = []

    def write(self, data):
        self.sizes.append(len(data))
        return super().write(data)


def test_the_export_streams_in_bounded_pieces(storage, two_stores, monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 4)  # SQLite's rowid chunks
    monkeypatch.setattr(export.csvlines_postgres, "CHUNK", 4)  # PostgreSQL's rowid chunks
    monkeypatch.setattr(export.csvlines_postgres, "BLOCK", 4)  # and blocks of COPY lines
    out = Recorder()
    written = export.write_visits(storage, out, ExportSelection())
    assert written == 48
    assert len(out.sizes) >= 12  # header, then one write per chunk
    assert max(out.sizes[1:]) < 4 * 300  # never more than a chunk's lines at once


def test_an_empty_selection_writes_only_the_header(storage, shop):
    assert export.visits_csv(storage, ExportSelection()).decode() == (
        ",".join([*export.VISIT_COLUMNS, *export.GREET_COLUMNS]) + "\r\n"
    )


def test_bad_input_is_a_clear_sentence(storage, shop):
    with pytest.raises(ValidationError, match="after the end date"):
        ExportSelection(first_day=date(2026, 12, 1), last_day=date(2026, 11, 1))
    with pytest.raises(ValidationError, match="like 2026-11-01"):
        export.parse_day("01/11/2026", "--from date")
    assert export.parse_day(" 2026-11-01 ") == date(2026, 11, 1)
    with pytest.raises(NotFoundError, match="No store has the id 99"):
        export.visits_csv(storage, ExportSelection(store_ids=(99,)))


def test_find_store_by_id_or_exact_name(storage, shop):
    assert export.find_store(storage, str(shop["store"])) == shop["store"]
    assert export.find_store(storage, "Corner Shop") == shop["store"]
    with pytest.raises(NotFoundError, match="Corner Shop"):
        export.find_store(storage, "corner shop")
    catalog.create_store(storage, "Corner Shop", "Europe/Paris")
    with pytest.raises(ValidationError, match="give its id"):
        export.find_store(storage, "Corner Shop")


def dictionary_columns(section: str) -> list[list[str]]:
    """The rows of the table under a '## section' heading of the dictionary."""
    text = (ROOT / "docs" / "data-dictionary.md").read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in body.splitlines()
        if line.startswith("|")
    ]
    return [row for row in rows if row[0].startswith("`")]


@pytest.mark.parametrize(
    ("section", "columns"),
    [
        ("Visits CSV", [*export.VISIT_COLUMNS, *export.VOID_COLUMNS, *export.GREET_COLUMNS]),
        ("Summary CSV", [*summary.COLUMNS, *summary.GREET_COLUMNS]),
        ("Follow-ups CSV", [*followups_csv.COLUMNS, followups_csv.VOIDED_COLUMN]),
    ],
)
def test_every_column_is_in_the_data_dictionary(section, columns):
    rows = dictionary_columns(section)
    assert [row[0].strip("`") for row in rows] == columns  # all of them, in file order
    for row in rows:
        assert len(row) == 4 and all(cell.strip() for cell in row), row  # type, meaning, example


@pytest.fixture(params=[export_pool.OWN, export_pool.STANDARD])
def parallel(request, monkeypatch):
    """Helper processes even for a small table, in many small chunks; each
    test runs with both pools (cxlog.export.export_pool)."""
    monkeypatch.setattr(export, "PARALLEL_FROM", 0)
    monkeypatch.setattr(export, "CHUNK", 5)
    monkeypatch.setattr(export_pool, "POOL", request.param)
    if request.param == export_pool.STANDARD:
        # A spawned worker first runs the parent's __main__ file. After an
        # AppTest in this process that is a page script (Streamlit runs each
        # script as __main__), which crashes the worker: the standard pool is
        # only for plain processes (the benchmark), one reason the product
        # uses its own (see test_our_pool_works_where_main_is_a_page_script).
        monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    return request.param


def helper_pids() -> set[int]:
    """Running helper processes started by this test process (either pool)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        helper = b"cxlog.export.export_worker" in cmdline or b"spawn_main" in cmdline
        if f"\nPPid:\t{os.getpid()}\n" in text and helper:
            found.add(int(status.parent.name))
    return found


def test_helper_processes_write_the_same_file(storage, two_stores, parallel):
    for selection in (
        ExportSelection(),
        ExportSelection(include_voided=True, store_ids=(two_stores["ny"],)),
    ):
        alone = io.BytesIO()
        export.write_visits(storage, alone, selection, workers=1)
        helped = io.BytesIO()
        count = export.write_visits(storage, helped, selection, workers=2)
        assert helped.getvalue() == alone.getvalue()
        assert count == helped.getvalue().count(b"\r\n") - 1 > 20
    assert helper_pids() == set()  # all stopped


@pytest.mark.parametrize("workers", [1, 2])
def test_the_export_is_one_snapshot(storage, two_stores, parallel, monkeypatch, workers):
    """A visit committed once the export has begun is not in it, however the
    chunks are read."""
    real = export.csvlines.read_lookups
    late = new_id()

    def read_lookups_then_a_tablet_writes(conn, ranges):
        visits.create_visit(
            storage,
            late,
            two_stores["store"],
            two_stores["ana"],
            "warm",
            at=utc("2026-11-02T10:00Z"),
        )
        return real(conn, ranges)

    monkeypatch.setattr(export.csvlines, "read_lookups", read_lookups_then_a_tablet_writes)
    frame = read(export.visits_csv(storage, ExportSelection(), workers=workers))
    assert late not in set(frame["visit_id"]) and len(frame) == 48
    assert late in set(read(export.visits_csv(storage, ExportSelection()))["visit_id"])


@pytest.mark.sqlite  # SQLite's helper processes; PostgreSQL's server formats the lines
def test_a_failing_helper_is_a_sentence_and_every_helper_stops(
    storage, two_stores, parallel, monkeypatch
):
    if parallel == export_pool.OWN:

        def broken_prepare(self, lookups, include_voided, size):
            for process in self.processes:
                export_worker.send(process.stdin, "not the lookups")

        monkeypatch.setattr(export_pool.HelperProcesses, "prepare", broken_prepare)
    else:

        def broken_prepare(self, lookups, include_voided, size):
            self.job = ("not the lookups", include_voided, size)

        monkeypatch.setattr(export_pool.StandardPool, "prepare", broken_prepare)
    with pytest.raises(StorageError, match="failed in a helper process"):
        export.write_visits(storage, io.BytesIO(), ExportSelection(), workers=2)
    assert helper_pids() == set()


@pytest.mark.sqlite  # SQLite's helper processes; PostgreSQL's server formats the lines
def test_a_helper_that_dies_is_a_sentence_not_a_hang(storage, two_stores, parallel, monkeypatch):
    pool = export_pool.HelperProcesses if parallel == export_pool.OWN else export_pool.StandardPool
    real = pool.prepare

    def prepare_then_one_dies(self, lookups, include_voided, size):
        real(self, lookups, include_voided, size)
        if parallel == export_pool.OWN:
            self.processes[1].kill()
        else:
            os.kill(list(self.executor._processes)[1], signal.SIGKILL)

    monkeypatch.setattr(pool, "prepare", prepare_then_one_dies)
    with pytest.raises(StorageError, match="stopped unexpectedly"):
        export.write_visits(storage, io.BytesIO(), ExportSelection(), workers=2)
    assert helper_pids() == set()


@pytest.mark.sqlite  # SQLite's helper processes; PostgreSQL's server formats the lines
def test_our_pool_works_where_main_is_a_page_script(storage, two_stores, monkeypatch, tmp_path):
    """In the Streamlit server, sys.modules["__main__"] is the page being run
    (in CI: app.py, which died in the helper without a database). Our helpers
    start as `python -m cxlog.export.export_worker` and never run it; a spawned
    standard-library worker runs it first."""
    monkeypatch.setattr(export, "PARALLEL_FROM", 0)
    monkeypatch.setattr(export, "CHUNK", 5)
    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('a page script ran in an export helper')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    alone, helped = io.BytesIO(), io.BytesIO()
    export.write_visits(storage, alone, ExportSelection(), workers=1)
    monkeypatch.setattr(export_pool, "POOL", export_pool.OWN)
    assert export.write_visits(storage, helped, ExportSelection(), workers=2) > 20
    assert helped.getvalue() == alone.getvalue()
    monkeypatch.setattr(export_pool, "POOL", export_pool.STANDARD)
    with pytest.raises(StorageError, match="stopped unexpectedly"):
        export.write_visits(storage, io.BytesIO(), ExportSelection(), workers=2)
    assert helper_pids() == set()
