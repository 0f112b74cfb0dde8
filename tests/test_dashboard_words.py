"""Takeaway sentences, KPI tiles, the team table and URL filters (#5)."""

from __future__ import annotations

from datetime import date

import pytest

from cxlog.calendar import periods
from cxlog.core.text import plain
from cxlog.dashboard import filters
from cxlog.dashboard import takeaways as words
from cxlog.dashboard.dashboard import DashboardFilters, Group, TeamRow
from cxlog.numbers.metrics import Counts


def counts(closed: int, purchased: int, units: int = 0, visits: int | None = None, warm: int = 0):
    return Counts(
        visits=closed if visits is None else visits,
        warm=warm,
        closed=closed,
        purchased=purchased,
        units=units,
    )


def engagement(warm: Counts, neutral: Counts, missed: Counts) -> list[Group]:
    return [
        Group("warm", "Warm", warm),
        Group("neutral", "Neutral", neutral),
        Group("missed", "Missed", missed),
    ]


def test_the_issue_example_sentence_is_computed():
    # 62% of 540 against 41% of 610: 21 points.
    groups = engagement(
        counts(540, 335, units=1005), counts(610, 250, units=500), counts(100, 17, units=17)
    )
    assert words.engagement(groups) == (
        "Warm first engagements converted 21 points better than neutral ones and sold "
        "1.0 more units per sale, 540 vs 610 closed visits."
    )


@pytest.mark.parametrize(
    ("warm", "neutral", "expected"),
    [
        (
            counts(40, 20, 40),
            counts(40, 22, 44),
            "Warm first engagements converted 5 points worse than neutral ones and sold as many "
            "units per sale, 40 vs 40 closed visits; at these numbers the gap could still be "
            "chance.",
        ),
        (
            counts(50, 25, 50),
            counts(60, 30, 90),
            "Warm first engagements converted about as well as neutral ones and sold 1.0 fewer "
            "units per sale, 50 vs 60 closed visits.",
        ),
        (
            counts(12, 10),
            counts(30, 3),
            "Too few visits to compare warm first engagements with neutral ones yet: 12 vs 30 "
            "closed visits (20 each needed).",
        ),
    ],
)
def test_engagement_sentences_are_honest_about_samples(warm, neutral, expected):
    # Missed has too few too, so nothing else is compared instead.
    assert words.engagement(engagement(warm, neutral, counts(10, 2, 2))) == expected


def test_without_enough_warm_visits_neutral_is_compared_with_missed():
    text = words.engagement(engagement(counts(3, 3, 3), counts(100, 40, 80), counts(100, 10, 10)))
    assert text.startswith("Neutral first engagements converted 30 points better than missed")


def test_depth_compares_the_deepest_and_shallowest_with_enough_visits():
    groups = [
        Group(0, "Depth 0", counts(50, 10, 10)),
        Group(1, "Depth 1", counts(60, 24, 36)),
        Group(2, "Depth 2", counts(70, 35, 70)),
        Group(3, "Depth 3", counts(5, 5, 25)),
    ]
    assert words.depth(groups) == (
        "Visits at connection depth 2 converted 30 points better than those at depth 0 and sold "
        "1.0 more units per sale, 70 vs 50 closed visits."
    )
    assert words.depth([Group(d, "", counts(3, 1, 1)) for d in range(4)]).startswith(
        "Too few visits to compare connection depths yet"
    )


def test_reason_and_no_sale_and_team_sentences():
    groups = [
        Group(1, "Gift", counts(40, 30, 30)),
        Group(2, "Browsing", counts(40, 10, 10)),
        Group(3, "Not learned", counts(4, 0)),
    ]
    assert words.reasons(groups) == (
        "Gift visits converted best: 75% of 40 closed visits; Browsing converted least: 25% of 40."
    )
    assert words.reasons(groups[2:]).startswith("Too few visits per reason")
    from cxlog.numbers.metrics import Rate

    assert words.no_sale([("Price", Rate(6, 10)), ("None given", Rate(4, 10))]) == (
        "Price was the most common no-sale reason: 60% of 10 no-purchase visits."
    )
    assert words.no_sale([]) == "No visit ended without a purchase in this period."
    rows = [
        TeamRow(1, "Ana", "Shop", True, counts(30, 15, 15), Counts(), 1),
        TeamRow(2, "Ben", "Shop", True, counts(3, 1, 1), Counts(), None),
    ]
    assert words.team(rows) == (
        "1 of 2 associates have enough closed visits to rank; Ana leads with 50% conversion "
        "over 30 closed visits."
    )


def test_tiles_show_n_interval_and_deltas_only_when_comparable():
    now = Counts(
        visits=110,
        warm=66,
        closed=100,
        purchased=50,
        units=150,
        amount_cents=100000,
        with_amount=40,
    )
    before = Counts(
        visits=80, warm=40, closed=80, purchased=32, units=64, amount_cents=64000, with_amount=32
    )
    tiles = {t.label: t for t in words.tiles(now, before)}
    assert (tiles["Visits"].value, tiles["Visits"].delta) == ("110", "+30")
    assert (tiles["Conversion"].value, tiles["Conversion"].delta) == ("50.0%", "+10.0 pts")
    assert tiles["Conversion"].caption == "n = 100 closed · 95% 40\u2060–\u206060%"
    assert (tiles["Units per sale"].value, tiles["Units per sale"].delta) == ("3.00", "+1.00")
    assert (tiles["Average sale"].value, tiles["Average sale"].delta) == ("25.00", "+5.00")
    assert (tiles["Warm rate"].value, tiles["Warm rate"].delta) == ("60.0%", "+10.0 pts")
    assert (tiles["Open visits"].value, tiles["Open visits"].delta) == ("10", "+10")

    tiny = {t.label: t for t in words.tiles(counts(3, 2, 2), Counts())}
    assert tiny["Conversion"].value == "—" and tiny["Conversion"].delta is None
    assert tiny["Conversion"].caption == "too few visits · n = 3 closed"
    assert tiny["Visits"].delta is None  # nothing to compare with


