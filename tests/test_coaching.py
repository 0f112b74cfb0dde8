"""What neutral and missed moments cost (issue #14): hand-worked fixtures checked
against Wilson and Newcombe written out here, independently of cxlog.numbers.metrics
(the closed form of Newcombe 1998, not the code under test), plus the
published example of that paper; and the Log page's team line."""

from __future__ import annotations

import pytest

from cxlog.coaching import coaching
from cxlog.core.model import MIN_SAMPLE
from cxlog.numbers.metrics import Counts, Rate
from tests.helpers.oracles import half_up, newcombe_by_hand


def counts(closed: int, purchased: int, units: int = 0, cents: int = 0, priced: int = 0) -> Counts:
    return Counts(
        visits=closed,
        warm=0,
        closed=closed,
        purchased=purchased,
        units=units,
        amount_cents=cents,
        with_amount=priced,
    )


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "published"),
    [
        # Newcombe, Statistics in Medicine 17 (1998), Table II, method 10.
        (56, 70, 48, 80, (0.0524, 0.3339)),
        (9, 10, 3, 10, (0.1705, 0.8090)),
    ],
)
def test_newcombe_matches_the_published_example(x1, n1, x2, n2, published):
    low, high = coaching.newcombe(Rate(x1, n1), Rate(x2, n2))
    assert (round(low, 4), round(high, 4)) == published
    assert (low, high) == pytest.approx(newcombe_by_hand(x1, n1, x2, n2), abs=1e-12)


def test_typical_week_costs_purchases_units_and_money():
    """Warm: 21 of 30 bought, 2 units each, 20 of them 10.00; neutral: 10 of 25.
    25 × (21/30 − 10/25) = 7.5 purchases, × 2 UPS = 15 units, × 10.00 = 75.00."""
    warm = counts(30, 21, units=42, cents=20 * 1000, priced=20)
    cost = coaching.costs({"warm": warm, "neutral": counts(25, 10)})["neutral"]
    low, high = newcombe_by_hand(21, 30, 10, 25)
    assert not cost.too_few
    assert cost.purchases == pytest.approx(7.5)
    assert cost.purchases_interval == pytest.approx((25 * low, 25 * high))
    assert cost.units == pytest.approx(15.0)
    assert cost.units_interval == pytest.approx((50 * low, 50 * high))
    assert cost.revenue == pytest.approx(75.0)
    assert cost.revenue_interval == pytest.approx((250 * low, 250 * high))
    assert (cost.priced, cost.warm_purchased) == (20, 21)
    sentence = coaching.cost_sentence(cost, "GBP")
    assert sentence.startswith(
        f"The 25 neutral visits are associated with about 8 fewer purchases "
        f"(95%: {half_up(25 * low)} to {half_up(25 * high)})"
    )
    assert "about 15 units; £75.00 at the warm average sale of £10.00" in sentence
    assert "(20 of 21 warm purchases had an amount)" in sentence
    assert "promise" not in sentence and "would" not in sentence


def test_no_neutral_purchase_and_every_warm_one_without_amounts():
    """Warm 20 of 20 bought (1 unit, no amounts); neutral 0 of 20: 20 purchases,
    20 units, and no revenue figure at all."""
    cost = coaching.costs({"warm": counts(20, 20, units=20), "neutral": counts(20, 0)})["neutral"]
    low, high = newcombe_by_hand(20, 20, 0, 20)
    assert cost.purchases == 20
    assert cost.purchases_interval == pytest.approx((20 * low, 20 * high))
    assert cost.units == 20
    assert cost.revenue is None and cost.revenue_interval is None
    assert cost.priced == 0
    sentence = coaching.cost_sentence(cost, "EUR")
    assert "about 20 fewer purchases" in sentence
    assert "no revenue figure: no warm purchase had an amount" in sentence
    assert "€" not in sentence


