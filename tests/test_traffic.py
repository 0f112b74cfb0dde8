"""Door-counter and POS files (#13): every supported format written here, read
and stored; times across both DST changes; a broken file refused whole; a
re-import that replaces and never doubles. Every expected number is counted
by hand in the comments."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.coverage import traffic
from cxlog.coverage.traffic import CounterSettings, ImportRefused
from cxlog.stores import catalog
from tests.conftest import ROOT


def stored_traffic(storage) -> dict[str, tuple]:
    with storage.read() as db:
        return {
            r["hour_start"]: (r["entries"], r["exits"])
            for r in db.query("SELECT * FROM traffic_hours ORDER BY hour_start")
        }


def stored_pos(storage) -> dict[tuple, tuple]:
    with storage.read() as db:
        return {
            (r["day"], r["hour"]): (r["transactions"], r["units"], r["net_sales_cents"])
            for r in db.query("SELECT * FROM pos_totals ORDER BY day, hour")
        }


# Tuesday 3 November 2026 in London is GMT (UTC+0): local = UTC.
GENERIC = """store,start,end,in,out
Corner Shop,2026-11-03 10:00,2026-11-03 10:15,2,1
Corner Shop,2026-11-03 10:15,2026-11-03 10:30,3,2
Corner Shop,2026-11-03 10:30,2026-11-03 11:00,5,5
Corner Shop,2026-11-03T11:00:00+00:00,2026-11-03T12:00:00+00:00,20,18
"""
HOURS = {"2026-11-03T10:00:00.000Z": (10, 8), "2026-11-03T11:00:00.000Z": (20, 18)}


def test_generic_file_sums_finer_intervals_to_the_hour(storage, shop):
    done = traffic.import_file(storage, "traffic", shop["store"], GENERIC.encode(), actor="t")
    # 10:00 = 2 + 3 + 5 in, 1 + 2 + 5 out; 11:00 as given.
    assert stored_traffic(storage) == HOURS
    assert (done.lines, done.periods, done.replaced) == (4, 2, 0)
    assert done.sentence("Corner Shop") == (
        "Imported 2 hours of traffic for Corner Shop from 4 lines, "
        "2026-11-03 10:00 to 2026-11-03 11:00."
    )
    with storage.read() as db:
        audit = db.execute("SELECT actor, entity FROM audit WHERE action = 'import'").fetchall()
    assert audit == [("t", "traffic")]


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        (
            "axis",
            "timestamp,in,out\n2026-11-03T10:00:00Z,4,3\n2026-11-03T10:30:00Z,6,5\n"
            "2026-11-03T11:00:00Z,20,18\n",
        ),
        (
            "hikvision",
            "startTime;endTime;enterCount;exitCount\n"
            "2026-11-03T10:00:00+00:00;2026-11-03T11:00:00+00:00;10;8\n"
            "2026-11-03T11:00:00+00:00;2026-11-03T12:00:00+00:00;20;18\n",
        ),
        (
            "retailnext",
            "Store Name,Start Time,traffic_in,traffic_out\n"
            "corner shop,2026-11-03 10:00,10,8\n1,2026-11-03 11:00,20,18\n",
        ),
    ],
)
def test_counter_presets(storage, shop, fmt, text):
    traffic.import_file(storage, "traffic", shop["store"], text, fmt=fmt, actor="t")
    assert stored_traffic(storage) == HOURS


def test_column_mapping(storage, shop):
    text = "Zeit,Eingang,Ausgang\n2026-11-03 10:00,10,8\n2026-11-03 11:00,20,18\n"
    traffic.import_file(
        storage,
        "traffic",
        shop["store"],
        text,
        mapping="start=Zeit, in=Eingang,out=Ausgang",
        actor="t",
    )
    assert stored_traffic(storage) == HOURS
    with pytest.raises(ValidationError, match="no such column"):
        traffic.import_file(storage, "traffic", shop["store"], text, mapping="in=Enters", actor="t")
    with pytest.raises(ValidationError, match="not a field"):
        traffic.parse_mapping("visitors=Eingang", "traffic")
    with pytest.raises(
        ValidationError, match="header has no 'start' column \\(timestamp in the axis format\\)"
    ):
        traffic.import_file(storage, "traffic", shop["store"], text, fmt="axis", actor="t")


def test_autumn_change_local_times_in_the_repeated_hour(storage, shop):
    """25 Oct 2026, London: 01:00–02:00 happens twice (BST, then GMT). A counter
    writing local clock times writes 01:00 and 01:30 twice, in that order."""
    text = (
        "start,end,in\n"
        "2026-10-25 00:00,2026-10-25 01:00,1\n"  # 23:00 UTC on the 24th
        "2026-10-25 01:00,2026-10-25 01:30,2\n"  # first pass: 00:00 UTC
        "2026-10-25 01:30,2026-10-25 01:00,3\n"  # ends at the second 01:00
        "2026-10-25 01:00,2026-10-25 01:30,4\n"  # second pass: 01:00 UTC
        "2026-10-25 01:30,2026-10-25 02:00,5\n"
        "2026-10-25 02:00,2026-10-25 03:00,6\n"  # 02:00 UTC
    )
    traffic.import_file(storage, "traffic", shop["store"], text, actor="t")
    assert stored_traffic(storage) == {
        "2026-10-24T23:00:00.000Z": (1, None),
        "2026-10-25T00:00:00.000Z": (5, None),
        "2026-10-25T01:00:00.000Z": (9, None),
        "2026-10-25T02:00:00.000Z": (6, None),
    }


def test_spring_change_skipped_hour_and_offsets(storage, shop):
    """29 Mar 2026, London: 01:00–02:00 never happens. With offsets it is exact."""
    bad = "start,in\n2026-03-29 00:00,1\n2026-03-29 01:00,2\n2026-03-29 02:00,3\n"
    with pytest.raises(ImportRefused) as refused:
        traffic.import_file(storage, "traffic", shop["store"], bad, actor="t")
    assert refused.value.problems == [
        "Line 3: 2026-03-29 01:00 does not exist in Europe/London (the clocks went forward then)."
    ]
    good = "start,in\n2026-03-29T00:00:00+00:00,1\n2026-03-29T02:00:00+01:00,3\n"
    traffic.import_file(storage, "traffic", shop["store"], good, actor="t")
    assert stored_traffic(storage) == {
        "2026-03-29T00:00:00.000Z": (1, None),
        "2026-03-29T01:00:00.000Z": (3, None),
    }


def test_broken_file_is_refused_whole_with_a_sentence_per_line(storage, shop):
    traffic.import_file(storage, "traffic", shop["store"], GENERIC, actor="t")
    broken = (
        "store,start,end,in,out\n"
        "Corner Shop,2026-11-04 10:00,2026-11-04 11:00,7,7\n"  # fine, but must not land
        "Corner Shop,04/11/2026 11:00,,7,7\n"
        "Corner Shop,2026-11-04 12:00,2026-11-04 11:00,7,7\n"
        "Corner Shop,2026-11-04 13:00,,seven,7\n"
        "Other Shop,2026-11-04 14:00,,7,7\n"
        "Corner Shop,2026-11-04 15:00,2026-11-04 17:00,7,7\n"
        "Corner Shop,2026-11-04 10:00,,1,1\n"
        "Corner Shop,2026-11-04 16:00,,2.5,1\n"
    )
    with pytest.raises(ImportRefused) as refused:
        traffic.import_file(storage, "traffic", shop["store"], broken.encode(), actor="t")
    assert refused.value.problems == [
        "Line 3: the start time '04/11/2026 11:00' is not a time written like "
        "2026-11-03 14:00 or 2026-11-03T14:00:00+00:00.",
        "Line 4: the end 2026-11-04 11:00 is not after the start.",
        "Line 5: the entries (in) must be a whole number of 0 or more, not 'seven'.",
        "Line 6: the store is 'Other Shop', but this import is for 'Corner Shop'.",
        "Line 7: the interval is longer than its clock hour; export hourly or finer counts.",
        "Line 8: it counts the same interval as line 2.",
        "Line 9: the entries (in) must be a whole number of 0 or more, not '2.5'.",
    ]
    assert str(refused.value).startswith("The file was not imported (nothing was saved): 7")
    assert stored_traffic(storage) == HOURS  # the earlier import, untouched
    with pytest.raises(ValidationError, match="empty"):
        traffic.import_file(storage, "traffic", shop["store"], b"", actor="t")
    with pytest.raises(NotFoundError):
        traffic.import_file(storage, "traffic", 99, GENERIC, actor="t")


def test_reimport_replaces_never_doubles(storage, shop):
    traffic.import_file(storage, "traffic", shop["store"], GENERIC, actor="t")
    again = traffic.import_file(storage, "traffic", shop["store"], GENERIC, actor="t")
    assert stored_traffic(storage) == HOURS
    assert again.replaced == 2
    # Overlapping: 11:00 corrected, 12:00 new; 10:00 (not in the file) kept.
    overlap = "start,in,out\n2026-11-03 11:00,21,19\n2026-11-03 12:00,4,4\n"
    done = traffic.import_file(storage, "traffic", shop["store"], overlap, actor="t")
    assert done.replaced == 1
    assert stored_traffic(storage) == {
        "2026-11-03T10:00:00.000Z": (10, 8),
        "2026-11-03T11:00:00.000Z": (21, 19),
        "2026-11-03T12:00:00.000Z": (4, 4),
    }


POS_GENERIC = (
    "store,date,hour,transactions,units,net_sales\n"
    'Corner Shop,2026-11-03,10,3,7,"1,234.50"\n'
    "Corner Shop,2026-11-03,10,1,1,10\n"  # a second register: added
    "Corner Shop,2026-11-03,11:00,2,,$20.05\n"
    "Corner Shop,2026-11-04,,9,20,(12.50)\n"  # a whole day, a refund-heavy one
)


def test_pos_generic(storage, shop):
    done = traffic.import_file(storage, "pos", shop["store"], POS_GENERIC, actor="t")
    assert stored_pos(storage) == {
        ("2026-11-03", 10): (4, 8, 124450),
        ("2026-11-03", 11): (2, None, 2005),
        ("2026-11-04", -1): (9, 20, -1250),
    }
    assert (done.lines, done.periods) == (4, 2)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("shopify", "Day,Hour,Orders,Net quantity,Net sales\n2026-11-03,10,4,8,1244.50\n"),
        (
            "square",
            'Date,Time,Transactions,Items Sold,Net Sales\n2026-11-03,10:00,4,8,"$1,244.50"\n',
        ),
        (
            "lightspeed",
            "Date;Hour;Sales;Items sold;Net sales\n2026-11-03;10;4;8;1.244,50 €\n",
        ),
        ("generic", "date,transactions,units,net_sales\n2026-11-03 10:00,4,8,1244.5\n"),
    ],
)
def test_pos_presets(storage, shop, fmt, text):
    traffic.import_file(storage, "pos", shop["store"], text, fmt=fmt, actor="t")
    assert stored_pos(storage) == {("2026-11-03", 10): (4, 8, 124450)}


def test_pos_refusals_and_reimport(storage, shop):
    traffic.import_file(storage, "pos", shop["store"], POS_GENERIC, actor="t")
    bad = (
        "date,hour,transactions,units,net_sales\n"
        "2026-11-05,,3,3,10\n"
        "2026-11-05,10,1,1,10\n"
        "5 Nov,10,1,1,10\n"
        "2026-11-06,25,1,1,10\n"
        "2026-11-06,9,-1,1,10\n"
        "2026-11-06,9,1,1,ten\n"
    )
    with pytest.raises(ImportRefused) as refused:
        traffic.import_file(storage, "pos", shop["store"], bad, actor="t")
    assert refused.value.problems == [
        "Line 3: 2026-11-05 has both a whole-day total and hourly totals (see line 2).",
        "Line 4: the date '5 Nov' is not a date written like 2026-11-03.",
        "Line 5: the hour must be 0–23, not '25'.",
        "Line 6: transactions must be a whole number of 0 or more, not '-1'.",
        "Line 7: net sales must be an amount like 1234.50, not 'ten'.",
    ]
    # A day re-imported as a whole-day total replaces its hours; other days stay.
    done = traffic.import_file(
        storage, "pos", shop["store"], "date,transactions\n2026-11-03,7\n", actor="t"
    )
    assert done.replaced == 1
    assert stored_pos(storage) == {
        ("2026-11-03", -1): (7, None, None),
        ("2026-11-04", -1): (9, 20, -1250),
    }


def test_counter_settings(storage, shop):
    assert traffic.counter_settings(storage)[shop["store"]] == CounterSettings(False, 0.0, 0.7)
    traffic.save_counter_settings(storage, shop["store"], CounterSettings(True, 2, 0.8), actor="m")
    assert traffic.counter_settings(storage)[shop["store"]] == CounterSettings(True, 2.0, 0.8)
    with pytest.raises(ValidationError, match="threshold"):
        traffic.save_counter_settings(
            storage, shop["store"], CounterSettings(coverage_threshold=0), actor="m"
        )
    with pytest.raises(ValidationError, match="staff"):
        traffic.save_counter_settings(
            storage, shop["store"], CounterSettings(staff_per_hour=-1), actor="m"
        )


def test_cli_import(storage, shop, tmp_path):
    good, bad = tmp_path / "counter.csv", tmp_path / "broken.csv"
    good.write_text(GENERIC.replace("\n", "\r\n"), encoding="utf-8-sig")
    bad.write_text("start,in\n2026-11-03 10:00,x\n", encoding="utf-8")

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "cxlog", "import", *args, "--db", storage.address],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )

    done = cli("traffic", str(good), "--store", "Corner Shop")
    assert done.returncode == 0, done.stderr
    assert "Imported 2 hours of traffic for Corner Shop from 4 lines" in done.stdout
    refused = cli("traffic", str(bad), "--store", str(shop["store"]))
    assert refused.returncode == 2
    assert "Line 2: the entries (in) must be a whole number" in refused.stderr
    assert "Traceback" not in refused.stderr
    unknown = cli("pos", str(good), "--store", "Nowhere")
    assert unknown.returncode == 2 and "No store has the id or name 'Nowhere'" in unknown.stderr
    assert stored_traffic(storage) == HOURS
    assert catalog.get_store(storage, shop["store"])["name"] == "Corner Shop"


# --- hostile and foreign files (issue #25) ------------------------------------


def test_a_file_of_bad_lines_is_refused_in_bounded_memory(storage, shop):
    """Every line bad (a file in the wrong format): the first 100 sentences
    are kept, the rest counted. Python's peak allocation is 2.0x the file
    (18f9694: 15.3x by this measure; the re-test saw a 5 MB file add 300 MB
    to the server's RSS)."""
    import tracemalloc

    lines = 250_000
    data = b"start,in\n" + b"yesterday,many\n" * lines  # 3.75 MB
    tracemalloc.start()
    try:
        with pytest.raises(ImportRefused) as refused:
            traffic.parse_traffic(data, {"name": "Corner Shop", "timezone": "Europe/London"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.total == lines
    assert len(refused.value.problems) == traffic.MAX_PROBLEMS_KEPT
    assert str(refused.value).endswith(f"- … and {lines - traffic.MAX_PROBLEMS_SHOWN:,} more.")
    assert peak < 3 * len(data), f"peak {peak / 1e6:.0f} MB for a {len(data) / 1e6:.1f} MB file"
    with pytest.raises(ImportRefused) as refused:
        traffic.import_file(
            storage, "pos", shop["store"], b"date,transactions\n" + b"x,y\n" * 500, actor="t"
        )
    assert (refused.value.total, len(refused.value.problems)) == (500, 100)
    assert stored_pos(storage) == {}


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: t.encode("utf-8-sig"),
        lambda t: t.encode("utf-16"),  # with its byte-order mark (Excel's "Unicode text")
        lambda t: t.encode("utf-16-le"),  # without one
        lambda t: t.encode("utf-16-be"),
        lambda t: t.encode("cp1252"),  # Windows spreadsheets
    ],
    ids=["utf-8", "utf-8-bom", "utf-16", "utf-16-le", "utf-16-be", "cp1252"],
)
def test_files_in_every_common_encoding_read_the_same(storage, shop, encode):
    catalog.update_store(
        storage, shop["store"], name="Café Crème", timezone="Europe/London", actor="t"
    )
    text = GENERIC.replace("Corner Shop", "Café Crème")
    traffic.import_file(storage, "traffic", shop["store"], encode(text), actor="t")
    assert stored_traffic(storage) == HOURS


def test_a_line_the_csv_reader_cannot_read_is_one_sentence(storage, shop):
    huge = "store,start,in\nCorner Shop,2026-11-03 10:00," + "9" * 200_000 + "\n"
    with pytest.raises(ValidationError) as refused:
        traffic.import_file(storage, "traffic", shop["store"], huge.encode(), actor="t")
    message = str(refused.value)
    assert message.startswith("Line 2 cannot be read as CSV") and "\n" not in message
    nul = b"start,in\n2026-11-03 10:00,\x00\x001\n"
    with pytest.raises(ValidationError, match=r"cannot be read as CSV|must be a whole number"):
        traffic.import_file(storage, "traffic", shop["store"], nul, actor="t")
    assert stored_traffic(storage) == {}
