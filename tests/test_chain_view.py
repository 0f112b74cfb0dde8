"""The chain's view (issue #28): the account's stores side by side. Its
numbers against an independent recount of the visits table (plain Python,
tests/helpers/oracles.py) and of the counter hours (coverage.build), its
order and ranks, its scope, and the Stores page through AppTest."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from cxlog.access import accounts
from cxlog.calendar import periods
from cxlog.coaching import chain
from cxlog.core.model import MIN_SAMPLE
from cxlog.core.roles import MANAGER
from cxlog.coverage import coverage, traffic
from cxlog.dashboard.dashboard import DashboardFilters
from cxlog.numbers.metrics import Counts, Rate
from cxlog.storage.engine import Database, PostgresDatabase
from cxlog.stores import catalog
from cxlog.web import chain_ui, navigation
from tests.conftest import as_role
from tests.helpers import coverage_day
from tests.helpers.oracles import newcombe_by_hand, recount, wilson_by_hand
from tests.helpers.pages import open_page
from tests.helpers.rows import insert, visit

NOW = datetime(2026, 11, 20, 20, 30, tzinfo=UTC)  # Tokyo is on the 21st, the others the 20th
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 19)
CUSTOM = DashboardFilters(period=periods.CUSTOM, first=FIRST, last=LAST)
LA_DAY = datetime(2026, 11, 15, 18, tzinfo=UTC)
day = coverage_day.day  # the hand-counted day of the coverage tests: a fixture


def random_visits(store: int, who: int, n: int, seed: int, warm_bias: float) -> list[dict]:
    """n visits between 25 October and 21 November (UTC), of every kind:
    open, purchased with and without an amount, no purchase, voided."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 25, tzinfo=UTC)
    rows = []
    for _ in range(n):
        at = start + timedelta(seconds=rng.randrange(27 * 86_400))
        engagement = rng.choices(("warm", "neutral", "missed"), (warm_bias, 1, 0.4))[0]
        buys = {"warm": 0.6, "neutral": 0.35, "missed": 0.2}[engagement]
        kind = rng.random()
        if kind < 0.08:
            row = visit(store, who, engagement)  # open
        elif kind < 0.08 + buys:
            amount = None if rng.random() < 0.2 else rng.randrange(100, 20_000)
            row = visit(store, who, engagement, "purchased", rng.randrange(1, 6), amount)
        else:
            row = visit(store, who, engagement, "no_purchase")
        if rng.random() < 0.05:
            row["voided_at"], row["void_reason"] = "2026-11-21T00:00:00.000Z", "test"
        rows.append({**row, "at": at})
    return rows


@pytest.fixture
def chain_of_four(app_env, shop) -> dict:
    """The Corner Shop (London) and three more: New York, Tokyo, and a small
    Los Angeles store with too few closed visits to rank."""
    storage = app_env
    ids = {"london": shop["store"]}
    people = {"london": shop["ana"]}
    for key, name, zone in (
        ("ny", "Uptown & Co", "America/New_York"),
        ("tokyo", "Ginza", "Asia/Tokyo"),
        ("la", "Tiny LA", "America/Los_Angeles"),
    ):
        ids[key] = catalog.create_store(storage, name, zone)
        people[key] = catalog.add_associate(storage, ids[key], f"Person {key}", actor="test")
    rows = random_visits(ids["london"], people["london"], 400, 1, 1.0)
    rows += random_visits(ids["ny"], people["ny"], 500, 2, 2.0)
    rows += random_visits(ids["tokyo"], people["tokyo"], 450, 3, 0.7)
    # Los Angeles: 12 closed visits on 15 November, never more.
    for _ in range(6):
        rows.append({**visit(ids["la"], people["la"], "warm", "purchased", 2, 1000), "at": LA_DAY})
        rows.append({**visit(ids["la"], people["la"], "neutral", "no_purchase"), "at": LA_DAY})
    insert(storage, rows)
    return {"storage": storage, "ids": ids}


