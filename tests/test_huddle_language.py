"""The huddle card in the store's language (issue #29): `python -m cxlog huddle
--lang fr` prints the very card the Huddle page shows in French, the CLI
follows the store's (or the chain's) language by default, and the card's
date line is Babel's French, so the card really went through
``words.using("fr")`` even before any catalog has a translation.

Huddle on Thu 19 Nov 2026 for a small London store (yesterday Wed 18 Nov)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from babel.dates import format_skeleton
from babel.numbers import format_percent

from cxlog.cli import main
from cxlog.coaching import coaching, goals
from cxlog.language import words
from cxlog.storage import settings
from cxlog.web import language_ui
from tests.conftest import as_role
from tests.helpers.pages import open_page
from tests.helpers.rows import insert, visit

TODAY = date(2026, 11, 19)
WED, MON = (datetime(2026, 11, d, 12, tzinfo=UTC) for d in (18, 16))


@pytest.fixture
def week(app_env, shop):
    """25 warm visits (15 bought 2 units for 10.00) and 25 neutral ones (5
    bought 1 unit for 5.00) on Wednesday, 10 warm no-purchase on Monday; goals,
    a currency and today's focus set."""
    s, ana, ben = shop["store"], shop["ana"], shop["ben"]
    price = shop["no_sale"]["Price"]
    rows = [
        visit(s, ana, "warm", "purchased", 2, 1000, at=WED)
        if i < 15
        else visit(s, ana, "warm", "no_purchase", no_sale_reason_id=price, at=WED)
        for i in range(25)
    ]
    rows += [
        visit(s, ben, "neutral", "purchased", 1, 500, at=WED)
        if i < 5
        else visit(s, ben, "neutral", "no_purchase", no_sale_reason_id=price, at=WED)
        for i in range(25)
    ]
    rows += [visit(s, ana, "warm", "no_purchase", at=MON) for _i in range(10)]
    insert(app_env, rows)
    goals.set_goals(app_env, s, warm_rate_percent=60, conversion_percent=40, actor="test")
    goals.set_currency(app_env, s, "GBP", actor="test")
    by_name = {b["name"]: b["id"] for b in goals.list_behaviours(app_env)}
    goals.set_focus(app_env, s, TODAY, by_name["Learn the reason"], actor="test")
    return shop


def _cli(storage, capsys, *extra: str) -> str:
    assert (
        main(["huddle", "--db", storage.address, "--store", "1", "--date", "2026-11-19", *extra])
        == 0
    )
    return capsys.readouterr().out


def test_the_cli_card_in_french_went_through_french(app_env, week, capsys):
    printed = _cli(app_env, capsys, "--lang", "fr")
    # Babel's French day, not the English "Thu 19 Nov 2026" (no catalog needed).
    french_day = format_skeleton("yMMMEd", TODAY, locale="fr")
    assert french_day == "jeu. 19 nov. 2026"
    assert printed.splitlines()[0] == f"## Brief · Corner Shop · {french_day}"
    assert "Thu 19 Nov" not in printed and "Wed 18 Nov" not in printed
    assert f"({format_skeleton('MMMEd', date(2026, 11, 18), locale='fr')})" in printed
    # French numbers: 20/50 = 40 % with CLDR's space before the sign.
    assert f"conversion {format_percent(0.4, locale='fr')}" in printed
    assert "40%" not in printed
    # The same function as the page's, in the same language.
    with words.using("fr"):
        card = coaching.markdown(coaching.huddle_card(app_env, week["store"], TODAY))
    assert printed == card
    with words.using("en"):
        english = coaching.markdown(coaching.huddle_card(app_env, week["store"], TODAY))
    assert printed != english and _cli(app_env, capsys) == english  # no language set: English
    assert _cli(app_env, capsys, "--lang", "en") == english


def test_the_cli_follows_the_store_s_language_unless_told(app_env, week, capsys):
    settings.set_language(app_env, "fr", actor="test")  # the chain's language
    french = _cli(app_env, capsys, "--lang", "fr")
    assert _cli(app_env, capsys) == french
    settings.set_store_language(app_env, week["store"], "de", actor="test")  # the store's own
    german = _cli(app_env, capsys)
    assert german == _cli(app_env, capsys, "--lang", "de") != french
    assert format_skeleton("yMMMEd", TODAY, locale="de") in german.splitlines()[0]
    assert _cli(app_env, capsys, "--lang", "fr") == french  # --lang wins


def test_an_unknown_language_is_refused(app_env, week, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["huddle", "--db", app_env.address, "--store", "1", "--lang", "xx"])
    assert refused.value.code == 2
    assert "--lang" in capsys.readouterr().err


def test_the_page_in_french_shows_the_cli_s_french_card(app_env, week, capsys):
    settings.set_language(app_env, "fr", actor="test")
    # Through the router, which settles the chain's French for the run.
    at = as_role(open_page(), "owner").run()
    at.switch_page("pages/huddle.py").run()
    assert not at.exception  # one store: no store to pick
    assert at.session_state[language_ui.LANGUAGE] == "fr"
    at.date_input(key="huddle-day").set_value(TODAY).run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    printed = _cli(app_env, capsys, "--lang", "fr")
    assert printed.startswith("## Brief · Corner Shop · jeu. 19 nov. 2026")
    assert printed.rstrip() in shown
    # The card is one block of the page, equal to what the CLI prints.
    assert printed.rstrip() in [m.value.rstrip() for m in at.markdown]
