"""The morning huddle card (issue #14): every number worked out by hand for a
small London store, the quiet-day sentence, the focus check, the CLI's Markdown,
and the page through AppTest agreeing with the CLI.

Huddle on Thu 19 Nov 2026: yesterday is Wed 18 Nov, the week to date Mon 16 –
Wed 18 Nov (London is on UTC in November)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from cxlog.cli import main
from cxlog.coaching import coaching, goals
from cxlog.core.model import to_utc_text
from cxlog.core.text import plain
from cxlog.coverage import traffic
from cxlog.stores import catalog
from tests.conftest import as_role
from tests.helpers.pages import open_page
from tests.helpers.rows import insert, visit

TODAY = date(2026, 11, 19)
WED, MON, FRI_BEFORE = (datetime(2026, 11, d, 12, tzinfo=UTC) for d in (18, 16, 13))


@pytest.fixture
def week(storage, shop):
    """By hand. Wed 18 Nov: 20 warm closed (13 bought 2 units, 10 of them for
    10.00; 7 did not: 4 Price, 3 Out of stock), 20 neutral closed (5 bought 1
    unit for 5.00; 15 did not: 6 Price, 9 Just looking); the name used on 30 of
    the 40; one voided visit. Mon 16 Nov: 10 warm (6 bought 1 unit, no amount),
    5 neutral (1 bought 1). Fri 13 Nov (before the week): 10 warm no-purchase,
    the name used on 2. Another store logs on Wednesday too (never counted)."""
    s, ana, ben = shop["store"], shop["ana"], shop["ben"]
    price, stock, looking = (shop["no_sale"][k] for k in ("Price", "Out of stock", "Just looking"))
    other = catalog.create_store(storage, "Other Shop", "Europe/London")
    olga = catalog.add_associate(storage, other, "Olga", actor="test")
    rows = []
    for i in range(20):
        bought = i < 13
        rows.append(
            visit(
                s,
                ana,
                "warm",
                "purchased" if bought else "no_purchase",
                2 if bought else None,
                1000 if i < 10 else None,
                no_sale_reason_id=None if bought else (price if i < 17 else stock),
                used_name=int(i < 15),
                at=WED,
            )
        )
    for i in range(20):
        bought = i < 5
        rows.append(
            visit(
                s,
                ben,
                "neutral",
                "purchased" if bought else "no_purchase",
                1 if bought else None,
                500 if bought else None,
                no_sale_reason_id=None if bought else (price if i < 11 else looking),
                used_name=int(i < 15),
                at=WED,
            )
        )
    rows.append(visit(s, ana, "warm", "purchased", 9, 9900, voided_at=to_utc_text(WED), at=WED))
    rows += [
        visit(s, ana, "warm", *(("purchased", 1) if i < 6 else ("no_purchase",)), at=MON)
        for i in range(10)
    ]
    rows += [
        visit(s, ben, "neutral", *(("purchased", 1) if i < 1 else ("no_purchase",)), at=MON)
        for i in range(5)
    ]
    rows += [
        visit(s, ana, "warm", "no_purchase", used_name=int(i < 2), at=FRI_BEFORE) for i in range(10)
    ]
    rows += [visit(other, olga, "neutral", "purchased", 3, 100, at=WED) for _ in range(30)]
    insert(storage, rows)
    goals.set_goals(storage, s, warm_rate_percent=60, conversion_percent=40, actor="test")
    goals.set_currency(storage, s, "GBP", actor="test")
    by_name = {b["name"]: b["id"] for b in goals.list_behaviours(storage)}
    goals.set_focus(storage, s, date(2026, 11, 18), by_name["Use the customer's name"], actor="t")
    goals.set_focus(storage, s, TODAY, by_name["Learn the reason"], actor="t")
    return shop


def test_every_number_on_the_card_is_worked_out_by_hand(storage, week):
    card = coaching.huddle_card(storage, week["store"], TODAY)
    y, w = card.yesterday_counts, card.week_counts
    assert (y.visits, y.closed, y.purchased, y.units, y.with_amount) == (40, 40, 18, 31, 15)
    assert (w.visits, w.closed, w.purchased, w.units) == (55, 55, 25, 38)
    assert not card.quiet
    lines = [line for section in card.sections for line in section.lines]
    text = "\n".join(lines)
    # 18/40 = 45%; 31/18 = 1.72 UPS; (10 × 10.00 + 5 × 5.00) / 15 = £8.33.
    assert (
        "Yesterday (Wed 18 Nov): 40 visits · conversion 45% of 40 closed · 1.72 units per "
        "sale · average sale £8.33" in lines
    )
    # 25/55 = 45%; 38/25 = 1.52; 12,500 / 15 cents = £8.33.
    assert (
        "Week to date (Mon 16 Nov–Wed 18 Nov): 55 visits · conversion 45% of 55 closed · "
        "1.52 units per sale · average sale £8.33" in lines
    )
    assert "Warm rate yesterday: 50% of 40 visits, 10 points below the 60% goal" in lines
    assert "Warm rate this week: 55% of 55 visits, 5 points below the 60% goal" in lines
    assert "Warm (week): 63% of 30 closed" in lines  # 19/30
    assert "Neutral (week): 24% of 25 closed" in lines  # 6/25
    assert "Missed (week): too few visits (0 closed)" in lines
    # 25 × 19/30 − 6 = 9.83 purchases; × 32/19 UPS = 16.6 units; × £10.00 = £98.33.
    cost = card.costs["neutral"]
    assert cost.purchases == pytest.approx(25 * 19 / 30 - 6)
    assert "The 25 neutral visits are associated with about 10 fewer purchases" in text
    assert "about 17 units; £98.33 at the warm average sale of £10.00 (10 of 19 warm" in text
    # 30 no-purchase visits: Price 10, Just looking 9, Out of stock 3, 8 untapped.
    assert "Top no-sale reason this week: Price, 33% of 30 no-purchase visits." in lines
    # Warm rate under its goal; conversion 45% is above the 40% goal: the team first.
    assert card.bright_spot == (
        "The team converted 45% of 55 closed visits this week, at or above the 40% goal."
    )
    # Name used: 30 of 40 yesterday; 2 of 25 over 11–17 Nov (Fri 13 and Mon 16).
    name = plain("Use the customer's name")
    assert card.focus_check == (
        f"Yesterday's focus: {name}. 75% of 40 visits had the "
        "customer's name used, against 8% over the 7 days before: up 67 points."
    )
    assert "Today's focus: Learn the reason" in lines


def test_a_quiet_yesterday_says_so_and_does_not_judge_the_focus(storage, week):
    """Huddle on Tue 17 Nov: yesterday (Mon) had 15 closed visits."""
    goals.set_focus(
        storage,
        week["store"],
        date(2026, 11, 16),
        goals.list_behaviours(storage)[0]["id"],
        actor="t",
    )
    card = coaching.huddle_card(storage, week["store"], date(2026, 11, 17))
    assert card.quiet
    lines = card.sections[0].lines
    assert lines[0] == (
        "Too few visits yesterday (15 closed) to read yesterday's rates; the week to date "
        "says more."
    )
    assert "Yesterday (Mon 16 Nov): 15 visits, 15 closed — too few visits for rates" in lines[1]
    assert card.focus_check == (
        "Yesterday's focus: Greet within 30 seconds. Too few visits yesterday (15) to tell "
        "whether it moved."
    )
    assert "Today's focus: not picked yet" in card.sections[-1].lines[-1]
    assert (
        "Too few visits to put a number on what neutral first engagements cost"
        in (card.sections[2].lines[0])
    )


def test_a_store_with_no_visits_gets_an_honest_card(storage, shop):
    card = coaching.huddle_card(storage, shop["store"], TODAY)
    text = coaching.markdown(card)
    assert "Yesterday (Wed 18 Nov): 0 visits, 0 closed — too few visits for rates" in text
    assert "No focus was picked for yesterday." in text
    assert "No no-sale reason was tapped this week." in text
    assert "Not enough visits this week for a bright spot yet" in text
    assert "Corner Shop" in text and "£" not in text


def numbers(text: str) -> list[str]:
    return re.findall(r"\d[\d,.]*%?", text)


def test_cli_prints_the_card_as_markdown(storage, week, capsys):
    path = storage.address
    assert main(["huddle", "--db", path, "--store", "Corner Shop", "--date", "2026-11-19"]) == 0
    out = capsys.readouterr().out
    assert out == coaching.markdown(coaching.huddle_card(storage, week["store"], TODAY))
    assert out.startswith("## Huddle · Corner Shop · Thu 19 Nov 2026\n")
    assert "### What neutral moments cost (this week)" in out
    assert (
        main(["huddle", "--db", path, "--store", str(week["store"]), "--date", "2026-11-19"]) == 0
    )
    assert capsys.readouterr().out == out  # by id as by name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store", "Nowhere"], "Nowhere"),
        (["--store", "Corner Shop", "--date", "19/11/2026"], "written like 2026-11-01"),
    ],
)
def test_cli_bad_input_is_one_sentence(storage, week, capsys, args, message):
    assert main(["huddle", "--db", storage.address, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cxlog: ") and message in err and "Traceback" not in err


def test_cli_refuses_a_missing_database(tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert main(["huddle", "--db", str(missing), "--store", "1"]) == 2
    assert "There is no database" in capsys.readouterr().err
    assert not missing.exists()


def test_huddle_page_shows_the_cli_card(app_env, week, capsys):
    at = as_role(open_page("pages/huddle.py"), "owner")  # the week's store is new
    at.run()
    assert not at.exception
    at.selectbox(key="huddle-store").set_value(week["store"])
    at.date_input(key="huddle-day").set_value(TODAY).run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    main(["huddle", "--db", app_env.address, "--store", "1", "--date", TODAY.isoformat()])
    printed = capsys.readouterr().out
    assert coaching.markdown(coaching.huddle_card(app_env, week["store"], TODAY)).rstrip() in shown
    assert numbers(printed) == numbers(
        shown[shown.index("## Huddle") :]
    )  # the same numbers, in the same order
    assert "about 10 fewer purchases" in shown and "£98.33" in shown


def test_huddle_page_needs_a_manager(app_env):
    at = open_page("pages/huddle.py").run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert all("Huddle ·" not in m.value for m in at.markdown)


def test_a_low_coverage_warning_sits_beside_the_cost(storage, week):
    """Issue #13's check plugs into coaching; the card shows its sentence."""
    asked = []

    def check(storage_, store_ids, first, last):
        asked.append((store_ids, first, last))
        return "Only 41% of door-counter visitors were logged this week."

    card = coaching.huddle_card(storage, week["store"], TODAY, coverage_check=check)
    assert asked == [((week["store"],), date(2026, 11, 16), date(2026, 11, 18))]
    assert card.sections[2].lines[-1] == "Only 41% of door-counter visitors were logged this week."
    assert coaching.huddle_card(storage, week["store"], TODAY).warning is None


