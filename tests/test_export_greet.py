"""Time to greet in the exports (#30): the visits CSV's three last columns
(arrival in local time, seconds to greet, left before greeting) for a
greeted, a left and a plain visit, after the void columns when those are
asked for, the same bytes from either engine and every path; the summary
CSV's time-to-greet columns and wait-band rows, only when a selected store
has time to greet on or its visits have arrivals."""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import math
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from cxlog.core.model import utc_now
from cxlog.export import csvlines, csvlines_postgres, export, summary
from cxlog.export.export import ExportSelection
from cxlog.greeting import rules
from cxlog.language import words
from cxlog.numbers.metrics import wilson
from cxlog.storage.db import Storage
from cxlog.storage.postgres import PostgresStorage, close_pools
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog
from cxlog.visits import arrivals, visits
from cxlog.visits.taps import DOUBLE_TAP
from tests.conftest import new_id, utc

OCTOBER = ExportSelection(first_day=date(2026, 10, 1), last_day=date(2026, 10, 31))


def _tapped(at: datetime) -> visits.Tapped:
    return visits.Tapped(at=at, received_at=utc_now())


class Ids:
    """Ids from a counter, so the same writes on two engines make the same
    rows (the visits CSV starts each line with the visit's id)."""

    def __init__(self) -> None:
        self.made = itertools.count(1)

    def __call__(self) -> str:
        return f"{next(self.made):032x}"


make_id = new_id  # what the helpers below take ids from


def arrive(storage, store: int, who: int, at: datetime) -> str:
    aid = make_id()
    arrivals.note(storage, store, aid, who, device_id=None, tap=_tapped(at), double_tap=DOUBLE_TAP)
    return aid


def greet(storage, store: int, who: int, arrived: datetime, wait: float, **close) -> str:
    """A customer who arrived at ``arrived`` and was greeted ``wait`` seconds
    later; ``close``: units= for a purchase, nobuy=True for none."""
    aid = arrive(storage, store, who, arrived)
    vid = make_id()
    at = arrived + timedelta(seconds=wait)
    visits.create_visit(storage, vid, store, who, "warm", at=at, greets=True, arrival=aid)
    actor, closing = f"associate:{who}", _tapped(at + timedelta(seconds=1))
    if "units" in close:
        visits.record_purchase(storage, vid, close["units"], actor=actor, tap=closing)
    elif close.get("nobuy"):
        visits.record_no_purchase(storage, vid, actor=actor, tap=closing)
    return vid


def leave(storage, store: int, who: int, arrived: datetime, wait: float) -> str:
    aid = arrive(storage, store, who, arrived)
    vid = make_id()
    at = arrived + timedelta(seconds=wait)
    arrivals.left(storage, store, aid, vid, who, tap=_tapped(at))
    return vid


def plain(storage, store: int, who: int, at: datetime, **close) -> str:
    vid = make_id()
    visits.create_visit(storage, vid, store, who, "neutral", at=at)
    if close.get("nobuy"):
        closing = _tapped(at + timedelta(seconds=1))
        visits.record_no_purchase(storage, vid, actor=f"associate:{who}", tap=closing)
    return vid


@pytest.fixture
def october(storage, shop) -> dict:
    """The Corner Shop (London, 30 s standard) in October 2026: a greeted
    purchase, a customer who left, a plain visit, a greeting across the
    clocks going back and a voided greeting."""
    rules.save(storage, shop["store"], GreetRules(on=True, bands=(120,)), actor="test")
    store, ana, ben = shop["store"], shop["ana"], shop["ben"]
    made = {
        # 10:59:18.7 BST; greeted 41.3 s later: 41 whole seconds.
        "greeted": greet(storage, store, ben, utc("2026-10-20T09:59:18.700+00:00"), 41.3, units=2),
        "left": leave(storage, store, ana, utc("2026-10-20T11:00:00.250+00:00"), 90),
        "plain": plain(storage, store, ana, utc("2026-10-20T12:00:00+00:00"), nobuy=True),
        # 01:59:50 BST, greeted at 01:00:10 GMT: 20 s across the change.
        "dst": greet(storage, store, ana, utc("2026-10-25T00:59:50+00:00"), 20),
        "voided": greet(storage, store, ana, utc("2026-10-21T10:00:00+00:00"), 120),
    }
    visits.void_visit(storage, made["voided"], "Logged twice", actor="manager")
    return {**shop, **made}


