"""Rules the pages used to work out themselves (#26 moved them into the
domain): which address keys change with the dashboard's selection, the
selection's currency, the follow-up tiles."""

from __future__ import annotations

from datetime import date

from cxlog.coaching import goals
from cxlog.dashboard import filters
from cxlog.dashboard.dashboard import DashboardFilters
from cxlog.followups.followups import Numbers, tiles
from cxlog.stores import catalog


def test_the_address_changes_only_where_the_selection_does():
    custom = DashboardFilters("custom", date(2026, 11, 2), date(2026, 11, 8), store_id=2)
    wanted = filters.to_query(custom)
    assert filters.query_changes({}, custom) == wanted
    assert filters.query_changes(wanted, custom) == {}  # nothing to rewrite
    back = filters.query_changes({**wanted, "associate": "4"}, DashboardFilters("7d"))
    assert back == {
        "period": "7d",
        "from": None,
        "to": None,
        "store": None,
        "associate": None,
    }


def test_a_selection_shows_money_in_the_currency_its_stores_share(storage, shop):
    other = catalog.create_store(storage, "Harbour", "America/New_York")
    store = shop["store"]
    goals.set_currency(storage, store, "EUR", actor="test")
    assert goals.selection_currency(storage, store, [store, other]) == "EUR"
    assert goals.selection_currency(storage, None, [store, other]) is None  # one unset
    goals.set_currency(storage, other, "EUR", actor="test")
    assert goals.selection_currency(storage, None, [store, other]) == "EUR"
    goals.set_currency(storage, other, "USD", actor="test")
    assert goals.selection_currency(storage, None, [store, other]) is None  # they differ
    assert goals.selection_currency(storage, other, [store, other]) == "USD"


def test_the_follow_up_tiles_say_promised_on_time_and_overdue():
    numbers = Numbers(promised=12, due=8, done_on_time=6, overdue=2)
    assert tiles(numbers) == [
        ("Promised", "12", "in this period"),
        ("Done on time", "75%", "6 of 8 due, acted on by the promised day"),
        ("Overdue", "2", "open and past due, now"),
    ]