def test_door_counts_that_dwarf_the_log_warn_on_the_card_by_default(storage, week):
    """The real check (cxlog/coverage/coverage.py) is plugged in: 60 visitors an hour
    counted 10:00–18:00 on Monday to Wednesday (1,440) against the week's few
    dozen logged visits is far under the 70% threshold."""
    lines = ["store,start,end,in,out"]
    for d in (16, 17, 18):
        for hour in range(10, 18):
            lines.append(f"Corner Shop,2026-11-{d} {hour:02}:00,2026-11-{d} {hour + 1:02}:00,60,60")
    traffic.import_file(storage, "traffic", week["store"], "\n".join(lines).encode(), actor="test")
    card = coaching.huddle_card(storage, week["store"], TODAY)
    with storage.read() as db:
        (logged,) = db.execute(
            "SELECT count(*) FROM visits WHERE store_id = ? AND voided_at IS NULL"
            " AND started_at >= '2026-11-16' AND started_at < '2026-11-19'",
            [week["store"]],
        ).fetchone()
    share = round(100 * logged / 1440)
    assert card.warning.startswith(
        f"Careful: these moment comparisons rest on partial logging. Corner Shop logged "
        f"{share}% of 1,440 visitors (threshold 70%)."
    )
    assert card.sections[2].lines[-1] == card.warning