def parsed(data: bytes) -> tuple[list[str], dict[str, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(data.decode(), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), {r["visit_id"]: r for r in rows}


def greet_cells(row: dict) -> tuple[str, str, str]:
    return row["arrived_local"], row["greet_seconds"], row["left_before_greeting"]


def test_the_three_columns_for_a_greeted_a_left_and_a_plain_visit(storage, october):
    header, rows = parsed(export.visits_csv(storage, OCTOBER))
    assert header == [*export.VISIT_COLUMNS, *csvlines.GREET_COLUMNS]
    assert greet_cells(rows[october["greeted"]]) == ("2026-10-20T10:59:18+01:00", "41", "0")
    assert rows[october["greeted"]]["started_local"] == "2026-10-20T11:00:00+01:00"
    # Left: a missed visit with no purchase, its arrival kept, no seconds.
    left = rows[october["left"]]
    assert greet_cells(left) == ("2026-10-20T12:00:00+01:00", "", "1")
    assert (left["first_engagement"], left["outcome"]) == ("missed", "no_purchase")
    assert greet_cells(rows[october["plain"]]) == ("", "", "0")
    # Each time in its own offset: the clocks went back between the two.
    dst = rows[october["dst"]]
    assert greet_cells(dst) == ("2026-10-25T01:59:50+01:00", "20", "0")
    assert dst["started_local"] == "2026-10-25T01:00:10+00:00"
    assert october["voided"] not in rows and len(rows) == 4


def test_with_voided_visits_the_greet_columns_come_after_theirs(storage, october):
    """A reader of the file from before #30 finds every column where it was."""
    data = export.visits_csv(storage, dataclasses.replace(OCTOBER, include_voided=True))
    header, rows = parsed(data)
    assert header == [*export.VISIT_COLUMNS, *export.VOID_COLUMNS, *csvlines.GREET_COLUMNS]
    voided = rows[october["voided"]]
    assert voided["void_reason"] == "Logged twice"
    assert greet_cells(voided) == ("2026-10-21T11:00:00+01:00", "120", "0")
    # The old columns hold their positions: the void reason is still 19th.
    line = next(x for x in data.decode().split("\r\n") if x.startswith(october["voided"]))
    assert line.split(",")[len(export.VISIT_COLUMNS) + 1] == "Logged twice"


@pytest.mark.parametrize("scan", [False, True], ids=["index", "scan"])
def test_both_paths_write_the_same_greet_cells(storage, october, monkeypatch, scan):
    expected = export.visits_csv(storage, OCTOBER)
    monkeypatch.setattr(export, "SCAN_SHARE", 0.0 if scan else 2.0)
    monkeypatch.setattr(csvlines_postgres, "CHUNK", 2)
    assert export.visits_csv(storage, OCTOBER) == expected


def test_without_the_columns_a_line_ends_as_a_plain_visits_does(storage, shop, monkeypatch):
    """A database from before #30 (no arrival columns): every visit's cells
    are those of a visit without an arrival."""
    for hour in (9, 10, 11):
        plain(storage, shop["store"], shop["ana"], utc(f"2026-10-20T{hour:02d}:00:00+00:00"))
    expected = export.visits_csv(storage, OCTOBER)
    assert expected.count(b",,,0\r\n") == 3
    read = csvlines.read_lookups
    monkeypatch.setattr(
        csvlines,
        "read_lookups",
        lambda db, ranges: dataclasses.replace(read(db, ranges), arrivals=False),
    )
    assert export.visits_csv(storage, OCTOBER) == expected


# --- both engines ---------------------------------------------------------------


def _written(storage) -> None:
    """The same writes on either engine: arrivals in a store whose offsets are
    whole hours (London) and in one whose are not (Kolkata, +05:30), across a
    change of the clocks, in another UTC hour than the greeting, and rows a
    bulk load or a hand edit left without a local start."""
    london = catalog.create_store(storage, "Corner Shop", "Europe/London")
    kolkata = catalog.create_store(storage, "Bandra", "Asia/Kolkata")
    people = {
        london: catalog.add_associate(storage, london, "Ana", actor="test"),
        kolkata: catalog.add_associate(storage, kolkata, "Dev", actor="test"),
    }
    rules.save(storage, london, GreetRules(on=True, bands=(120, 300)), actor="test")
    rules.save(storage, kolkata, GreetRules(on=True, standard=20), actor="test")
    ids = []
    for store, who in people.items():
        for day, hour, minute, second, wait in (
            (24, 9, 59, 55.5, 12),  # greeted in the next UTC hour
            (25, 0, 59, 50, 20),  # London's clocks go back at 01:00 UTC
            (25, 1, 0, 5, 400),
            (26, 11, 15, 0, 30),  # in the greeting's UTC hour: the start's offset
            (26, 14, 10, 0.999, 7.2),
            (27, 23, 59, 59, 3),  # a store-local day later in Kolkata
        ):
            at = datetime(2026, 10, day, hour, minute, int(second), tzinfo=UTC)
            at += timedelta(seconds=second % 1)
            ids.append(greet(storage, store, who, at, wait, units=1 + day % 3))
        ids.append(leave(storage, store, who, datetime(2026, 10, 26, 16, 30, tzinfo=UTC), 45))
        plain(storage, store, who, datetime(2026, 10, 26, 17, tzinfo=UTC), nobuy=True)
    with storage.write() as db:
        db.execute("UPDATE visits SET started_local = NULL WHERE id IN (?, ?)", [ids[0], ids[4]])
        # A hand edit: an arrival after its own start, in the same UTC hour.
        db.execute(
            "UPDATE visits SET arrived_at = '2026-10-26T14:30:00.000Z' WHERE id = ?", [ids[4]]
        )
    visits.void_visit(storage, ids[2], "Logged twice", actor="manager")
    with storage.write() as db:  # voided at the same moment on both engines
        db.execute(
            "UPDATE visits SET voided_at = '2026-10-30T12:00:00.000Z' WHERE id = ?", [ids[2]]
        )


@pytest.mark.first_pass  # uses both engines itself
def test_either_engine_writes_the_same_bytes(tmp_path, pg_template, monkeypatch):
    running, template = pg_template
    sqlite = Storage(tmp_path / "cxlog.db")
    sqlite.migrate()
    postgres = PostgresStorage(running.database(f"greet_{new_id()[:8]}", template=template))
    try:
        for storage in (sqlite, postgres):
            monkeypatch.setattr(sys.modules[__name__], "make_id", Ids())
            _written(storage)
        files = []
        for scan in (False, True):
            monkeypatch.setattr(export, "SCAN_SHARE", 0.0 if scan else 2.0)
            monkeypatch.setattr(csvlines_postgres, "CHUNK", 3)
            for voided in (False, True):
                selection = ExportSelection(include_voided=voided)
                ours, theirs = (export.visits_csv(s, selection) for s in (sqlite, postgres))
                assert ours.decode().split("\r\n") == theirs.decode().split("\r\n"), (scan, voided)
                files.append(ours)
        assert files[0] == files[2] and files[1] == files[3]  # both paths
        _, rows = parsed(files[1])
        cells = {greet_cells(r) for r in rows.values()}
        assert ("2026-10-25T01:59:50+01:00", "20", "0") in cells  # London, BST
        assert ("2026-10-25T06:29:50+05:30", "20", "0") in cells  # Kolkata
        assert ("2026-10-24T10:59:55+01:00", "12", "0") in cells  # another UTC hour
        assert ("2026-10-26T11:15:00+00:00", "30", "0") in cells  # the start's hour
        assert ("2026-10-26T14:30:00+00:00", "7", "0") in cells  # the hand edit
        assert ("2026-10-28T05:29:59+05:30", "3", "0") in cells
        assert sum(r["left_before_greeting"] == "1" for r in rows.values()) == 2
        both = [summary.summary_csv(s, ExportSelection()) for s in (sqlite, postgres)]
        assert both[0] == both[1] and b"wait_band" in both[0]
    finally:
        close_pools()


# --- the summary CSV ---------------------------------------------------------------


def summary_rows(storage, selection=OCTOBER, **kw) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(summary.summary_csv(storage, selection, **kw).decode()))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_without_time_to_greet_the_summary_is_as_before(storage, shop):
    plain(storage, shop["store"], shop["ana"], utc("2026-10-20T12:00:00+00:00"), nobuy=True)
    before = summary.summary_csv(storage, OCTOBER)
    assert before.split(b"\r\n")[0].decode() == ",".join(summary.COLUMNS)
    assert b"wait_band" not in before
    # What decides it is the store's setting or its arrivals, nothing else.
    assert summary.greeting(storage, OCTOBER) is None
    rules.save(storage, shop["store"], GreetRules(on=True), actor="test")
    assert summary.summary_csv(storage, OCTOBER) != before
    rules.save(storage, shop["store"], GreetRules(on=False), actor="test")
    assert summary.summary_csv(storage, OCTOBER) == before


def _bin(seconds: int) -> int:
    """docs/product.md: a wait counts as the first of these edges at or above it."""
    edges = (10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800)
    return next((e for e in edges if seconds <= e), 86_400)


def _nearest_rank(waits: list[int], share: float) -> int:
    return sorted(_bin(w) for w in waits)[max(1, math.ceil(share * len(waits))) - 1]


def test_the_summary_gains_the_selections_time_to_greet(storage, october):
    header, rows = summary_rows(storage)
    assert header == [*summary.COLUMNS, *summary.GREET_COLUMNS]
    assert all(None not in r and None not in r.values() for r in rows)  # every cell in place
    (whole,) = [r for r in rows if r["table"] == "all"]
    # October's visits: greeted 41 s (bought), left, plain, greeted 20 s; the
    # voided one never counts.
    waits = [41, 20]
    low, high = wilson(1, 3)
    assert {k: whole[k] for k in summary.GREET_COLUMNS} == {
        "arrivals": "3",
        "arrival_share": str(round(3 / 4, 4)),
        "greet_standard_seconds": "30",
        "greeted_on_time": "1",
        "on_time_rate": str(round(1 / 3, 4)),
        "on_time_rate_low": str(round(low, 4)),
        "on_time_rate_high": str(round(high, 4)),
        "left_before_greeting": "1",
        "greet_median_seconds": str(_nearest_rank(waits, 0.5)),
        "greet_p90_seconds": str(_nearest_rank(waits, 0.9)),
    }
    (store,) = [r for r in rows if r["table"] == "store"]
    assert {k: store[k] for k in summary.GREET_COLUMNS} == {
        k: whole[k] for k in summary.GREET_COLUMNS
    }
    # The other rows leave the time-to-greet cells empty.
    assert all(
        not any(r[k] for k in summary.GREET_COLUMNS)
        for r in rows
        if r["table"] not in ("all", "store")
    )
    bands = {r["group"]: r for r in rows if r["table"] == summary.WAIT_BAND}
    assert list(bands) == ["0-30", "31-120", "121+"]  # the store's standard and edge
    on_time, later, longest = bands.values()
    assert [on_time[k] for k in ("visits", "open", "closed", "purchased")] == ["1", "1", "0", "0"]
    assert [later[k] for k in ("visits", "closed", "purchased", "conversion")] == [
        "1",
        "1",
        "1",
        "1.0",
    ]
    assert later["units_per_sale"] == "2.0" and later["too_few"] == "1"
    # Not kept per wait bin: empty, never a 0 that says "none".
    assert all(b["warm_rate"] == "" and b["average_sale"] == "" for b in bands.values())
    assert longest["visits"] == "0" and longest["conversion"] == ""
    assert rows[-1]["table"] == summary.WAIT_BAND  # after every table from before


def test_each_store_row_has_its_own_figures(storage, october):
    uptown = catalog.create_store(storage, "Uptown", "America/New_York")
    cy = catalog.add_associate(storage, uptown, "Cy", actor="test")
    rules.save(storage, uptown, GreetRules(on=True, standard=20), actor="test")
    for wait in (5, 19, 25, 70):
        greet(storage, uptown, cy, utc("2026-10-20T15:00:00+00:00"), wait, nobuy=True)
    # A third store never turned it on: its row says it had no arrivals.
    quiet = catalog.create_store(storage, "Quiet", "Europe/London")
    plain(
        storage,
        quiet,
        catalog.add_associate(storage, quiet, "Di", actor="test"),
        utc("2026-10-20T15:00:00+00:00"),
    )
    _, rows = summary_rows(storage)
    by = {r["group"]: r for r in rows if r["table"] in ("all", "store")}
    assert [by["Uptown"][k] for k in ("arrivals", "greeted_on_time", "greet_standard_seconds")] == [
        "4",
        "2",
        "20",
    ]
    assert by["Uptown"]["greet_median_seconds"] == str(_nearest_rank([5, 19, 25, 70], 0.5))
    assert by["Uptown"]["greet_p90_seconds"] == "90"  # 70 s: the 1 min 30 s bin
    assert [by["Corner Shop"][k] for k in ("arrivals", "greeted_on_time")] == ["3", "1"]
    assert by["Quiet"]["arrivals"] == "0" and by["Quiet"]["on_time_rate"] == ""
    assert by["Quiet"]["arrival_share"] == "0.0" and by["Quiet"]["greet_standard_seconds"] == ""
    whole = by["all"]
    assert [whole[k] for k in ("arrivals", "greeted_on_time", "left_before_greeting")] == [
        "7",
        "3",
        "1",
    ]
    assert whole["greet_standard_seconds"] == ""  # 30 s and 20 s: no one standard
    assert whole["arrival_share"] == str(round(7 / 9, 4))
    waits = [41, 20, 5, 19, 25, 70]
    assert whole["greet_median_seconds"] == str(_nearest_rank(waits, 0.5))
    assert whole["greet_p90_seconds"] == str(_nearest_rank(waits, 0.9))


def test_arrivals_keep_their_figures_after_the_setting_is_turned_off(storage, october):
    rules.save(storage, october["store"], GreetRules(on=False), actor="test")
    _, rows = summary_rows(storage)
    assert [r["arrivals"] for r in rows if r["table"] == "all"] == ["3"]
    # A month without arrivals, with the setting off: as before #30.
    november = ExportSelection(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
    plain(storage, october["store"], october["ana"], utc("2026-11-03T12:00:00+00:00"))
    header, _ = summary_rows(storage, november)
    assert header == list(summary.COLUMNS)


def test_the_excel_variant_writes_greet_figures_in_the_languages_signs(storage, october):
    with words.using("fr"):
        text = summary.summary_csv(storage, OCTOBER, for_excel=True).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    (whole,) = [r for r in rows if r["table"] == "all"]
    assert whole["arrival_share"] == "0,75" and whole["greet_median_seconds"] == "20"
