"""Time to greet's figures (#30, cxlog/greeting/figures.py) against sets
small enough to count by hand: median and 90th percentile (nearest rank),
the on-time rate with customers who left in its denominator, wait bands by
each store's own standard and edges, two stores with different standards,
a filtered selection read from single visits equal to the sums where they
must agree, a new standard; and the rules' refusals (cxlog/greeting/rules.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cxlog.calendar import periods
from cxlog.coaching import chain
from cxlog.core.errors import ValidationError
from cxlog.core.model import to_utc_text
from cxlog.dashboard.dashboard import DashboardFilters
from cxlog.greeting import figures, rules
from cxlog.numbers.greet_sums import GreetCounts
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog
from tests.helpers.rows import insert, visit

NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)  # a Tuesday, 12:00 in London
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 19)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
CUSTOM = DashboardFilters(period=periods.CUSTOM, first=FIRST, last=LAST)


def greeted(store, who, wait, outcome="no_purchase", units=None, at=NOV, **extra) -> dict:
    """A visit greeted ``wait`` seconds after its arrival tap."""
    row = visit(store, who, "warm" if wait <= 30 else "neutral", outcome, units, at=at, **extra)
    return {
        **row,
        "arrived_at": to_utc_text(at - timedelta(seconds=wait)),
        "greet_seconds": wait,
        "left_before_greeting": 0,
    }


def left(store, who, at=NOV) -> dict:
    """A customer who left before greeting: a missed visit with no purchase."""
    return {
        **visit(store, who, "missed", "no_purchase", at=at),
        "arrived_at": to_utc_text(at - timedelta(seconds=90)),
        "greet_seconds": None,
        "left_before_greeting": 1,
    }


def spans(storage, ids) -> dict[int, periods.Span]:
    zones = {s["id"]: s["timezone"] for s in catalog.list_stores(storage)}
    return {i: periods.resolve(periods.CUSTOM, zones[i], NOW, FIRST, LAST) for i in ids}


def three(c: GreetCounts) -> GreetCounts:
    """What the figures keep per hour and per associate (the rollups' three
    time-to-greet sums): arrivals, on time, left."""
    return GreetCounts(arrivals=c.arrivals, on_time=c.on_time, left_before=c.left_before)


def turn_on(storage, store, **kw) -> None:
    rules.save(storage, store, GreetRules(on=True, **kw), actor="test")


# Ten greeted waits and two who left, counted by hand below.
WAITS = [5, 10, 20, 30, 31, 45, 60, 121, 200, 600]


@pytest.fixture
def hand_set(storage, shop):
    """Corner Shop, standard 30 s, edges (120,): ten greeted, two left, eight
    visits without an arrival tap. Ana greets the first six, Ben the rest.
    Purchases: 5 s, 10 s, 20 s, 30 s (2 units each) and 60 s (1 unit)."""
    s, ana, ben = shop["store"], shop["ana"], shop["ben"]
    turn_on(storage, s)
    bought = {5: 2, 10: 2, 20: 2, 30: 2, 60: 1}
    rows = [
        greeted(
            s,
            ana if i < 6 else ben,
            w,
            "purchased" if w in bought else "no_purchase",
            bought.get(w),
        )
        for i, w in enumerate(WAITS)
    ]
    rows += [left(s, ben), left(s, ana)]
    rows += [visit(s, ana, "warm", "purchased", 1) for _ in range(8)]
    # Outside the period, and voided: neither counts.
    rows += [greeted(s, ana, 3, at=datetime(2026, 10, 20, 12, tzinfo=UTC))]
    rows += [greeted(s, ana, 3, voided_at=to_utc_text(NOV), void_reason="x")]
    insert(storage, rows)
    return shop


def test_percentile_is_the_nearest_rank():
    assert figures.percentile({}, 0.5) is None
    assert figures.percentile({7: 1}, 0.9) == 7
    histogram = {w: 1 for w in WAITS}
    assert figures.percentile(histogram, 0.5) == 31  # rank ceil(5) = 5th of 10
    assert figures.percentile(histogram, 0.9) == 200  # rank 9
    assert figures.percentile(histogram, 0.91) == 600  # rank ceil(9.1) = 10
    assert figures.percentile({10: 3, 40: 1}, 0.75) == 10  # rank 3 of 4
    assert figures.percentile({10: 3, 40: 1}, 0.76) == 40


def test_hand_counted_figures(storage, hand_set):
    s = hand_set["store"]
    greet = figures.build(storage, spans(storage, [s]), CUSTOM)
    assert greet.visits == 20  # 12 with an arrival tap, 8 without
    assert (greet.share.successes, greet.share.n) == (12, 20)
    t = greet.totals
    assert (t.arrivals, t.left_before, t.greeted, t.on_time) == (12, 2, 10, 4)
    # A customer who left was not greeted on time: 4 of 12, not 4 of 10.
    assert (t.on_time_rate.successes, t.on_time_rate.n) == (4, 12)
    # Nearest rank over the waits' bins (10, 10, 20, 30, 45, 45, 60, 180, 300,
    # 600): the 5th and the 9th.
    assert (greet.median, greet.p90) == (45, 300)
    assert greet.standard == 30 and greet.goal is None
    # Bands: on time (0–30 s), 31 s to 2 min, over 2 min; greeted visits only.
    shape = [(b.low, b.high, b.counts.arrivals) for b in greet.bands]
    assert shape == [(0, 30, 4), (31, 120, 3), (121, None, 3)]
    on_time, middle, longer = (b.counts for b in greet.bands)
    assert (on_time.purchased, on_time.units, on_time.closed) == (4, 8, 4)
    assert (middle.purchased, middle.units) == (1, 1)
    assert longer.purchased == 0
    assert on_time.counts.units_per_sale == 2.0 and on_time.counts.too_few  # 4 closed
    assert [b.label for b in greet.bands] == ["On time (≤ 30 s)", "31 s to 2 min", "Over 2 min"]
    # Hour × weekday: every visit at 12:00 London on a Tuesday (weekday 1).
    assert greet.hours == {(1, 12): three(t)}
    people = {line.name: line.counts for line in greet.associates}
    assert (people["Ana"].arrivals, people["Ana"].on_time, people["Ana"].left_before) == (7, 4, 1)
    assert (people["Ben"].arrivals, people["Ben"].on_time, people["Ben"].left_before) == (5, 0, 1)
    [store] = greet.stores
    assert (store.key, store.counts, store.median, store.visits) == (s, t, 45, 20)


def test_the_goal_and_a_new_standard(storage, hand_set):
    s = hand_set["store"]
    turn_on(storage, s, standard=60, bands=(300,), goal=0.9)
    greet = figures.build(storage, spans(storage, [s]), CUSTOM)
    # Within 60 s now: 5, 10, 20, 30, 31, 45, 60 (the sums were recomputed).
    assert greet.totals.on_time == 7 and greet.totals.arrivals == 12
    assert [(b.low, b.high, b.counts.arrivals) for b in greet.bands] == [
        (0, 60, 7),
        (61, 300, 2),
        (301, None, 1),
    ]
    assert greet.goal == 0.9 and greet.standard == 60
    assert (greet.median, greet.p90) == (45, 300)  # the waits themselves do not change


def test_two_stores_with_their_own_standards_and_edges(storage, shop):
    a = shop["store"]
    b = catalog.create_store(storage, "Harbour", "America/New_York")
    cy = catalog.add_associate(storage, b, "Cy", actor="test")
    turn_on(storage, a, standard=30, bands=(120,))
    turn_on(storage, b, standard=60, bands=(300,))
    at_b = datetime(2026, 11, 10, 17, tzinfo=UTC)  # 12:00 in New York
    rows = [greeted(a, shop["ana"], w) for w in (20, 45, 200)]
    rows += [greeted(b, cy, w, at=at_b) for w in (20, 45, 200, 400)]
    rows += [left(b, cy, at=at_b)]
    insert(storage, rows)
    greet = figures.build(storage, spans(storage, [a, b]), CUSTOM)
    # 45 s is late at the Corner Shop, on time at Harbour.
    assert greet.totals.on_time == 1 + 2
    assert greet.totals.arrivals == 8
    lines = {line.key: line for line in greet.stores}
    assert (lines[a].counts.on_time, lines[a].counts.arrivals, lines[a].median) == (1, 3, 45)
    assert (lines[b].counts.on_time, lines[b].counts.left_before, lines[b].median) == (2, 1, 45)
    # Each store's wait lands in the band of its own rules, by rank: Corner
    # Shop 20 | 45 | 200; Harbour 20, 45 | 200 | 400.
    assert [b.counts.arrivals for b in greet.bands] == [1 + 2, 1 + 1, 1 + 1]
    assert greet.standard is None  # the standards differ: no one standard to name
    assert (greet.median, greet.p90) == (45, 600)  # bins 20 20 45 45 300 300 600
    # Both stores' 12:00 local on Tuesday.
    assert greet.hours == {(1, 12): three(greet.totals)}


def test_stores_with_fewer_or_more_bands_keep_on_time_and_longest(storage, shop):
    a = shop["store"]
    b = catalog.create_store(storage, "Harbour", "America/New_York")
    c = catalog.create_store(storage, "Quay", "Europe/London")
    cy = catalog.add_associate(storage, b, "Cy", actor="test")
    di = catalog.add_associate(storage, c, "Di", actor="test")
    turn_on(storage, a, standard=30, bands=(60, 120))  # names the bands: 4 of them
    turn_on(storage, b, standard=30, bands=())  # on time, over 30 s
    turn_on(storage, c, standard=30, bands=(45, 60, 90, 120))  # 6 bands
    rows = [greeted(a, shop["ana"], w) for w in (10, 50, 100, 500)]
    rows += [greeted(b, cy, w) for w in (10, 45)]  # 45: b's longest band
    rows += [greeted(c, di, w) for w in (10, 35, 55, 80, 100)]
    insert(storage, rows)
    greet = figures.build(storage, spans(storage, [a, b, c]), CUSTOM)
    assert [x.label for x in greet.bands] == [
        "On time (≤ 30 s)",
        "31 s to 1 min",
        "1 min 1 s to 2 min",
        "Over 2 min",
    ]
    # a: 10 | 50 | 100 | 500; b: 10 | - | - | 45; c's own six bands 10 | 35 |
    # 55 | 80 | 100 | -: its middle four go to the selection's middle two by
    # rank (the second, then the third), its longest stays the longest.
    assert [x.counts.arrivals for x in greet.bands] == [3, 2, 4, 2]


def test_a_store_that_is_off_does_not_name_the_selections_rules(storage, shop):
    a = shop["store"]  # off, with the defaults (30 s, 120)
    b = catalog.create_store(storage, "Harbour", "America/New_York")
    cy = catalog.add_associate(storage, b, "Cy", actor="test")
    turn_on(storage, b, standard=60, bands=(300,), goal=0.8)
    insert(storage, [greeted(b, cy, w) for w in (20, 90, 400)])
    greet = figures.build(storage, spans(storage, [a, b]), CUSTOM)
    assert (greet.standard, greet.goal) == (60, 0.8)
    assert [(x.low, x.high, x.counts.arrivals) for x in greet.bands] == [
        (0, 60, 1),
        (61, 300, 1),
        (301, None, 1),
    ]
    # The page's section: the figures where a store has it on, nothing where none has.
    assert figures.section(storage, spans(storage, [a, b]), CUSTOM) == greet
    assert figures.section(storage, spans(storage, [a]), CUSTOM) is None


def test_a_filtered_selection_agrees_with_the_sums(storage, hand_set):
    s = hand_set["store"]
    span = spans(storage, [s])
    from_sums = figures.build(storage, span, CUSTOM)
    # Every visit in single rows, no filter: the same figures as the sums.
    assert figures.from_visits(storage, span) == from_sums
    # One associate: that associate's share of every figure.
    ana = figures.build(
        storage,
        span,
        DashboardFilters(
            period=periods.CUSTOM, first=FIRST, last=LAST, associate_id=hand_set["ana"]
        ),
    )
    assert three(ana.totals) == next(a.counts for a in from_sums.associates if a.name == "Ana")
    assert ana.visits == 6 + 1 + 8  # Ana's greeted, her one left, her eight plain visits
    assert ana.median == 20  # 5 10 20 30 31 45: rank 3
    assert [a.name for a in ana.associates] == ["Ana"]
    # The reason of every visit here is none: a reason filter finds no arrivals.
    gift = hand_set["reasons"]["Gift"]
    by_reason = figures.build(
        storage,
        span,
        DashboardFilters(period=periods.CUSTOM, first=FIRST, last=LAST, reason_id=gift),
    )
    assert by_reason.totals == GreetCounts() and by_reason.median is None


def test_no_arrival_taps_give_empty_figures(storage, shop):
    s = shop["store"]
    insert(storage, [visit(s, shop["ana"], "warm", "purchased", 1)])
    greet = figures.build(storage, spans(storage, [s]), CUSTOM)
    assert greet.totals == GreetCounts() and greet.visits == 1
    assert (greet.median, greet.p90) == (None, None)
    assert greet.share.value == 0
    assert all(b.counts == GreetCounts() for b in greet.bands)
    assert figures.section(storage, spans(storage, [s]), CUSTOM) is None


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"standard": 5}, "one of 10, 20, 30, 45, 60, 90, 120 seconds"),
        ({"standard": 600}, "one of 10, 20, 30, 45, 60, 90, 120 seconds"),
        ({"standard": True}, "one of 10, 20, 30, 45, 60, 90, 120 seconds"),
        ({"standard": 30.5}, "one of 10, 20, 30, 45, 60, 90, 120 seconds"),
        ({"limit": 4}, "minutes from 5 to 240"),
        ({"limit": 241}, "minutes from 5 to 240"),
        ({"bands": [30]}, "above the one before"),  # not above the standard
        ({"bands": [180, 120]}, "above the one before"),
        ({"bands": [60, 120, 180, 240, 300]}, "at most 4"),
        ({"bands": "120"}, "at most 4"),
        ({"bands": [100]}, "A band edge is one of 10, 20, 30"),
        ({"bands": [5 * 3600]}, "A band edge is one of 10, 20, 30"),
        ({"goal": 0}, "from 1% to 100%"),
        ({"goal": 1.5}, "from 1% to 100%"),
        ({"goal": True}, "from 1% to 100%"),
    ],
)
def test_rules_refuse_with_a_sentence(fields, says):
    given = {"on": True, "standard": 30, "limit": 30, "bands": [120], "goal": None, **fields}
    with pytest.raises(ValidationError, match=says):
        rules.check(**given)


def test_rules_accept_and_parse_edges(storage, shop):
    assert rules.check(True, 20, 45, [60, 600], 0.9) == GreetRules(True, 20, 45, (60, 600), 0.9)
    assert rules.check(False, 30, 30, [], None).bands == ()
    assert rules.parse_edges("60, 120") == [60, 120]
    assert rules.parse_edges(" 120 ") == [120]
    assert rules.parse_edges("60; 120,") == [60, 120]
    assert rules.parse_edges("") == []
    for bad in ("abc", "1.5", "-60", "2 min"):
        with pytest.raises(ValidationError, match="whole numbers of seconds"):
            rules.parse_edges(bad)
    with pytest.raises(ValidationError, match="does not exist"):
        rules.save(storage, 999, GreetRules(on=True), actor="test")
    # A refused save changes nothing.
    turn_on(storage, shop["store"], standard=20)
    with pytest.raises(ValidationError):
        rules.save(storage, shop["store"], GreetRules(True, 20, 30, (10,)), actor="test")
    from cxlog.storage import settings

    assert settings.greet_rules(storage, shop["store"]) == GreetRules(True, 20)


def test_the_chain_s_view_has_each_store_s_time_to_greet_where_it_is_on(storage, shop):
    a = shop["store"]
    b = catalog.create_store(storage, "Harbour", "America/New_York")
    c = catalog.create_store(storage, "Quay", "Europe/London")
    cy = catalog.add_associate(storage, b, "Cy", actor="test")
    di = catalog.add_associate(storage, c, "Di", actor="test")
    turn_on(storage, a, standard=30)
    turn_on(storage, b, standard=60)
    at_b = datetime(2026, 11, 10, 17, tzinfo=UTC)
    rows = [greeted(a, shop["ana"], w) for w in (10, 20, 45, 200)] + [left(a, shop["ben"])]
    rows += [greeted(b, cy, w, at=at_b) for w in (45, 90)]
    # Quay is off: its arrivals from before (it had it on once) show nothing.
    rows += [greeted(c, di, 5)]
    rows += [visit(c, di, "warm", "purchased", 1)]
    insert(storage, rows)
    view = chain.build(storage, CUSTOM, NOW)
    by = {r.store_id: r.greet for r in view.rows}
    assert view.greets
    assert (by[a].counts.arrivals, by[a].counts.on_time, by[a].counts.left_before) == (5, 2, 1)
    assert by[a].median == 20  # 10 20 45 200: rank 2
    assert (by[b].counts.arrivals, by[b].counts.on_time, by[b].median) == (2, 1, 45)
    assert by[c] is None
    # The same numbers as the dashboard's figures for each store alone.
    for store in (a, b):
        alone = figures.build(storage, spans(storage, [store]), CUSTOM)
        assert (alone.totals, alone.median) == (by[store].counts, by[store].median)
    for store in (a, b):
        rules.save(storage, store, GreetRules(on=False), actor="test")
    assert not chain.build(storage, CUSTOM, NOW).greets


def test_single_visits_sum_as_the_stored_sums_over_dst_and_long_waits(storage, shop):
    """Random visits in London and New York over the US clocks' change (1
    November): waits to the second, past ten minutes (whole minutes) and past
    four hours (the last bin), customers who left, open, voided and outside
    the period; the visits' own rows (a filtered selection's way) give every
    figure the sums give."""
    import random

    a = shop["store"]
    b = catalog.create_store(storage, "Harbour", "America/New_York")
    cy = catalog.add_associate(storage, b, "Cy", actor="test")
    turn_on(storage, a, standard=20, bands=(90, 600))
    turn_on(storage, b, standard=45)
    rng = random.Random(30)
    people = {a: [shop["ana"], shop["ben"]], b: [cy]}
    rows = []
    for _ in range(400):
        store = rng.choice([a, b])
        at = datetime(2026, 10, 30, tzinfo=UTC) + timedelta(seconds=rng.randrange(22 * 86_400))
        who = rng.choice(people[store])
        outcome = rng.choice(["purchased", "no_purchase", None])
        extra = {}
        if rng.random() < 0.05:
            extra = {"voided_at": to_utc_text(at), "void_reason": "x"}
        if rng.random() < 0.1:
            rows.append({**left(store, who, at=at), **extra})
        elif rng.random() < 0.8:
            wait = rng.choice([rng.randrange(0, 700), rng.randrange(600, 4000), 20_000, 601, 660])
            units = rng.randrange(1, 4) if outcome == "purchased" else None
            rows.append({**greeted(store, who, wait, outcome, units, at=at), **extra})
        else:
            rows.append({**visit(store, who, "warm", outcome, None, at=at), **extra})
            if outcome == "purchased":
                rows[-1]["units"] = 1
    insert(storage, rows)
    span = spans(storage, [a, b])
    from_sums = figures.build(storage, span, CUSTOM)
    assert from_sums.totals.arrivals > 250
    assert figures.from_visits(storage, span) == from_sums
    for store in (a, b):
        assert figures.from_visits(storage, {store: span[store]}) == figures.build(
            storage, {store: span[store]}, CUSTOM
        )
