"""Goals, currency, behaviours and the daily focus (issue #14): the data layer,
money formatting, and the Settings → Coaching tab through AppTest."""

from __future__ import annotations

import json
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from cxlog.coaching import goals
from cxlog.core import money
from cxlog.core.errors import NotFoundError, ValidationError
from cxlog.storage import migrations
from tests.conftest import as_role
from tests.helpers.pages import open_page


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (84.26, "GBP", "£84.26"),
        (1234.5, "EUR", "€1,234.50"),
        (1234.5, "USD", "$1,234.50"),
        (1234.4, "JPY", "¥1,234"),  # no minor unit
        (1234.5, None, "1,234.50"),  # no currency set: a plain number
        (None, "GBP", "—"),
    ],
)
def test_money_in_the_store_currency(value, currency, expected):
    assert money.money(value, currency) == expected


def test_money_for_markdown_escapes_the_dollar_and_rounds_to_minor_units():
    assert money.money_md(5, "USD") == "\\$5.00"
    assert money.rounded(10.456, "GBP") == 10.46 and money.rounded(10.6, "JPY") == 11
    assert money.shared(["GBP", "GBP"]) == "GBP"
    assert money.shared(["GBP", "EUR"]) is None and money.shared(["GBP", None]) is None


@pytest.mark.parametrize("bad", ["", "XYZ", "pounds", None, 12])
def test_an_unknown_currency_is_refused_with_a_sentence(storage, shop, bad):
    with pytest.raises(ValidationError, match="currency"):
        goals.set_currency(storage, shop["store"], bad, actor="test")
    assert goals.store_goals(storage, shop["store"]).currency is None


def test_goals_round_trip_and_are_audited(storage, shop):
    s = shop["store"]
    assert goals.store_goals(storage, s) == goals.StoreGoals(s)
    goals.set_currency(storage, s, " eur ", actor="manager")
    saved = goals.set_goals(
        storage, s, warm_rate_percent=62.5, conversion_percent="40", units_per_sale=2.4, actor="m"
    )
    assert saved == goals.StoreGoals(s, "EUR", 0.625, 0.4, 2.4)
    # An empty goal clears that goal only; the currency stays.
    cleared = goals.set_goals(storage, s, warm_rate_percent=None, conversion_percent=40, actor="m")
    assert cleared == goals.StoreGoals(s, "EUR", None, 0.4, None)
    assert goals.currencies(storage) == {s: "EUR"}
    with storage.read() as db:
        rows = list(db.query("SELECT actor, after FROM audit WHERE entity = 'store_coaching'"))
    assert [r["actor"] for r in rows] == ["manager", "m", "m"]
    assert json.loads(rows[-1]["after"])["warm_rate_goal"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("warm_rate_percent", 101, "from 0 to 100%"),
        ("conversion_percent", -1, "from 0 to 100%"),
        ("conversion_percent", "lots", "a number"),
        ("units_per_sale", 0.5, "from 1 to 99"),
    ],
)
def test_bad_goals_change_nothing(storage, shop, field, value, message):
    goals.set_goals(storage, shop["store"], warm_rate_percent=50, actor="m")
    with pytest.raises(ValidationError, match=message):
        goals.set_goals(storage, shop["store"], **{field: value}, actor="m")
    assert goals.store_goals(storage, shop["store"]).warm_rate == 0.5


def test_behaviours_are_an_editable_list(storage, shop):
    names = [b["name"] for b in goals.list_behaviours(storage)]
    assert names == [name for name, _ in migrations.I14_BEHAVIOURS]
    new = goals.add_behaviour(storage, "Offer a basket", None, actor="m")
    with pytest.raises(ValidationError, match="already has"):
        goals.add_behaviour(storage, "offer a BASKET", None, actor="m")
    with pytest.raises(ValidationError, match="Unknown measure"):
        goals.add_behaviour(storage, "Smile", "smiles", actor="m")
    goals.rename_behaviour(storage, new, "Offer a basket at the door", actor="m")
    goals.set_behaviour_active(storage, new, False, actor="m")
    assert "Offer a basket at the door" not in [b["name"] for b in goals.list_behaviours(storage)]
    retired = next(b for b in goals.list_behaviours(storage, active_only=False) if b["id"] == new)
    assert retired["active"] == 0 and retired["measure"] is None
    with pytest.raises(ValidationError, match="retired"):
        goals.set_focus(storage, shop["store"], date(2026, 11, 19), new, actor="m")


