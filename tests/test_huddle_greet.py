"""Time to greet on the morning huddle card and the Log page's team line
(issue #30): yesterday's on-time rate against the store's standard and goal,
who left before greeting, the honest sentences for no arrivals and for too
few, and nothing at all while the store has time to greet off.

Arrivals, greetings and "left before greeting" are sent as the pad sends
them (``taps.apply_batch``), so the card reads the greet sums those taps kept.
Huddle on Thu 19 Nov 2026 for a London store (UTC in November): yesterday is
Wed 18 Nov."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from babel.numbers import format_percent

from cxlog.access import shifts
from cxlog.cli import main
from cxlog.coaching import coaching, goals
from cxlog.core.model import MIN_SAMPLE
from cxlog.greeting import rules
from cxlog.numbers.greet_sums import GreetCounts
from cxlog.numbers.metrics import Counts
from cxlog.storage.settings import GreetRules
from cxlog.visits import taps
from tests.conftest import as_role, new_id
from tests.helpers.pages import open_page
from tests.helpers.peek import peek

TODAY = date(2026, 11, 19)
YESTERDAY_EVENING = datetime(2026, 11, 18, 17, tzinfo=UTC)
TODAY_AFTERNOON = datetime(2026, 11, 19, 15, tzinfo=UTC)
# Yesterday by hand: 41 greeted within 30 s (one at exactly 30 s: on time),
# 3 greeted later (31 s, 2 min, 5 min), 6 left: 41 of 50 = 82%.
ON_TIME = [5 + (i % 26) for i in range(40)] + [30]
LATE = [31, 120, 300]
LINE = "Yesterday 82% of customers greeted within 30 s (goal 90%); 6 left before greeting."


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _tap(kind: str, visit: str, by: int, at_ms: int, **fields) -> dict:
    return {"id": new_id(), "visit": visit, "kind": kind, "at": at_ms, "by": by, **fields}


def serve(
    storage, shop, received: datetime, waits: list[int], *, left: int = 0, undone: int = 0
) -> None:
    """Customers 2 minutes apart from ``received`` − 2 h, each sent as the pad
    sends it once done with (one batch per customer: a burst of 50 starts
    would meet the starts' rate limit): each greeted after its wait in
    ``waits`` (warm, then neutral, by turns) and closed without a purchase a
    minute later; then ``left`` who left before greeting and ``undone``
    arrivals taken back by undo (no visit)."""
    by = shop["ana"]
    began = received - timedelta(hours=2)
    cookie = shifts.start(storage, by, shifts.new_device_id(), now=began)
    first, last = _ms(began) + 60_000, 0
    customers = [*waits, *[None] * left, *["undo"] * undone]
    for i, wait in enumerate(customers):
        arrived, arrival = first + i * 120_000, new_id()
        sent = [_tap("arrival", arrival, by, arrived)]
        if wait is None:
            sent.append(_tap("left", new_id(), by, arrived + 45_000, arrival=arrival))
        elif wait == "undo":
            sent.append(_tap("arrival_undo", arrival, by, arrived + 2_000))
        else:
            vid, engagement = new_id(), "warm" if i % 2 == 0 else "neutral"
            greeted = arrived + wait * 1000
            sent.append(_tap("start", vid, by, greeted, engagement=engagement, arrival=arrival))
            sent.append(_tap("no_purchase", vid, by, greeted + 60_000))
        last = max(last, sent[-1]["at"]) + 1_000  # the server's clock only moves on
        now = datetime.fromtimestamp(last / 1000, UTC)
        assert now <= received
        shift = shifts.check(storage, cookie, now=now)
        answer = taps.apply_batch(storage, shift, {"sent_at": last, "taps": sent}, received=now)
        assert all(a["ok"] for a in answer["taps"]), [a for a in answer["taps"] if not a["ok"]]


def turn_on(storage, shop, **kw) -> None:
    rules.save(storage, shop["store"], GreetRules(on=True, **kw), actor="test")


def lines(card: coaching.HuddleCard) -> list[str]:
    return [line for section in card.sections for line in section.lines]


def greet_lines(card: coaching.HuddleCard) -> list[str]:
    return [line for line in lines(card) if line.startswith("Yesterday ") and "greet" in line]


def test_the_huddle_says_yesterday_s_on_time_rate_goal_and_who_left(storage, shop):
    turn_on(storage, shop, goal=0.9)
    serve(storage, shop, YESTERDAY_EVENING, ON_TIME + LATE, left=6, undone=1)
    serve(storage, shop, TODAY_AFTERNOON, [45] * 5, left=2)  # today's: not yesterday's
    # The taps stored what the line is about to say (an independent recount).
    waits = [
        tuple(r)
        for r in peek(storage).execute(
            "SELECT greet_seconds, left_before_greeting FROM visits"
            " WHERE arrived_at IS NOT NULL AND voided_at IS NULL AND started_at < '2026-11-19'"
        )
    ]
    assert len(waits) == 50
    assert sum(1 for w, gone in waits if not gone and w <= 30) == 41
    assert sum(gone for _w, gone in waits) == 6
    card = coaching.huddle_card(storage, shop["store"], TODAY)
    assert card.greet.counts.arrivals == 50 and card.greet.counts.on_time == 41
    numbers = card.sections[0].lines
    assert LINE in numbers
    # In "The numbers", after the warm rates (no other goals are set here).
    assert numbers.index(LINE) == len(numbers) - 1
    assert numbers[numbers.index(LINE) - 1].startswith("Warm rate this week")
    assert f"- {LINE}\n" in coaching.markdown(card)


def test_the_standard_is_written_as_a_wait_and_the_goal_only_when_set(storage, shop):
    """A 2 minute standard: 41 + 31 s + 2 min = 43 of 50 on time (86%); no goal."""
    turn_on(storage, shop, standard=120, bands=(300,))
    serve(storage, shop, YESTERDAY_EVENING, ON_TIME + LATE, left=6)
    card = coaching.huddle_card(storage, shop["store"], TODAY)
    assert greet_lines(card) == [
        "Yesterday 86% of customers greeted within 2 min; 6 left before greeting."
    ]
    # The new standard counts again without new taps (the sums are recomputed):
    # within 90 s, 41 + 31 s = 42 of 50.
    turn_on(storage, shop, standard=90, bands=(300,), goal=0.95)
    card = coaching.huddle_card(storage, shop["store"], TODAY)
    assert greet_lines(card) == [
        "Yesterday 84% of customers greeted within 1 min 30 s (goal 95%); 6 left before greeting."
    ]


def test_one_customer_who_left_is_counted_in_the_singular(storage, shop):
    """20 greeted on time, 1 left: 20 of 21 = 95%."""
    turn_on(storage, shop, goal=0.9)
    serve(storage, shop, YESTERDAY_EVENING, [10] * 20, left=1)
    card = coaching.huddle_card(storage, shop["store"], TODAY)
    assert greet_lines(card) == [
        "Yesterday 95% of customers greeted within 30 s (goal 90%); 1 left before greeting."
    ]


def test_too_few_arrivals_keep_their_numbers_and_say_so(storage, shop):
    """3 greeted on time and 1 left: 75% of 4, under the minimum sample."""
    assert MIN_SAMPLE == 20  # the sentence names it
    turn_on(storage, shop, goal=0.9)
    serve(storage, shop, YESTERDAY_EVENING, [10, 20, 30], left=1)
    card = coaching.huddle_card(storage, shop["store"], TODAY)
    assert greet_lines(card) == [
        "Yesterday 75% of customers greeted within 30 s (goal 90%); 1 left before greeting"
        " — too few to judge (4 arrivals, 20 needed)."
    ]


def test_no_arrival_yesterday_is_one_short_sentence(storage, shop):
    turn_on(storage, shop, goal=0.9)
    serve(storage, shop, TODAY_AFTERNOON, [10] * 3)  # today only
    card = coaching.huddle_card(storage, shop["store"], TODAY)
    assert card.greet.counts == GreetCounts()
    assert "Yesterday no arrivals were tapped." in card.sections[0].lines
    assert not [line for line in lines(card) if "greeted within" in line]


def test_with_time_to_greet_off_the_card_is_as_before(storage, shop):
    before = coaching.markdown(coaching.huddle_card(storage, shop["store"], TODAY))
    turn_on(storage, shop, goal=0.9)
    on = coaching.huddle_card(storage, shop["store"], TODAY)
    assert "Yesterday no arrivals were tapped." in lines(on)
    rules.save(storage, shop["store"], GreetRules(on=False, goal=0.9), actor="test")
    off = coaching.huddle_card(storage, shop["store"], TODAY)
    assert off.greet is None
    assert coaching.markdown(off) == before
    # Arrivals kept from when it was on: still no line once it is off, and
    # the rest of the card is the same as with the line.
    turn_on(storage, shop, goal=0.9)
    serve(storage, shop, YESTERDAY_EVENING, ON_TIME + LATE, left=6)
    on = coaching.huddle_card(storage, shop["store"], TODAY)
    rules.save(storage, shop["store"], GreetRules(on=False), actor="test")
    off = coaching.huddle_card(storage, shop["store"], TODAY)
    assert LINE in lines(on) and not greet_lines(off)
    assert lines(off) == [line for line in lines(on) if line != LINE]


def test_the_cli_prints_the_line_and_in_french_writes_french_numbers(storage, shop, capsys):
    turn_on(storage, shop, goal=0.9)
    serve(storage, shop, YESTERDAY_EVENING, ON_TIME + LATE, left=6)
    args = ["huddle", "--db", storage.address, "--store", "Corner Shop", "--date", "2026-11-19"]
    assert main(args) == 0
    english = capsys.readouterr().out
    assert f"- {LINE}\n" in english
    assert main([*args, "--lang", "fr"]) == 0
    french = capsys.readouterr().out
    # CLDR's French percentages: a space before the sign.
    rate, goal = format_percent(0.82, locale="fr"), format_percent(0.9, locale="fr")
    assert rate.startswith("82") and rate != "82%"
    [line] = [x for x in french.splitlines() if rate in x]
    assert goal in line and "6" in line
    assert "82%" not in french and "90%" not in french


def test_the_huddle_page_shows_the_line(app_env, shop):
    turn_on(app_env, shop, goal=0.9)
    serve(app_env, shop, YESTERDAY_EVENING, ON_TIME + LATE, left=6)
    at = as_role(open_page("pages/huddle.py"), "owner").run()
    assert not at.exception
    at.date_input(key="huddle-day").set_value(TODAY).run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert f"- {LINE}" in shown


# --- the Log page's team line ---------------------------------------------------


def test_the_team_line_adds_today_s_on_time_rate_when_on(storage, shop):
    """Today (London, 19 Nov, by 15:00): 12 arrivals, 8 greeted within 30 s,
    2 later, 2 left: 8 of 12 = 67% on time. Of the 12 closed visits, the 5
    greeted at even turns were warm: warm rate 5 of 12 = 42%."""
    s = shop["store"]
    serve_today = [10, 20, 30, 5, 31, 15, 25, 90, 12, 8]
    assert coaching.team_line(storage, s, TODAY_AFTERNOON) is None  # nothing logged
    turn_on(storage, shop, goal=0.9)
    serve(storage, shop, TODAY_AFTERNOON, serve_today, left=2)
    assert coaching.team_line(storage, s, TODAY_AFTERNOON) == (
        "Team today: warm rate 42% · greeted within 30 s: 67% (goal 90%)"
    )
    turn_on(storage, shop)  # no goal
    assert coaching.team_line(storage, s, TODAY_AFTERNOON) == (
        "Team today: warm rate 42% · greeted within 30 s: 67%"
    )
    # With the warm-rate goal and today's focus: the greeting sits before the focus.
    goals.set_goals(storage, s, warm_rate_percent=60, actor="test")
    learn = next(b for b in goals.list_behaviours(storage) if b["name"] == "Learn the reason")
    goals.set_focus(storage, s, TODAY, learn["id"], actor="test")
    turn_on(storage, shop, standard=90, goal=0.8)
    assert coaching.team_line(storage, s, TODAY_AFTERNOON, markdown=False) == (
        "Team today: warm rate 42% (goal 60%) · greeted within 1 min 30 s: 83% (goal 80%)"
        " · focus: Learn the reason"
    )  # 10 of 12 within 90 s
    # Off: exactly the line from before time to greet.
    rules.save(storage, s, GreetRules(on=False, goal=0.9), actor="test")
    assert coaching.team_line(storage, s, TODAY_AFTERNOON, markdown=False) == (
        "Team today: warm rate 42% (goal 60%) · focus: Learn the reason"
    )


def test_the_team_line_waits_for_ten_arrivals_like_it_waits_for_ten_visits():
    today = Counts(visits=12, warm=6, closed=12)
    rules_on = GreetRules(on=True, goal=0.9)
    nine = coaching.GreetDay(rules_on, GreetCounts(arrivals=9, on_time=9, closed=9))
    ten = coaching.GreetDay(rules_on, GreetCounts(arrivals=10, on_time=7, left_before=1))
    assert coaching.LOG_LINE_MIN_ARRIVALS == 10
    assert coaching.log_line(today, None, None, greet=nine) == "Team today: warm rate 50%"
    assert coaching.log_line(today, None, None, greet=ten) == (
        "Team today: warm rate 50% · greeted within 30 s: 70% (goal 90%)"
    )
    # Under ten closed visits there is no line at all, arrivals or not.
    few = Counts(visits=9, warm=9, closed=9)
    assert coaching.log_line(few, None, None, greet=ten) is None


def test_the_team_line_s_greeting_is_one_read_and_agrees_with_the_sums(storage, shop, monkeypatch):
    """The board builds the line on every visit change: on or off, time to
    greet is one read (the rules and the store-day's rollups together), and
    its totals are those of the greet sums' own reader."""
    from cxlog.numbers import greet_sums

    s = shop["store"]
    turn_on(storage, shop)
    serve(storage, shop, TODAY_AFTERNOON, [10, 40] * 6, left=3)
    serve(storage, shop, YESTERDAY_EVENING, [10] * 4)  # another day: not today's
    day = coaching.greet_day(storage, s, TODAY)
    with storage.read() as db:
        rows = greet_sums.sums(db, s, TODAY, TODAY)
    waits = sum(rows.values(), GreetCounts())
    assert (waits.arrivals, waits.on_time, waits.left_before) == (
        day.counts.arrivals,
        day.counts.on_time,
        day.counts.left_before,
    )
    assert (day.counts.arrivals, day.counts.on_time, day.counts.left_before) == (15, 6, 3)

    reads = []
    real = type(storage).read

    def counted(self, *a, **kw):
        reads.append(1)
        return real(self, *a, **kw)

    monkeypatch.setattr(type(storage), "read", counted)
    assert "greeted within 30 s: 40%" in coaching.team_line(storage, s, TODAY_AFTERNOON)
    on = len(reads)
    rules.save(storage, s, GreetRules(on=False), actor="test")
    reads.clear()
    assert coaching.team_line(storage, s, TODAY_AFTERNOON) == "Team today: warm rate 40%"
    assert on == len(reads)  # the rules' read, which finds it off, is the same read
