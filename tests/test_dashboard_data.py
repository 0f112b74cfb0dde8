"""The data behind every dashboard view, against hand-worked answers and the
metrics module (#5).

The fixed visits: two stores, the shop (Europe/London, Ana and Ben) and Harbour
(America/New_York, Cy). "Now" is Wednesday 18 November 2026, 10:30 UTC; the
default period, the last 30 days, is 20 Oct – 18 Nov in each store's local time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cxlog.calendar import periods
from cxlog.dashboard import dashboard
from cxlog.dashboard.dashboard import DashboardFilters
from cxlog.numbers import facts, metrics
from cxlog.numbers.metrics import Counts, Filters
from cxlog.stores import catalog
from cxlog.visits import visits
from tests.conftest import log_visit_in, new_id

NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)

# (name, store, associate, engagement, reason, recommended, outcome, units,
#  amount_cents, no-sale reason, started (UTC), voided)
TABLE = [
    ("A1", "shop", "ana", "warm", "Gift", True, "purchased", 2, 1000, None, (11, 16, 14, 20), 0),
    ("A2", "shop", "ana", "warm", "Not learned", 0, "purchased", 3, None, None, (11, 16, 14, 40), 0),  # noqa: E501
    ("A3", "shop", "ben", "warm", None, True, "purchased", 1, 3000, None, (11, 17, 9, 5), 0),
    ("A4", "shop", "ben", "warm", "Browsing", 0, "no_purchase", None, None, "Price", (11, 17, 9, 10), 0),  # noqa: E501
    ("A5", "shop", "ana", "warm", None, 0, None, None, None, None, (11, 18, 9, 0), 0),
    ("N1", "shop", "ben", "neutral", "Gift", True, "purchased", 4, 500, None, (11, 15, 16, 0), 0),
    ("N2", "shop", "ana", "neutral", None, 0, "no_purchase", None, None, None, (11, 15, 16, 30), 0),
    ("M1", "shop", "ben", "missed", "Not learned", 0, "no_purchase", None, None, "Just looking", (11, 14, 11, 0), 0),  # noqa: E501
    ("V1", "shop", "ana", "missed", "Gift", True, "purchased", 9, 9999, None, (11, 14, 11, 30), 1),
    # Harbour, New York (UTC-5): Sunday 15 November 23:30 local.
    ("H1", "harbour", "cy", "warm", "Gift", True, "purchased", 5, None, None, (11, 16, 4, 30), 0),
    # The previous period (20 Sep – 19 Oct 10:30 local).
    ("P1", "shop", "ana", "warm", "Gift", 0, "purchased", 2, 2000, None, (10, 10, 12, 0), 0),
    ("P2", "shop", "ben", "neutral", "Browsing", 0, "no_purchase", None, None, None, (10, 12, 12, 0), 0),  # noqa: E501
    # Before the previous period and the trend: never counted.
    ("O1", "shop", "ana", "neutral", "Gift", 0, "purchased", 1, 100, None, (9, 1, 12, 0), 0),
]  # fmt: skip


def seed(storage, shop: dict) -> dict:
    """Write TABLE; returns ids by name (stores, associates, reasons)."""
    harbour = catalog.create_store(storage, "Harbour", "America/New_York")
    ids = {
        "shop": shop["store"],
        "harbour": harbour,
        "ana": shop["ana"],
        "ben": shop["ben"],
        "cy": catalog.add_associate(storage, harbour, "Cy", actor="test"),
        **shop["reasons"],
        **shop["no_sale"],
    }
    for (
        name,
        store,
        who,
        engagement,
        reason,
        rec,
        outcome,
        units,
        amount,
        no_sale,
        when,
        voided,
    ) in TABLE:
        month, day, hour, minute = when
        close = {"units": units, "amount": amount} if outcome == "purchased" else {}
        if outcome == "no_purchase":
            close["no_sale"] = no_sale
        if reason:
            close["reason"] = reason
        # ids maps every name (stores, people, reasons) to its id.
        log_visit_in(
            storage,
            {"store": ids[store], "ana": ids[who], "reasons": ids, "no_sale": ids},
            datetime(2026, month, day, hour, minute, tzinfo=UTC),
            engagement,
            vid=f"visit-{name}",
            recommended=rec,
            voided=voided,
            **close,
        )
    return ids


@pytest.fixture
def ids(storage, shop):
    return seed(storage, shop)


def metrics_sum(storage, built: dashboard.Dashboard, by: str | None = None, **ids):
    """metrics' own SQL over each store's own period, added up."""
    total: dict = {}
    for store_id, span in built.spans.items():
        f = Filters(start=span.start, end=span.end, store_ids=(store_id,), **ids)
        groups = (
            {None: metrics.totals(storage, f)} if by is None else metrics.breakdown(storage, f, by)
        )
        for key, c in groups.items():
            old = total.get(key, Counts())
            total[key] = Counts(
                **{k: getattr(old, k) + getattr(c, k) for k in Counts.__dataclass_fields__}
            )
    return total


def test_totals_by_hand_and_as_metrics_counts_them(storage, ids):
    built = dashboard.build(storage, DashboardFilters(), NOW)
    # A1–A5, N1, N2, M1 and H1: V1 is voided, P1/P2 are the previous period.
    assert built.totals == Counts(
        visits=9, warm=6, closed=8, purchased=5, units=15, amount_cents=4500, with_amount=3
    )
    assert built.totals == metrics_sum(storage, built)[None]
    assert built.previous == Counts(
        visits=2, warm=1, closed=2, purchased=1, units=2, amount_cents=2000, with_amount=1
    )
    assert built.totals.conversion.value == 5 / 8
    assert built.totals.units_per_sale == 3.0
    assert built.totals.average_sale == 15.0
    assert built.totals.open == 1


def test_first_engagement_and_depth_by_hand(storage, ids):
    built = dashboard.build(storage, DashboardFilters(), NOW)
    by = {g.key: g.counts for g in built.by_engagement}
    assert (by["warm"].visits, by["warm"].closed, by["warm"].purchased, by["warm"].units) == (
        6,
        5,
        4,
        11,
    )
    assert (by["neutral"].closed, by["neutral"].purchased) == (2, 1)
    assert (by["missed"].closed, by["missed"].purchased) == (1, 0)
    assert by == metrics_sum(storage, built, "first_engagement")
    prev = {g.key: g.previous for g in built.by_engagement}
    assert (prev["warm"].purchased, prev["neutral"].closed, prev["missed"].visits) == (1, 1, 0)

    depth = {g.key: g.counts.visits for g in built.by_depth}
    # 0: N2, M1 · 1: A2, A5 · 2: A3, A4, N1 · 3: A1, H1
    assert depth == {0: 2, 1: 2, 2: 3, 3: 2}
    assert {g.key: g.counts for g in built.by_depth} == metrics_sum(
        storage, built, "connection_depth"
    )


def test_reasons_no_sale_and_team(storage, ids):
    built = dashboard.build(storage, DashboardFilters(), NOW)
    by_label = {g.label: g.counts.visits for g in built.by_reason}
    assert by_label == {"Gift": 3, "Not learned": 2, "Browsing": 1, "No reason tapped": 3}
    as_metrics = metrics_sum(storage, built, "reason")
    assert {g.key: g.counts for g in built.by_reason} == {
        (k or 0): c for k, c in as_metrics.items()
    }
    # A4 Price, M1 Just looking, N2 none given — the untapped last.
    assert [(label, r.successes, r.n) for label, r in built.no_sale] == [
        ("Price", 1, 3),
        ("Just looking", 1, 3),
        ("None given", 1, 3),
    ]
    team = {r.name: (r.counts.visits, r.counts.closed, r.rank) for r in built.team}
    assert team == {"Ana": (4, 3, None), "Ben": (4, 4, None), "Cy": (1, 1, None)}
    assert {r.associate_id: r.counts for r in built.team} == metrics_sum(
        storage, built, "associate"
    )


def test_hours_and_weeks_are_each_stores_local_time(storage, ids):
    built = dashboard.build(storage, DashboardFilters(), NOW)
    heat = {
        (r.weekday, r.hour): r.counts.visits for r in built.heat.itertuples() if r.counts.visits
    }
    # A1 and A2 Monday 14:xx London; H1 Sunday 23:30 in New York (04:30 UTC Monday).
    assert heat[(0, 14)] == 2
    assert heat[(6, 23)] == 1
    assert (0, 4) not in heat
    assert sum(heat.values()) == 9
    weeks = {
        (r.week, r.engagement): r.counts.visits for r in built.trend.itertuples() if r.counts.visits
    }
    assert weeks == {
        (date(2026, 11, 16), "warm"): 5,  # A1–A5
        (date(2026, 11, 9), "warm"): 1,  # H1, Sunday in New York
        (date(2026, 11, 9), "neutral"): 2,  # N1, N2
        (date(2026, 11, 9), "missed"): 1,  # M1
        (date(2026, 10, 5), "warm"): 1,  # P1
        (date(2026, 10, 12), "neutral"): 1,  # P2
    }


def test_filters_by_store_associate_and_reason(storage, ids):
    shop_only = dashboard.build(storage, DashboardFilters(store_id=ids["shop"]), NOW)
    assert list(shop_only.spans) == [ids["shop"]]
    assert shop_only.totals.visits == 8
    assert {r.name for r in shop_only.team} == {"Ana", "Ben"}
    span = shop_only.spans[ids["shop"]]
    f = Filters(span.start, span.end, (ids["shop"],), (ids["ben"],), (ids["Gift"],))
    narrow = dashboard.build(
        storage,
        DashboardFilters(store_id=ids["shop"], associate_id=ids["ben"], reason_id=ids["Gift"]),
        NOW,
    )
    assert (
        narrow.totals
        == metrics.totals(storage, f)
        == Counts(visits=1, warm=0, closed=1, purchased=1, units=4, amount_cents=500, with_amount=1)
    )
    assert [r.name for r in narrow.team] == ["Ben"]


def test_custom_range_and_today(storage, ids):
    custom = dashboard.build(
        storage, DashboardFilters(periods.CUSTOM, date(2026, 11, 16), date(2026, 11, 17)), NOW
    )
    # A1–A4 (London), H1 is Sunday in New York: outside.
    assert custom.totals.visits == 4
    today = dashboard.build(storage, DashboardFilters(periods.TODAY), NOW)
    assert today.totals.visits == 1  # A5, still open
    assert today.totals.open == 1 and today.totals.closed == 0


def test_a_store_with_no_visits_gives_zeros_not_errors(storage, shop):
    built = dashboard.build(storage, DashboardFilters(), NOW)
    assert built.totals == Counts() and built.previous == Counts()
    assert [g.counts for g in built.by_engagement] == [Counts()] * 3
    assert built.by_reason == [] and built.no_sale == []
    assert built.trend.empty
    assert [(r.name, r.rank) for r in built.team] == [("Ana", None), ("Ben", None)]


def test_team_ranks_only_associates_with_enough_closed_visits(storage, shop):
    start = NOW - timedelta(days=2)

    def log(associate, bought, count):
        for i in range(count):
            vid = new_id()
            visits.create_visit(
                storage, vid, shop["store"], associate, "warm", at=start + timedelta(minutes=i)
            )
            actor = f"associate:{associate}"
            if i < bought:
                visits.record_purchase(storage, vid, 1, actor=actor)
            else:
                visits.record_no_purchase(storage, vid, actor=actor)

    log(shop["ana"], 15, 22)  # 68% of 22
    log(shop["ben"], 5, 19)  # 19 closed: too few, however good or bad
    built = dashboard.build(storage, DashboardFilters(), NOW)
    assert [(r.name, r.rank) for r in built.team] == [("Ana", 1), ("Ben", None)]
    assert dashboard.ranked(built.by_engagement)[0].key == "warm"


def test_facts_read_every_column_exactly(storage, ids):
    read = facts.load(
        storage, {ids["shop"]: (datetime(2026, 1, 1, tzinfo=UTC), NOW + timedelta(days=1))}
    )
    by_start = dict(zip(read.started.tolist(), range(len(read)), strict=True))
    a1 = by_start[int(datetime(2026, 11, 16, 14, 20, tzinfo=UTC).timestamp())]
    assert (
        read.store[a1],
        read.associate[a1],
        read.reason[a1],
        read.engagement[a1],
        bool(read.recommended[a1]),
        read.outcome[a1],
        read.units[a1],
        read.amount_cents[a1],
    ) == (ids["shop"], ids["ana"], ids["Gift"], facts.WARM_CODE, True, 1, 2, 1000)
    a4 = by_start[int(datetime(2026, 11, 17, 9, 10, tzinfo=UTC).timestamp())]
    assert (read.no_sale[a4], read.outcome[a4], read.amount_cents[a4]) == (
        ids["Price"],
        facts.NO_PURCHASE_CODE,
        -1,
    )
    assert len(read) == 11  # the shop's 12 rows less voided V1
    assert len(facts.load(storage, {ids["shop"]: (NOW, NOW)})) == 0


def test_data_version_moves_with_every_write(storage, ids):
    before = dashboard.data_version(storage)
    assert dashboard.data_version(storage) == before
    visits.set_marker(storage, "visit-A2", "used_name", True, actor="manager")
    assert dashboard.data_version(storage) != before
