"""The Dashboard page through AppTest: every number on it against answers worked
out by hand and against the metrics module, filters in the URL, tiny data (#5).

The visits sit in a fixed custom range (1–19 November 2026, London), opened
by URL, so the answers do not depend on today's date.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from cxlog.numbers import metrics
from cxlog.numbers.metrics import Filters
from tests.helpers.oracles import half_up, newcombe_by_hand
from tests.helpers.pages import open_dashboard
from tests.helpers.rows import RANGE, hand_month, insert, visit

START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def month(app_env, shop):
    """hand_month (tests/helpers/rows.py): the November answers worked out by hand."""
    return hand_month(app_env, shop)


def url(at: AppTest) -> dict[str, str]:
    """The page's query string as the browser would show it."""
    return {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}


def charts(at: AppTest) -> dict[str, dict]:
    return {c.proto.id.split("-")[-1]: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def test_every_number_matches_hand_and_metrics(app_env, month):
    at = open_dashboard(RANGE)
    tiles = {m.label: (m.value, m.delta or None) for m in at.metric}
    assert tiles == {
        "Visits": ("62", "+42"),  # 32 + 25 + 5 against 20
        "Conversion": ("53.3%", "+13.3 pts"),  # 32 of 60 against 8 of 20
        "Units per sale": ("1.72", "+0.72"),  # 55 units / 32 sales against 1.00
        "Average sale": ("8.33", None),  # 250.00 / 30; before: no amounts
        "Warm rate": ("51.6%", "+51.6 pts"),  # 32 of 62 against 0 of 20
        "Open visits": ("2", "+2"),
    }
    counts = metrics.totals(app_env, Filters(START, END))
    assert tiles["Conversion"][0] == f"{100 * counts.conversion.value:.1f}%"
    assert tiles["Units per sale"][0] == f"{counts.units_per_sale:.2f}"
    assert tiles["Average sale"][0] == f"{counts.average_sale:.2f}"
    assert tiles["Warm rate"][0] == f"{100 * counts.warm_rate.value:.1f}%"
    assert (counts.visits, counts.open) == (62, 2)
    captions = [c.value for c in at.caption]
    assert "n = 60 closed · 95% 41\u2060–\u206065%" in captions  # wilson(32, 60)

    sentences = [m.value for m in at.markdown]
    assert (
        "Warm first engagements converted 30 points better than neutral ones and sold 1.0 more "
        "units per sale, 30 vs 25 closed visits; at these numbers the gap could still be chance."
    ) in sentences
    assert (
        "Visits at connection depth 2 converted 33 points better than those at depth 0 and sold "
        "0.8 more units per sale, 30 vs 30 closed visits; at these numbers the gap could "
        "still be chance."
    ) in sentences  # depth 0: 11 of 30 bought 13 units; depth 2: 21 of 30 bought 42

    by = metrics.breakdown(app_env, Filters(START, END), "first_engagement")
    bars = charts(at)["engagement"]["data"][0]
    assert bars["y"][:2] == pytest.approx([100 * 21 / 30, 100 * 10 / 25])
    assert bars["y"][:2] == pytest.approx(
        [100 * by[k].conversion.value for k in ("warm", "neutral")]
    )
    assert bars["y"][2] is None  # missed: 5 closed, too few
    assert bars["x"] == ["Warm<br>n = 30", "Neutral<br>n = 25", "Missed<br>n = 5"]
    assert "too few visits" in [
        a["text"] for a in charts(at)["engagement"]["layout"]["annotations"]
    ]
    depth = charts(at)["depth"]["data"][0]
    assert depth["x"] == [
        "Depth 0<br>n = 30",
        "Depth 1<br>n = 0",
        "Depth 2<br>n = 30",
        "Depth 3<br>n = 0",
    ]

    team = at.table[0].value
    # Issue #14: the team's neutral cost, 25 × (21/30 − 10/25) = 7.5 purchases;
    # Ana (warm only) and Ben (no warm) have too few to compare.
    low, high = newcombe_by_hand(21, 30, 10, 25)
    assert team["Neutral cost (purchases)"].tolist()[:3] == [
        f"≈ 8 ({half_up(25 * low)} to {half_up(25 * high)})",
        "too few visits",
        "too few visits",
    ]
    team = team.drop(columns="Neutral cost (purchases)")
    assert team.to_dict("records")[:3] == [
        {
            "#": "",
            "Associate": "Team",
            "Visits": "62",
            "Warm rate": "51.6%",
            "Conversion (95%)": "53.3% (41\u2060–\u206065%)",
            "n closed": "60",
            "UPS": "1.72",
            "vs previous": "+13.3 pts",
        },
        {
            "#": "1",
            "Associate": "Ana",
            "Visits": "32",
            "Warm rate": "100.0%",
            "Conversion (95%)": "70.0% (52\u2060–\u206083%)",
            "n closed": "30",
            "UPS": "2.00",
            "vs previous": "—",
        },
        {
            "#": "2",
            "Associate": "Ben",
            "Visits": "30",
            "Warm rate": "0.0%",
            "Conversion (95%)": "36.7% (22\u2060–\u206054%)",
            "n closed": "30",
            "UPS": "1.18",
            "vs previous": "-3.3 pts",
        },
    ]


def test_filters_go_into_the_url_and_a_refresh_keeps_them(app_env, month):
    at = open_dashboard(RANGE)
    at.selectbox(key="dash_associate").set_value(month["ben"]).run()
    assert not at.exception
    assert url(at)["associate"] == str(month["ben"])
    assert {m.label: m.value for m in at.metric}["Visits"] == "30"

    refreshed = open_dashboard(url(at))
    assert refreshed.selectbox(key="dash_associate").value == month["ben"]
    assert refreshed.date_input(key="dash_range").value == (date(2026, 11, 1), date(2026, 11, 19))
    assert {m.label: m.value for m in refreshed.metric}["Visits"] == "30"

    refreshed.segmented_control(key="dash_period").set_value("last_7").run()
    assert url(refreshed)["period"] == "last_7"
    assert "from" not in url(refreshed)


def test_bad_url_values_fall_back_with_a_gentle_note(app_env, month):
    at = open_dashboard({"period": "fortnight", "store": "999", "reason": "x"})
    notes = [i.value for i in at.info]
    assert any("period 'fortnight'" in n for n in notes)
    assert any("store in the link does not exist" in n for n in notes)
    assert any("reason for visit in the link" in n for n in notes)
    assert at.segmented_control(key="dash_period").value == "last_30"
    assert at.selectbox(key="dash_store").value == 0


def test_a_link_to_a_range_ending_in_the_future_is_cut_not_broken(app_env, month):
    at = open_dashboard({"period": "custom", "from": "2026-11-01", "to": "2030-06-01"})
    assert any("it now ends today" in i.value for i in at.info)
    assert at.date_input(key="dash_range").value[1] <= date.today() + timedelta(days=1)


def test_a_new_store_with_no_visits_sees_guidance(app_env, shop):
    at = open_dashboard()
    assert any("No visits in this period yet" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not at.metric


def test_three_visits_show_counts_and_too_few_not_charts(app_env, shop):
    today = datetime.now(UTC)
    s = shop["store"]
    insert(
        app_env,
        [
            {**visit(s, shop["ana"], "warm", "purchased", 2), "at": today},
            {**visit(s, shop["ana"], "neutral", "no_purchase"), "at": today},
            {**visit(s, shop["ben"], "missed"), "at": today},
        ],
    )
    at = open_dashboard({"period": "today"})
    tiles = {m.label: (m.value, m.delta or None) for m in at.metric}
    assert tiles["Visits"] == ("3", None)
    assert tiles["Conversion"] == ("—", None)
    assert tiles["Open visits"] == ("1", None)
    assert any("has 2 closed visits" in i.value for i in at.info)
    assert not at.get("plotly_chart")
    assert [r["#"] for r in at.table[0].value.to_dict("records")] == ["", "—", "—"]