@pytest.mark.parametrize(("warm_closed", "neutral_closed"), [(19, 40), (40, 19), (0, 0)])
def test_under_the_minimum_sample_there_is_no_number(warm_closed, neutral_closed):
    cost = coaching.costs(
        {"warm": counts(warm_closed, warm_closed // 2), "neutral": counts(neutral_closed, 1)}
    )["neutral"]
    assert cost.too_few and cost.purchases is None and cost.purchases_interval is None
    sentence = coaching.cost_sentence(cost, "GBP")
    assert sentence == (
        "Too few visits to put a number on what neutral first engagements cost: "
        f"{warm_closed} warm and {neutral_closed} neutral closed visits ({MIN_SAMPLE} each needed)."
    )
    assert coaching.short(cost) == "too few visits"


def test_when_neutral_converts_better_nothing_is_claimed():
    cost = coaching.costs({"warm": counts(40, 10), "neutral": counts(40, 20)})["neutral"]
    assert cost.purchases == pytest.approx(-10)
    assert "no cost to show" in coaching.cost_sentence(cost, None)
    assert coaching.short(cost) == "none"


def test_missed_is_costed_against_warm_and_a_chance_gap_says_so():
    """Warm 12 of 20, missed 10 of 20: 2 purchases, interval reaching below zero."""
    cost = coaching.costs({"warm": counts(20, 12, units=12), "missed": counts(20, 10)})["missed"]
    low, high = newcombe_by_hand(12, 20, 10, 20)
    assert low < 0 < high
    assert cost.group == "missed" and cost.purchases == pytest.approx(2)
    assert cost.could_be_chance
    sentence = coaching.cost_sentence(cost, "USD")
    assert "about 2 fewer purchases" in sentence
    assert f"(95%: {half_up(20 * low)} to {half_up(20 * high)})" in sentence
    assert "could still be chance" in sentence


@pytest.mark.parametrize(
    ("closed", "warm", "goal", "focus", "expected"),
    [
        (9, 9, 0.6, "Learn the reason", None),
        (10, 6, 0.6, "Learn", "Team today: warm rate 50% (goal 60%) · focus: Learn"),
        (12, 9, None, None, "Team today: warm rate 64%"),  # 9 of 14 visits
    ],
)
def test_log_line_only_after_ten_closed_visits(closed, warm, goal, focus, expected):
    # Two open visits as well: they count towards the warm rate's visits.
    today = Counts(visits=closed + 2, warm=warm, closed=closed, purchased=closed // 2)
    assert coaching.log_line(today, goal, focus) == expected


def test_team_line_counts_the_store_s_local_today(storage, shop):
    """London, 19 Nov 2026 15:00: 10 closed visits today (7 warm), 1 open warm, a
    voided one, and yesterday's visits, which do not count."""
    from datetime import UTC, date, datetime, timedelta

    from cxlog.coaching import goals
    from cxlog.core.model import to_utc_text
    from tests.helpers.rows import insert, visit

    now = datetime(2026, 11, 19, 15, tzinfo=UTC)
    s, ana = shop["store"], shop["ana"]
    today = [
        visit(s, ana, "warm" if i < 7 else "neutral", "no_purchase", at=now - timedelta(hours=i))
        for i in range(9)
    ]
    assert coaching.team_line(storage, s, now) is None  # nothing logged yet
    insert(storage, today)
    insert(storage, [visit(s, ana, "warm", at=now)])  # open
    insert(storage, [visit(s, ana, "warm", "no_purchase", at=now, voided_at=to_utc_text(now))])
    insert(storage, [visit(s, ana, "neutral", "no_purchase", at=now - timedelta(days=1))] * 1)
    assert coaching.team_line(storage, s, now) is None  # 9 closed today
    insert(storage, [visit(s, ana, "neutral", "purchased", 1, at=now)])
    assert coaching.team_line(storage, s, now) == "Team today: warm rate 73%"  # 8 of 11
    goals.set_goals(storage, s, warm_rate_percent=80, actor="t")
    learn = next(b for b in goals.list_behaviours(storage) if b["name"] == "Learn the reason")
    goals.set_focus(storage, s, date(2026, 11, 19), learn["id"], actor="t")
    assert coaching.team_line(storage, s, now) == (
        "Team today: warm rate 73% (goal 80%) · focus: Learn the reason"
    )
