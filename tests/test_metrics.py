"""Each metric against a hand-computed table of visits (issue #2)."""

from datetime import timedelta

import pytest

from cxlog.core.model import utc_now
from cxlog.numbers import metrics
from cxlog.numbers.metrics import Counts, Filters
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import log_visit_in, new_id

# (name, engagement, reason, recommended, outcome, units, amount_cents, days_ago, voided)
TABLE = [
    ("W1", "warm", "Gift", True, "purchased", 2, 1000, 0, False),
    ("W2", "warm", "Not learned", False, "purchased", 3, None, 0, False),
    ("W3", "warm", None, True, "purchased", 1, 3000, 0, False),
    ("W4", "warm", "Browsing", False, "no_purchase", None, None, 0, False),
    ("W5", "warm", None, False, None, None, None, 0, False),
    ("N1", "neutral", "Gift", True, "purchased", 4, 500, 0, False),
    ("N2", "neutral", None, False, "no_purchase", None, None, 0, False),
    ("M1", "missed", "Not learned", False, "no_purchase", None, None, 3, False),
    ("M2", "missed", "Gift", True, "purchased", 9, 9999, 0, True),
]


@pytest.fixture
def table(storage, shop):
    now = utc_now()
    for name, engagement, reason, rec, outcome, units, amount, days_ago, voided in TABLE:
        close = {"units": units, "amount": amount} if outcome == "purchased" else {}
        if outcome == "no_purchase":
            close["no_sale"] = "Price"
        if reason:
            close["reason"] = reason
        log_visit_in(
            storage,
            shop,
            now - timedelta(days=days_ago, minutes=5),
            engagement,
            vid=f"visit-{name}",
            recommended=rec,
            voided=voided,
            **close,
        )
    return now


def test_totals_by_hand(storage, shop, table):
    t = metrics.totals(storage, Filters())
    assert t == Counts(
        visits=8, warm=5, closed=7, purchased=4, units=10, amount_cents=4500, with_amount=3
    )
    assert t.open == 1
    assert t.conversion.value == pytest.approx(4 / 7)
    assert t.conversion.n == 7
    assert t.units_per_sale == 2.5
    assert t.average_sale == 15.0
    assert t.warm_rate.value == pytest.approx(5 / 8) and t.warm_rate.n == 8
    assert t.too_few is True


def test_by_first_engagement_by_hand(storage, shop, table):
    groups = metrics.breakdown(storage, Filters(), "first_engagement")
    assert set(groups) == {"warm", "neutral", "missed"}
    warm, neutral, missed = groups["warm"], groups["neutral"], groups["missed"]
    assert (warm.conversion.value, warm.units_per_sale, warm.average_sale) == (0.75, 2.0, 20.0)
    assert (neutral.conversion.value, neutral.units_per_sale, neutral.average_sale) == (
        0.5,
        4.0,
        5.0,
    )
    assert (missed.conversion.value, missed.units_per_sale, missed.average_sale) == (
        0.0,
        None,
        None,
    )
    assert (warm.visits, warm.open, neutral.visits, missed.visits) == (5, 1, 2, 1)
    lifts = metrics.lifts(groups)
    assert [(lf.better, lf.worse) for lf in lifts] == [("warm", "neutral"), ("neutral", "missed")]
    assert lifts[0].value == pytest.approx(0.25) and lifts[1].value == pytest.approx(0.5)
    assert all(lf.too_few for lf in lifts)


def test_by_connection_depth_by_hand(storage, shop, table):
    groups = metrics.breakdown(storage, Filters(), "connection_depth")
    got = {k: (c.visits, c.closed, c.purchased, c.units) for k, c in groups.items()}
    assert got == {0: (2, 2, 0, 0), 1: (2, 1, 1, 3), 2: (3, 3, 2, 5), 3: (1, 1, 1, 2)}
    assert groups[2].units_per_sale == 2.5


def test_by_reason_and_no_sale_reason(storage, shop, table):
    by_reason = metrics.breakdown(storage, Filters(), "reason")
    gift = by_reason[shop["reasons"]["Gift"]]
    assert (gift.closed, gift.purchased) == (2, 2)  # W1, N1; voided M2 ignored
    assert by_reason[None].visits == 3  # W3, W5, N2
    no_sale = metrics.breakdown(storage, Filters(), "no_sale_reason")
    assert no_sale[shop["no_sale"]["Price"]].closed == 3


def test_filters_by_time_store_associate_reason(storage, shop, table):
    recent = metrics.totals(storage, Filters(start=table - timedelta(days=1)))
    assert recent.visits == 7 and recent.closed == 6  # M1 is 3 days old
    older = metrics.totals(storage, Filters(end=table - timedelta(days=1)))
    assert (older.visits, older.closed, older.purchased) == (1, 1, 0)
    gift = metrics.totals(storage, Filters(reason_ids=(shop["reasons"]["Gift"],)))
    assert (gift.visits, gift.purchased) == (2, 2)
    assert metrics.totals(storage, Filters(associate_ids=(shop["ben"],))) == Counts()


def test_empty_group_has_no_numbers_and_no_errors(storage, shop, table):
    other = catalog.create_store(storage, "Empty", "Europe/Paris")
    empty = metrics.totals(storage, Filters(store_ids=(other,)))
    assert empty == Counts()
    assert (empty.conversion.value, empty.conversion.interval) == (None, None)
    assert (empty.units_per_sale, empty.average_sale, empty.warm_rate.value) == (None, None, None)
    assert metrics.breakdown(storage, Filters(store_ids=(other,)), "first_engagement") == {}
    assert [lf.value for lf in metrics.lifts({})] == [None, None]


def test_min_sample_rule(storage, shop):
    actor = f"associate:{shop['ana']}"
    for i in range(20):
        vid = new_id()
        visits.create_visit(storage, vid, shop["store"], shop["ana"], "warm")
        if i < 19:
            visits.record_purchase(storage, vid, 1, actor=actor)
    assert metrics.totals(storage, Filters()).too_few is True  # 19 closed, 1 open
    visits.record_no_purchase(storage, vid, actor=actor)
    assert metrics.totals(storage, Filters()).too_few is False  # 20 closed


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (1, 10, 0.0179, 0.4042),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_known_values(successes, n, low, high):
    got = metrics.wilson(successes, n)
    assert got == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_wilson_edge_cases():
    assert metrics.wilson(0, 0) is None
    with pytest.raises(ValueError):
        metrics.wilson(11, 10)