def test_the_focus_is_one_per_store_and_day(storage, shop):
    s, day = shop["store"], date(2026, 11, 19)
    first, second = (b["id"] for b in goals.list_behaviours(storage)[:2])
    assert goals.focus_on(storage, s, day) is None
    goals.set_focus(storage, s, day, first, actor="m")
    goals.set_focus(storage, s, day, second, actor="m")  # changed her mind
    assert goals.focus_on(storage, s, day)["id"] == second
    assert goals.focus_on(storage, s, date(2026, 11, 20)) is None
    with pytest.raises(NotFoundError):
        goals.set_focus(storage, 99, day, first, actor="m")
    with pytest.raises(NotFoundError):
        goals.set_focus(storage, s, day, 999, actor="m")


def settings_page(app_env) -> AppTest:
    at = as_role(open_page("pages/settings.py"), "manager")
    return at.run()


def test_settings_coaching_tab_saves_goals_currency_focus_and_behaviours(app_env, shop):
    at = settings_page(app_env)
    assert not at.exception
    assert [t.label for t in at.tabs][-1] == "Coaching"
    at.number_input(key="goal-warm").set_value(65.0)
    at.number_input(key="goal-conversion").set_value(42.0)
    at.number_input(key="goal-ups").set_value(2.5)
    at.button(key="goals-save").click().run()
    assert not at.exception
    assert goals.store_goals(app_env, shop["store"]) == goals.StoreGoals(
        shop["store"], None, 0.65, 0.42, 2.5
    )
    at.selectbox(key="store-currency").set_value("EUR")
    at.button(key="currency-save").click().run()
    assert goals.store_goals(app_env, shop["store"]).currency == "EUR"

    learn = next(b for b in goals.list_behaviours(app_env) if b["name"] == "Learn the reason")
    at.selectbox(key="focus-behaviour").set_value(learn["id"])
    at.date_input(key="focus-day").set_value(date(2026, 11, 19))
    at.button(key="focus-save").click().run()
    assert goals.focus_on(app_env, shop["store"], date(2026, 11, 19))["id"] == learn["id"]

    at.text_input(key="behaviour-name").input("Offer water")
    at.selectbox(key="behaviour-measure").set_value("recommended")
    at.button(key="behaviour-add").click().run()
    added = next(b for b in goals.list_behaviours(app_env) if b["name"] == "Offer water")
    assert added["measure"] == "recommended"
    assert "Offer water" in at.dataframe[-1].value["Behaviour"].tolist()

    # A bad goal is a sentence in the form, nothing saved, no stack trace.
    at.selectbox(key="behaviour-pick").set_value(added["id"])
    at.text_input(key="behaviour-rename").input("Learn the reason")
    at.button(key="behaviour-rename-save").click().run()
    assert not at.exception
    assert any("already has" in e.value for e in at.error)
    assert "Offer water" in [b["name"] for b in goals.list_behaviours(app_env)]


def test_the_visits_page_names_the_store_currency_on_the_amount(app_env, shop):
    from cxlog.visits import visits
    from tests.conftest import new_id

    vid = new_id()
    visits.create_visit(app_env, vid, shop["store"], shop["ana"], "warm")
    visits.record_purchase(app_env, vid, 1, amount_cents=1250, actor="test")
    at = as_role(open_page(), "manager").run()
    at.switch_page("pages/visits.py")
    assert at.run().number_input(key=f"fix-amount-{vid}").label == "Sale amount (optional)"
    goals.set_currency(app_env, shop["store"], "CHF", actor="test")
    assert at.run().number_input(key=f"fix-amount-{vid}").label == "Sale amount in CHF (optional)"
