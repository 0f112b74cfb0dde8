"""Issue #14 on the dashboard and in the summary CSV: the cost section per
selection, per store and per associate, goal lines, amounts in the store's
currency — each against numbers worked out by hand (see tests/test_coaching.py
for the independent interval)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cxlog.coaching import coaching, goals
from cxlog.export import summary
from cxlog.export.export import ExportSelection
from cxlog.stores import catalog
from tests import test_dashboard_page
from tests.conftest import as_role, log_visit_in, utc
from tests.helpers.oracles import half_up, newcombe_by_hand
from tests.helpers.pages import open_page
from tests.helpers.rows import RANGE, insert, seed, visit

month = test_dashboard_page.month  # the hand-worked month of the dashboard's tests


def page(query: dict, role: str = "manager") -> AppTest:
    at_ = as_role(open_page("pages/dashboard.py"), role)
    for key, value in query.items():
        at_.query_params[key] = value
    return at_.run()


def test_dashboard_cost_section_currency_and_goal_lines(app_env, month):
    """The month fixture: warm 21 of 30 bought (2 units, 20 at 10.00), neutral 10
    of 25, missed 1 of 5. Neutral: 25 × (21/30 − 10/25) = 7.5 purchases, 15 units,
    £75.00; missed has too few closed visits."""
    store = month["store"]
    goals.set_currency(app_env, store, "GBP", actor="test")
    goals.set_goals(app_env, store, conversion_percent=50, units_per_sale=2.5, actor="test")
    at_ = page({**RANGE, "store": str(store)})
    assert not at_.exception
    texts = [m.value for m in at_.markdown]
    low, high = newcombe_by_hand(21, 30, 10, 25)
    neutral = next(t for t in texts if t.startswith("The 25 neutral visits"))
    assert neutral == (
        f"The 25 neutral visits are associated with about 8 fewer purchases (95%: "
        f"{half_up(25 * low)} to {half_up(25 * high)}) than if they had converted like the "
        "warm ones: about 15 units; £75.00 at the warm average sale of £10.00 (20 of 21 warm "
        "purchases had an amount)."
    )
    assert any(t.startswith("Too few visits to put a number on what missed") for t in texts)
    assert "What neutral and missed moments cost" in [h.value for h in at_.subheader]
    tiles = {m.label: m.value for m in at_.metric}
    assert tiles["Average sale"] == "£8.33"  # (20 × 10.00 + 10 × 5.00) / 30
    # Goal lines: dashed at 50% on conversion and 2.5 on units per sale.
    chart = json.loads(at_.get("plotly_chart")[0].proto.spec)
    lines = {(s["yref"], s["y0"]) for s in chart["layout"]["shapes"]}
    assert ("y", 50) in lines and ("y2", 2.5) in lines
    assert all(s["line"]["dash"] == "dash" for s in chart["layout"]["shapes"])


def test_no_goal_no_line_and_no_currency_plain_numbers(app_env, month):
    at_ = page(RANGE)
    assert not at_.exception
    chart = json.loads(at_.get("plotly_chart")[0].proto.spec)
    assert not chart["layout"].get("shapes")
    assert {m.label: m.value for m in at_.metric}["Average sale"] == "8.33"


def test_dashboard_costs_per_store_and_mixed_currencies_show_plain_numbers(app_env, month):
    other = catalog.create_store(app_env, "Other Shop", "Europe/London")
    olga = catalog.add_associate(app_env, other, "Olga", actor="test")
    noon = datetime(2026, 11, 10, 12, tzinfo=UTC)
    rows = [visit(other, olga, "warm", "purchased", 1, 2000, at=noon) for _ in range(20)]
    rows += [visit(other, olga, "neutral", "no_purchase", at=noon) for _ in range(20)]
    insert(app_env, rows)
    goals.set_currency(app_env, month["store"], "GBP", actor="test")
    goals.set_currency(app_env, other, "EUR", actor="test")
    at_ = page(RANGE, "owner")  # the manager's account predates Other Shop
    texts = [m.value for m in at_.markdown]
    # Other Shop: 20 × (20/20 − 0/20) = 20 purchases, 20 units, 20 × €20.00 = €400.00.
    line = next(t for t in texts if t.startswith("**Other Shop**"))
    assert "about 20 fewer purchases" in line and "€400.00" in line
    assert any(t.startswith("**Corner Shop**") and "£75.00" in t for t in texts)
    # All stores together: pounds and euros do not add up to either.
    # (20 × 10.00 + 10 × 5.00 + 20 × 20.00) / 50 priced purchases.
    assert {m.label: m.value for m in at_.metric}["Average sale"] == "13.00"
    team = at_.table[0].value
    assert "Neutral cost (purchases)" in team.columns


def frame(storage, selection) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(summary.summary_csv(storage, selection)), keep_default_na=False)


def test_summary_cost_rows_by_hand(storage, shop):
    """Warm 15 of 25 bought 2 units (no amounts), neutral 5 of 25 (12.50 each):
    25 × (15/25 − 5/25) = 10 purchases, 20 units, no revenue figure."""
    seed(storage, shop, utc("2026-11-03T10:00:00+00:00"), warm_buys=15, neutral_buys=5)
    goals.set_currency(storage, shop["store"], "GBP", actor="test")
    table = frame(storage, ExportSelection())
    assert list(table.columns) == list(summary.COLUMNS)
    cost = table[table["table"] == "cost"].set_index("group")
    low, high = newcombe_by_hand(15, 25, 5, 25)
    row = cost.loc["neutral"]
    assert float(row["extra_purchases"]) == 10
    assert float(row["extra_purchases_low"]) == pytest.approx(round(25 * low, 2))
    assert float(row["extra_purchases_high"]) == pytest.approx(round(25 * high, 2))
    assert float(row["extra_units"]) == 20
    assert row["extra_revenue"] == "" and int(row["purchases_with_amount"]) == 0
    assert (int(row["closed"]), int(row["too_few"]), row["currency"]) == (25, 0, "GBP")
    missed = cost.loc["missed"]  # no missed visits at all
    assert int(missed["too_few"]) == 1 and missed["extra_purchases"] == ""
    assert table[table["table"] == "store_cost"]["group"].tolist() == [
        "Corner Shop: neutral",
        "Corner Shop: missed",
    ]
    every = table[table["table"].isin(["all", "store", "first_engagement"])]
    assert set(every["currency"]) == {"GBP"}
    assert float(table[table["table"] == "all"].iloc[0]["average_sale"]) == 12.5


def test_summary_amounts_round_to_the_currency(storage, shop):
    """Two purchases of 1,000.40 and 1,000.00 (cents stored), yen: 1,000.20 → 1,000."""
    when = utc("2026-11-03T10:00:00+00:00")
    log_visit_in(storage, shop, when, "warm", units=1, amount=100040)
    log_visit_in(storage, shop, when + timedelta(minutes=1), "warm", units=1, amount=100000)
    goals.set_currency(storage, shop["store"], "JPY", actor="test")
    row = frame(storage, ExportSelection()).set_index("table").loc["all"]
    assert row["average_sale"] in ("1000", "1000.0") and row["currency"] == "JPY"


def test_dashboard_shows_the_coverage_warning_when_a_check_is_plugged_in(
    app_env, month, monkeypatch
):
    monkeypatch.setattr(
        coaching, "COVERAGE_CHECK", lambda storage, ids, first, last: f"Low coverage {first}"
    )
    at_ = page(RANGE)
    assert [w.value for w in at_.warning] == ["Low coverage 2026-11-01"]
