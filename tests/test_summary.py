"""The summary CSV (issue #6): cxlog.numbers.metrics' numbers for the selection, one
long table, text neutralised and numbers (negative lifts too) left numbers."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd

from cxlog.export import summary
from cxlog.export.export import ExportSelection
from cxlog.numbers import metrics
from cxlog.numbers.metrics import Filters
from cxlog.stores import catalog
from tests.conftest import log_visit_in, utc
from tests.helpers.rows import seed


def frame(storage, selection) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(summary.summary_csv(storage, selection)))


def test_summary_matches_the_metrics(storage, shop):
    seed(storage, shop, utc("2026-11-03T10:00:00+00:00"), warm_buys=15, neutral_buys=5)
    log_visit_in(storage, shop, utc("2026-11-03T12:00:00+00:00"), "missed")  # open
    log_visit_in(storage, shop, utc("2026-11-04T12:00:00+00:00"), "missed", units=3, voided=True)
    selection = ExportSelection(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
    table = frame(storage, selection)
    assert list(table.columns) == list(summary.COLUMNS)
    assert list(dict.fromkeys(table["table"])) == [t for t in summary.TABLES]

    totals = metrics.totals(storage, Filters())  # the same visits: voided ignored
    row = table[table["table"] == "all"].iloc[0]
    assert (row["visits"], row["open"], row["closed"], row["purchased"]) == (51, 1, 50, 20)
    assert row["no_purchase"] == 30
    assert row["conversion"] == round(totals.conversion.value, 4) == 0.4
    low, high = totals.conversion.interval
    assert (row["conversion_low"], row["conversion_high"]) == (round(low, 4), round(high, 4))
    assert row["units_per_sale"] == round(totals.units_per_sale, 2) == 1.75
    assert row["average_sale"] == 12.5
    assert row["warm_rate"] == round(25 / 51, 4)

    engagement = table[table["table"] == "first_engagement"].set_index("group")
    assert list(engagement.index) == ["warm", "neutral", "missed"]
    assert engagement.loc["warm", "conversion"] == 0.6
    assert engagement.loc["missed", "too_few"] == 1
    assert engagement.loc["warm", "too_few"] == 0

    reasons = table[table["table"] == "reason"].set_index("group")
    assert reasons.loc["Gift", "visits"] == 25 and reasons.loc["(none)", "visits"] == 26
    no_sale = table[table["table"] == "no_sale_reason"].set_index("group")
    assert no_sale.loc["Price", "no_purchase"] == 10
    assert table[table["table"] == "associate"]["group"].tolist() == ["Ana"]


def test_a_negative_lift_stays_a_number(storage, shop):
    # Neutral converting better than warm: a lift of -0.4, written -0.4.
    seed(storage, shop, utc("2026-11-03T10:00:00+00:00"), warm_buys=5, neutral_buys=15)
    data = summary.summary_csv(storage, ExportSelection())
    lifts = frame(storage, ExportSelection()).set_index("group")
    assert lifts.loc["warm vs neutral", "lift"] == -0.4
    # Issue #14 added the currency and cost columns after the lift, issue #15
    # the follow-up columns (all empty here).
    assert b"warm vs neutral," in data and b",0,-0.4,,,,,,,,,,,,,,,\r\n" in data


def test_group_names_are_neutralised(storage, shop):
    catalog.rename_reason(storage, shop["reasons"]["Gift"], "=2+5", actor="test")
    catalog.rename_associate(storage, shop["ana"], "@Ana", actor="test")
    seed(storage, shop, utc("2026-11-03T10:00:00+00:00"), warm_buys=1, neutral_buys=1, n=2)
    text = summary.summary_csv(storage, ExportSelection()).decode()
    assert "reason,'=2+5," in text and "associate,'@Ana," in text
    assert "\r\nreason,=" not in text


def test_several_stores_add_up_with_each_stores_own_days(storage, shop):
    ny = catalog.create_store(storage, "Uptown", "America/New_York")
    cy = catalog.add_associate(storage, ny, "Ana", actor="test")
    # 30 Nov 22:00 in New York is already 1 December in UTC: still November.
    log_visit_in(
        storage, shop, utc("2026-11-30T22:00:00-05:00"), "warm", store=ny, associate=cy, units=1
    )
    log_visit_in(storage, shop, utc("2026-11-30T22:00:00+00:00"), "warm", units=1)
    log_visit_in(
        storage, shop, utc("2026-12-01T00:30:00+00:00"), "warm", units=1
    )  # December in London
    november = ExportSelection(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30))
    table = frame(storage, november)
    assert table[table["table"] == "all"].iloc[0]["visits"] == 2
    stores = table[table["table"] == "store"].set_index("group")["visits"].to_dict()
    assert stores == {"Corner Shop": 1, "Uptown": 1}
    # Same first name in two stores: told apart by the store.
    people = set(table[table["table"] == "associate"]["group"])
    assert people == {"Ana (Corner Shop)", "Ana (Uptown)"}
    only_ny = frame(storage, ExportSelection(store_ids=(ny,)))
    assert only_ny[only_ny["table"] == "associate"]["group"].tolist() == ["Ana"]


def test_excel_choice_adds_a_bom(storage, shop):
    plain = summary.summary_csv(storage, ExportSelection())
    assert (
        summary.summary_csv(storage, ExportSelection(), for_excel=True) == b"\xef\xbb\xbf" + plain
    )
    assert plain.startswith(",".join(summary.COLUMNS).encode() + b"\r\n")


def test_rates_are_written_one_way_in_every_csv():
    """#26: the summary and the follow-ups CSV write a rate and its interval
    through csvlines: four places, an empty cell for none."""
    from cxlog.export.csvlines import fraction_cell, interval_cells
    from cxlog.numbers.metrics import Rate

    assert fraction_cell(2 / 3) == 0.6667 and fraction_cell(None) == ""
    assert interval_cells(Rate(0, 0)) == ("", "")
    low, high = interval_cells(Rate(30, 100))
    assert (low, high) == (round(Rate(30, 100).interval[0], 4), round(Rate(30, 100).interval[1], 4))
    assert 0.2 < low < 0.3 < high < 0.4