def test_team_table_puts_the_team_first_and_does_not_rank_the_few():
    rows = [
        TeamRow(1, "Ana", "Shop", True, counts(30, 15, 30, warm=24), counts(20, 5), 1),
        TeamRow(2, "Ben", "Shop", False, counts(3, 1, 1), Counts(), None),
    ]
    table = words.team_table(rows, counts(33, 16, 31, warm=24), counts(20, 5), with_store=False)
    assert table.to_dict("records") == [
        {
            "#": "",
            "Associate": "Team",
            "Visits": "33",
            "Warm rate": "72.7%",
            "Conversion (95%)": "48.5% (33\u2060–\u206065%)",
            "n closed": "33",
            "UPS": "1.94",
            "vs previous": "+23.5 pts",
        },
        {
            "#": "1",
            "Associate": "Ana",
            "Visits": "30",
            "Warm rate": "80.0%",
            "Conversion (95%)": "50.0% (33\u2060–\u206067%)",
            "n closed": "30",
            "UPS": "2.00",
            "vs previous": "+25.0 pts",
        },
        {
            "#": "—",
            "Associate": "Ben (inactive)",
            "Visits": "3",
            "Warm rate": "too few visits",
            "Conversion (95%)": "too few visits",
            "n closed": "3",
            "UPS": "—",
            "vs previous": "—",
        },
    ]


def test_typed_names_in_sentences_stay_literal():
    """A reason or associate name is escaped where it enters a sentence, so a
    name like '*Gift* $5 [x](y)' cannot turn into bold, maths or a link."""
    hostile = "*Gift* $5 [x](y)"
    escaped = plain(hostile)
    assert escaped.startswith("\\*Gift\\*") and "\\[x\\]\\(y\\)" in escaped
    counts = Counts(visits=30, closed=30, purchased=15)
    sentence = words.reasons([Group(key=1, label=hostile, counts=counts, previous=Counts())])
    assert sentence.startswith(escaped + " visits converted best")


STORES, PEOPLE, REASONS = {1: "Shop", 2: "Harbour"}, {5: 1, 6: 2}, {3: "Gift"}


@pytest.mark.parametrize(
    ("query", "selection", "notes"),
    [
        ({}, DashboardFilters(), 0),
        (
            {"period": "last_7", "store": "1", "associate": "5", "reason": "3"},
            DashboardFilters(periods.LAST_7, store_id=1, associate_id=5, reason_id=3),
            0,
        ),
        (
            {"from": "2026-11-01", "to": "2026-11-15"},
            DashboardFilters(periods.CUSTOM, date(2026, 11, 1), date(2026, 11, 15)),
            0,
        ),
        ({"period": "fortnight"}, DashboardFilters(), 1),
        ({"period": "custom", "from": "2026-13-01", "to": "x"}, DashboardFilters(), 1),
        ({"store": "99", "reason": "abc"}, DashboardFilters(), 2),
        ({"store": "1", "associate": "6"}, DashboardFilters(store_id=1), 1),
    ],
)
def test_url_values_fall_back_gently(query, selection, notes):
    got, said = filters.from_query(query, stores=STORES, associates=PEOPLE, reasons=REASONS)
    assert got == selection
    assert len(said) == notes


def test_url_custom_range_is_cut_at_today():
    query = {"period": "custom", "from": "2026-11-01", "to": "2030-01-01"}
    got, said = filters.from_query(
        query, stores=STORES, associates=PEOPLE, reasons=REASONS, today=date(2026, 11, 24)
    )
    assert (got.first, got.last) == (date(2026, 11, 1), date(2026, 11, 24))
    assert said == ["The link's range ended after today; it now ends today."]
    future = {"period": "custom", "from": "2030-01-01", "to": "2030-01-02"}
    got, said = filters.from_query(
        future, stores=STORES, associates=PEOPLE, reasons=REASONS, today=date(2026, 11, 24)
    )
    assert got == DashboardFilters() and "starts after today" in said[0]


def test_url_round_trip():
    chosen = DashboardFilters(periods.CUSTOM, date(2026, 11, 1), date(2026, 11, 15), 2, 6, 3)
    query = filters.to_query(chosen)
    assert query == {
        "period": "custom",
        "from": "2026-11-01",
        "to": "2026-11-15",
        "store": "2",
        "associate": "6",
        "reason": "3",
    }
    assert filters.from_query(query, stores=STORES, associates=PEOPLE, reasons=REASONS) == (
        chosen,
        [],
    )


def test_trend_sentence_skips_weeks_that_are_still_too_young():
    import pandas as pd

    points = pd.DataFrame(
        [
            {"week": date(2026, 11, 9), "engagement": "warm", "counts": counts(40, 20)},
            {"week": date(2026, 11, 9), "engagement": "neutral", "counts": counts(4, 1)},
            {"week": date(2026, 11, 16), "engagement": "warm", "counts": counts(5, 5)},
        ]
    )
    assert words.trend(points) == "Week of 9 Nov: warm 50%, neutral too few visits."
    assert words.trend(points.iloc[1:]).startswith("Too few visits in any week")