def oracle(storage, store_id: int, first: date, last: date) -> dict[str, Counts]:
    counted = recount(storage, store_id, first, last, ("first_engagement",))
    return {
        name: counted.get((i,), Counts()) for i, name in enumerate(("warm", "neutral", "missed"))
    }


def check_against_the_visits(storage, view: chain.ChainView) -> None:
    for row in view.rows:
        by = oracle(storage, row.store_id, row.span.first_day, row.span.last_day)
        assert row.by_engagement == by, row.name
        total = by["warm"] + by["neutral"] + by["missed"]
        assert row.counts == total, row.name
        if total.closed:
            assert row.counts.conversion.interval == pytest.approx(
                wilson_by_hand(total.purchased, total.closed)
            )
        warm, neutral = by["warm"], by["neutral"]
        if warm.closed >= MIN_SAMPLE and neutral.closed >= MIN_SAMPLE:
            gap = warm.purchased / warm.closed - neutral.purchased / neutral.closed
            low, high = newcombe_by_hand(
                warm.purchased, warm.closed, neutral.purchased, neutral.closed
            )
            assert not row.neutral.too_few
            assert row.neutral.purchases == pytest.approx(neutral.closed * gap)
            assert row.neutral.purchases_interval == pytest.approx(
                (neutral.closed * low, neutral.closed * high)
            )
        else:
            assert row.neutral.too_few and row.neutral.purchases is None


def test_each_stores_numbers_equal_a_recount_of_its_visits(chain_of_four):
    storage, ids = chain_of_four["storage"], chain_of_four["ids"]
    view = chain.build(storage, CUSTOM, NOW)
    assert {r.store_id for r in view.rows} == set(ids.values())
    check_against_the_visits(storage, view)
    assert view.totals.visits == sum(r.counts.visits for r in view.rows) > 800
    # Every store's own local days: the same custom range.
    assert {(r.span.first_day, r.span.last_day) for r in view.rows} == {(FIRST, LAST)}


def test_each_store_is_counted_over_its_own_local_days(chain_of_four):
    """Last 7 days at 20:30 UTC: Tokyo's today is already the 21st; each store
    is read over its own days (two groups of stores, two reads)."""
    storage, ids = chain_of_four["storage"], chain_of_four["ids"]
    view = chain.build(storage, DashboardFilters(period=periods.LAST_7), NOW)
    days = {r.store_id: (r.span.first_day, r.span.last_day) for r in view.rows}
    assert days[ids["tokyo"]] == (date(2026, 11, 15), date(2026, 11, 21))
    assert days[ids["ny"]] == days[ids["london"]] == (date(2026, 11, 14), date(2026, 11, 20))
    check_against_the_visits(storage, view)


def test_ranked_by_conversion_and_the_too_few_listed_last_without_a_rank(chain_of_four):
    storage, ids = chain_of_four["storage"], chain_of_four["ids"]
    for selection in (CUSTOM, DashboardFilters(period=periods.LAST_7)):
        view = chain.build(storage, selection, NOW)
        last = view.rows[-1]
        assert last.store_id == ids["la"]
        assert (last.counts.closed, last.rank, last.too_few) == (12, None, True)
        ranked = view.rows[:-1]
        assert [r.rank for r in ranked] == [1, 2, 3] and view.ranked == ranked
        rates = [r.counts.conversion.value for r in ranked]
        assert rates == sorted(rates, reverse=True)
        assert all(r.counts.closed >= MIN_SAMPLE for r in ranked)


def test_only_the_scope_s_stores_and_never_a_crafted_one(chain_of_four):
    storage, ids = chain_of_four["storage"], chain_of_four["ids"]
    scope = (ids["london"], ids["tokyo"])
    mine = chain.build(
        storage, DashboardFilters(period=periods.CUSTOM, first=FIRST, last=LAST, scope=scope), NOW
    )
    assert {r.store_id for r in mine.rows} == set(scope)
    crafted = DashboardFilters(
        period=periods.CUSTOM, first=FIRST, last=LAST, store_id=ids["ny"], scope=scope
    )
    assert chain.build(storage, crafted, NOW).rows == []
    every = chain.build(storage, CUSTOM, NOW)
    assert mine.totals.visits < every.totals.visits


