"""Rules the pages used to work out themselves (#26 moved them into the
domain): which address keys change with the dashboard's selection, the
selection's currency, the follow-up tiles."""

from __future__ import annotations

from datetime import date

from cxlog.coaching import goals
from cxlog.core.errors import ValidationError
from cxlog.core.text import plain
from cxlog.coverage import traffic
from cxlog.coverage.traffic import ImportRefused
from cxlog.dashboard import filters
from cxlog.dashboard.dashboard import DashboardFilters
from cxlog.followups.followups import Numbers, tiles
from cxlog.stores import catalog
from cxlog.visits import visits


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


def test_a_visit_line_shows_its_start_on_the_store_s_clock():
    visit = {
        "started_at": "2026-07-01T13:05:00.000Z",
        "first_engagement": "warm",
        "reason_name": None,
        "outcome": "purchased",
        "units": 2,
        "associate_name": "Ana",
        "voided_at": "2026-07-01T14:00:00.000Z",
    }
    assert visits.visit_line(visit, "Europe/London") == (
        "14:05 · Warm · no reason · Purchased 2 · Ana · VOIDED"
    )


def test_a_correction_keeps_only_the_outcome_s_own_fields():
    assert visits.outcome_fields("purchased", "3", "12.50", 7) == {
        "outcome": "purchased",
        "units": 3,
        "amount_cents": 1250,
        "no_sale_reason_id": None,
    }
    assert visits.outcome_fields("no_purchase", 3, "12.50", 7) == {
        "outcome": "no_purchase",
        "units": None,
        "amount_cents": None,
        "no_sale_reason_id": 7,
    }
    assert visits.outcome_fields(None, 3, None, 7)["no_sale_reason_id"] is None


def test_a_retired_entry_stays_pickable_only_for_the_visit_that_has_it():
    rows = [{"id": 1, "active": 1}, {"id": 2, "active": 0}, {"id": 3, "active": 1}]
    assert catalog.pickable(rows, None) == [1, 3]
    assert catalog.pickable(rows, 2) == [1, 2, 3]


def test_a_refused_import_is_told_line_by_line_and_as_typed():
    refused = ImportRefused(["Line 2: *bold* is not a number."] * 3, total=30)
    text = traffic.refusal_text("May_counts.csv", refused)
    assert text.startswith(f"**{plain('May_counts.csv')} was not imported** (nothing was saved)")
    assert "30 line(s) need fixing" in text and text.endswith("- … and 27 more.")
    assert text.count(f"- {plain('Line 2: *bold* is not a number.')}") == 3
    assert "*bold*" not in text  # typed text is never Markdown
    other = traffic.refusal_text("x.csv", ValidationError("Empty."))
    assert other == plain("x.csv was not imported: Empty.")