def test_coverage_per_store_equals_a_count_from_the_counter_hours(day, storage, shop):
    """The coverage day of tests/helpers/coverage_day.py in London beside a
    second store without a counter."""
    other = catalog.create_store(storage, "No Counter", "Europe/Paris")
    selection = DashboardFilters(
        period=periods.CUSTOM, first=date(2026, 11, 1), last=date(2026, 11, 5)
    )
    view = chain.build(storage, selection, datetime(2026, 11, 6, tzinfo=UTC))
    rows = {r.store_id: r for r in view.rows}
    counted = coverage.build(
        storage, coverage.day_ranges(storage, [shop["store"]], date(2026, 11, 1), date(2026, 11, 5))
    ).by_store[shop["store"]]
    mine = rows[shop["store"]]
    assert mine.coverage == counted
    assert (mine.coverage.logged, mine.coverage.visitors) == (counted.logged, counted.visitors)
    assert mine.logged_share == Rate(counted.logged, round(counted.visitors))
    assert mine.logged_share.interval == pytest.approx(
        wilson_by_hand(counted.logged, round(counted.visitors))
    )
    assert rows[other].coverage is None and rows[other].logged_share is None
    # Under the store's threshold (70% by default) it is marked.
    assert mine.low_coverage == (counted.coverage < 0.7)
    traffic.save_counter_settings(
        storage, shop["store"], traffic.CounterSettings(coverage_threshold=0.05), actor="t"
    )
    again = {
        r.store_id: r
        for r in chain.build(storage, selection, datetime(2026, 11, 6, tzinfo=UTC)).rows
    }
    assert not again[shop["store"]].low_coverage


# --- the page ------------------------------------------------------------------


def open_stores(login: str, query: dict | None = None):
    at = as_role(open_page(), login)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/chain.py")
    at.run()
    assert not at.exception, at.exception
    return at


RANGE_QUERY = {"period": "custom", "from": FIRST.isoformat(), "to": LAST.isoformat()}


def shown(at) -> dict[int, dict]:
    """The table's rows by store id (from the link), in the order shown."""
    frame = at.dataframe[0].value
    rows = {}
    for record in frame.to_dict("records"):
        parts = urlsplit(record["Store"])
        store = int(parse_qs(parts.query)["store"][0])
        query = parse_qs(parts.query)
        rows[store] = {**record, "name": query.pop("name")[0], "query": query}
    return rows


def test_the_owner_sees_every_store_side_by_side_with_links(chain_of_four):
    storage, ids = chain_of_four["storage"], chain_of_four["ids"]
    at = open_stores("owner", RANGE_QUERY)
    assert at.title[0].value == "Stores"
    rows = shown(at)
    assert set(rows) == set(ids.values())
    view = chain.build(storage, CUSTOM, datetime.now(UTC))
    for r in view.rows:
        cells = rows[r.store_id]
        assert cells["name"] == r.name
        assert cells["query"] == {
            "period": ["custom"],
            "from": [FIRST.isoformat()],
            "to": [LAST.isoformat()],
            "store": [str(r.store_id)],
        }
        assert cells["Closed visits"] == r.counts.closed
        assert cells["Visits"] == r.counts.visits
        if r.too_few:
            assert pd_missing(cells["#"]) and pd_missing(cells["Conversion"])
            assert cells["Conversion 95%"] == "too few visits"
        else:
            assert cells["#"] == r.rank
            assert cells["Conversion"] == round(100 * r.counts.conversion.value, 1)
            low, high = wilson_by_hand(r.counts.purchased, r.counts.closed)
            assert cells["Conversion 95%"] == f"{100 * low:.0f}\u2060–\u2060{100 * high:.0f}%"
            assert cells["Units per sale"] == round(r.counts.units / r.counts.purchased, 2)
    # The ranked stores first, by rank; the store with too few visits last.
    order = list(rows)
    assert order[-1] == ids["la"]
    assert [rows[s]["#"] for s in order[:-1]] == [1, 2, 3]
    # The names are links showing the name, to the store's own dashboard.
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["Store"]["type_config"]["type"] == "link"
    assert config["Store"]["type_config"]["display_text"] == chain_ui.NAME_IN_LINK
    assert any("3 of 4 stores have enough closed visits to rank" in m.value for m in at.markdown)


def pd_missing(value) -> bool:
    import pandas as pd

    return value is None or pd.isna(value)


def test_a_store_name_in_a_link_survives_any_character(chain_of_four):
    ids = chain_of_four["ids"]
    rows = shown(open_stores("owner", RANGE_QUERY))
    link = rows[ids["ny"]]["Store"]
    assert rows[ids["ny"]]["name"] == "Uptown & Co"
    assert link.startswith("dashboard?name=Uptown+%26+Co&period=")
    # What the table's cell shows: the browser's decodeURIComponent of the
    # display pattern's group, "+" read as a space first (Streamlit's LinkColumn).
    shown_text = re.match(chain_ui.NAME_IN_LINK, link).group(1)
    assert unquote(shown_text.replace("+", "%20")) == "Uptown & Co"
    # Sorting the column sorts the links: by name.
    names = [r["name"] for r in rows.values()]
    links = [r["Store"] for r in rows.values()]
    assert [n for _, n in sorted(zip(links, names, strict=True))] == sorted(names)


def test_the_link_opens_that_stores_dashboard_for_the_same_period(chain_of_four):
    ids = chain_of_four["ids"]
    link = shown(open_stores("owner", RANGE_QUERY))[ids["tokyo"]]["Store"]
    path, query = link.split("?")
    assert path == "dashboard" and (navigation.PAGES[2][0] == "pages/dashboard.py")
    at = as_role(open_page(), "owner")
    for key, values in parse_qs(query).items():
        at.query_params[key] = values[0]
    at.run()
    at.switch_page("pages/dashboard.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="dash_store").value == ids["tokyo"]
    assert at.date_input(key="dash_range").value == (FIRST, LAST)
    assert "name" in parse_qs(query) and "name" not in at.query_params  # shown, then dropped


def test_an_area_manager_sees_their_stores_only(chain_of_four):
    storage, ids = chain_of_four["storage"], chain_of_four["ids"]
    accounts.add(storage, "Ari", MANAGER, "ari-pass-01", [ids["london"], ids["ny"]], actor="test")
    at = open_stores("Ari", {**RANGE_QUERY, "store": str(ids["tokyo"])})  # a crafted store
    rows = shown(at)
    assert set(rows) == {ids["london"], ids["ny"]}
    text = at.dataframe[0].value.to_csv() + " ".join(m.value for m in at.markdown)
    assert "Ginza" not in text and "Tiny" not in text
    assert "2 of 2 stores" in text
    # The owner's page does show them (so the check above can fail).
    assert "Ginza" in {r["name"] for r in shown(open_stores("owner", RANGE_QUERY)).values()}


def test_a_store_manager_gets_a_sentence_not_the_table(chain_of_four):
    storage, ids = chain_of_four["storage"], chain_of_four["ids"]
    accounts.add(storage, "Mia", MANAGER, "mia-pass-01", [ids["tokyo"]], actor="test")
    at = open_stores("Mia")
    assert not at.dataframe
    assert any(
        "your account sees one store, Ginza. Its numbers are on the Dashboard" in i.value
        for i in at.info
    )


def test_the_menu_shows_stores_to_accounts_that_see_two_or_more(chain_of_four, monkeypatch):
    storage, ids = chain_of_four["storage"], chain_of_four["ids"]
    assert "Stores" not in navigation.menu("manager", 1)
    assert "Stores" not in navigation.menu("owner", 1)
    assert navigation.menu("manager", 2)[:4] == ["Log", "Follow-ups", "Dashboard", "Stores"]
    accounts.add(storage, "Mia", MANAGER, "mia-pass-01", [ids["tokyo"]], actor="test")
    accounts.add(storage, "Ari", MANAGER, "ari-pass-01", [ids["london"], ids["ny"]], actor="test")
    asked = []
    real = navigation.menu
    monkeypatch.setattr(navigation, "menu", lambda *a: asked.append(a) or real(*a))
    for login in ("Mia", "Ari", "owner"):
        as_role(open_page(), login).run()
    assert asked == [("manager", 1), ("manager", 2), ("owner", 4)]


def test_the_period_lives_in_the_address(chain_of_four):
    at = open_stores("owner", RANGE_QUERY)
    assert at.segmented_control(key=chain_ui.PERIOD).value == periods.CUSTOM
    assert at.date_input(key=chain_ui.RANGE).value == (FIRST, LAST)
    at.segmented_control(key=chain_ui.PERIOD).set_value(periods.LAST_7).run()
    assert not at.exception
    assert dict(at.query_params) in ({"period": "last_7"}, {"period": ["last_7"]})
    assert at.caption[0].value.startswith("Last 7 days: ")
    fresh = open_stores("owner")  # a page without a period in its address
    assert fresh.segmented_control(key=chain_ui.PERIOD).value == periods.DEFAULT_PERIOD


def test_a_chain_without_visits_in_the_period_says_so(app_env, shop):
    catalog.create_store(app_env, "Second", "Europe/Paris")
    at = open_stores("owner")
    assert not at.dataframe
    assert any("No visits in this period yet" in i.value for i in at.info)


def test_unranked_stores_are_marked_too_few_on_the_page(chain_of_four):
    ids = chain_of_four["ids"]
    rows = shown(open_stores("owner", RANGE_QUERY))
    la = rows[ids["la"]]
    assert list(rows)[-1] == ids["la"]
    assert pd_missing(la["#"]) and pd_missing(la["Conversion"]) and pd_missing(la["Warm rate"])
    assert la["Conversion 95%"] == la["Neutral cost 95%"] == "too few visits"
    assert la["Closed visits"] == 12 and la["Sales"] == 6


def test_the_read_does_not_grow_with_the_number_of_stores(chain_of_four, monkeypatch):
    """One statement on the rollups and one on the coverage sums per run of
    stores with the same local days, however many stores: a chain's year
    meets the year page's target on PostgreSQL (bench/postgres.py)."""
    storage = chain_of_four["storage"]
    seen: list[str] = []
    for cls in (Database, PostgresDatabase):
        real = cls.execute

        def counted(self, sql, params=(), _real=real):
            seen.append(sql)
            return _real(self, sql, params)

        monkeypatch.setattr(cls, "execute", counted)

    def reads(selection: DashboardFilters) -> int:
        seen.clear()
        chain.build(storage, selection, NOW)
        return sum(("FROM rollups" in s) + ("FROM coverage_days" in s) for s in seen)

    week = DashboardFilters(period=periods.LAST_7)
    assert (reads(CUSTOM), reads(week)) == (2, 4)  # the week: Tokyo's days and the others'
    for i in range(12):
        zone = ("Europe/London", "Asia/Tokyo", "America/Chicago")[i % 3]
        store = catalog.create_store(storage, f"More {i}", zone)
        who = catalog.add_associate(storage, store, f"Extra {i}", actor="test")
        insert(storage, random_visits(store, who, 30, 10 + i, 1.0))
    assert (reads(CUSTOM), reads(week)) == (2, 4)
    assert len(chain.build(storage, CUSTOM, NOW).rows) == 16
