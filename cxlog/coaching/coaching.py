"""The coaching loop (issue #14): what neutral and missed moments cost, the
morning huddle card, and the Log page's line for the team.

Cost of neutral (or missed) moments, docs/product.md ("cost of neutral"):
closed neutral visits × (conversion(warm) − conversion(neutral)) —
the extra purchases those visits are *associated with* had they converted like
the warm ones — with a 95% interval from Newcombe's hybrid score method (the
two Wilson intervals of cxlog.numbers.metrics) times the same count; extra units at the
warm units per sale; extra revenue at the warm average sale, only from
purchases with an amount. Only when each group has MIN_SAMPLE closed visits.
Method and assumptions: docs/cost-of-neutral.md.

Everything here takes plain counts (``metrics.Counts`` per first engagement),
so it does not care whether they came from visits or from rollups.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cxlog.calendar import localday
from cxlog.coaching import goals
from cxlog.core.model import MIN_SAMPLE, MISSED, NEUTRAL, WARM, entry_name, utc_now
from cxlog.core.money import money_md as money
from cxlog.core.text import plain
from cxlog.language import formats
from cxlog.language.words import N_, _, n_, shown
from cxlog.numbers import greet_sums, metrics
from cxlog.numbers.figures import TOO_FEW, percent, ups
from cxlog.numbers.greet_sums import GreetCounts
from cxlog.numbers.metrics import Counts, Filters, Rate, wilson
from cxlog.storage import settings
from cxlog.storage.db import Storage
from cxlog.storage.settings import GreetRules
from cxlog.stores import catalog

if TYPE_CHECKING:  # coverage imports pandas, which the Log page's line does not need
    from cxlog.coverage.coverage import Overview

# The Log page's team line appears once the shift has this many closed visits.
LOG_LINE_MIN_CLOSED = 10
# ... and says how many were greeted on time (issue #30) once this many
# customers' arrivals were tapped today: a rate of two or three arrivals is
# noise the team would read as a verdict, the reason the line itself waits.
LOG_LINE_MIN_ARRIVALS = 10

# Issue #13 (door-counter coverage) provides this check: (storage, store ids,
# first local day, last local day) → a warning sentence or None.
CoverageCheck = Callable[[Storage, tuple[int, ...], date, date], str | None]


# --- the interval ---------------------------------------------------------------


def newcombe(better: Rate, worse: Rate) -> tuple[float, float] | None:
    """95% interval for better.value − worse.value: Newcombe's hybrid score
    method (1998, method 10) from the two Wilson score intervals."""
    if not better.n or not worse.n:
        return None
    p1, p2 = better.value, worse.value
    l1, u1 = wilson(better.successes, better.n)
    l2, u2 = wilson(worse.successes, worse.n)
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


# --- cost of neutral and missed moments ----------------------------------------


@dataclass(frozen=True)
class Cost:
    """What one moment quality's closed visits are associated with, against warm."""

    group: str  # NEUTRAL or MISSED
    closed: int  # closed visits of the group
    warm_closed: int
    too_few: bool  # either side under MIN_SAMPLE closed visits: no number shown
    gap: float | None = None  # conversion(warm) − conversion(group)
    purchases: float | None = None  # extra purchases
    purchases_interval: tuple[float, float] | None = None
    warm_ups: float | None = None
    units: float | None = None
    units_interval: tuple[float, float] | None = None
    warm_average_sale: float | None = None  # None when no warm purchase has an amount
    priced: int = 0  # warm purchases with an amount (the average sale's n)
    warm_purchased: int = 0
    revenue: float | None = None
    revenue_interval: tuple[float, float] | None = None

    @property
    def could_be_chance(self) -> bool:
        return self.purchases_interval is not None and self.purchases_interval[0] <= 0


def cost(warm: Counts, other: Counts, group: str) -> Cost:
    """The cost of ``group``'s closed visits against the warm ones."""
    too_few = warm.too_few or other.too_few
    base = Cost(group, other.closed, warm.closed, too_few)
    if too_few:
        return base
    gap = warm.conversion.value - other.conversion.value
    low, high = newcombe(warm.conversion, other.conversion)
    n = other.closed
    # n × gap, written so that whole answers stay whole in floating point.
    purchases = n * warm.purchased / warm.closed - other.purchased
    interval = (n * low, n * high)
    ups = warm.units_per_sale
    sale = warm.average_sale

    def times(k: float | None) -> tuple[float | None, tuple[float, float] | None]:
        if k is None:
            return None, None
        return purchases * k, (interval[0] * k, interval[1] * k)

    units, units_interval = times(ups)
    revenue, revenue_interval = times(sale)
    return Cost(
        group,
        n,
        warm.closed,
        False,
        gap,
        purchases,
        interval,
        ups,
        units,
        units_interval,
        sale,
        warm.with_amount,
        warm.purchased,
        revenue,
        revenue_interval,
    )


def costs(by_engagement: Mapping[str, Counts]) -> dict[str, Cost]:
    """Neutral and missed against warm, from counts per first engagement."""
    warm = by_engagement.get(WARM, Counts())
    return {g: cost(warm, by_engagement.get(g, Counts()), g) for g in (NEUTRAL, MISSED)}


def _whole(value: float) -> str:
    """Rounded half up (7.5 → 8), the way a reader rounds by hand."""
    return formats.number(_rounded(value))


def _rounded(value: float) -> int:
    return math.floor(value + 0.5)


def cost_sentence(c: Cost, currency: str | None) -> str:
    """The cost in words: "associated with", never a promise."""
    missed = c.group == MISSED
    if c.too_few:
        if missed:
            text = _(
                "Too few visits to put a number on what missed first engagements cost: "
                "{warm} warm and {closed} missed closed visits ({need} each needed)."
            )
        else:
            text = _(
                "Too few visits to put a number on what neutral first engagements cost: "
                "{warm} warm and {closed} neutral closed visits ({need} each needed)."
            )
        return text.format(
            warm=formats.number(c.warm_closed), closed=formats.number(c.closed), need=MIN_SAMPLE
        )
    if c.purchases <= 0:
        if missed:
            text = _(
                "Missed first engagements converted at least as well as warm ones "
                "({closed} closed visits): no cost to show."
            )
        else:
            text = _(
                "Neutral first engagements converted at least as well as warm ones "
                "({closed} closed visits): no cost to show."
            )
        return text.format(closed=formats.number(c.closed))
    low, high = c.purchases_interval
    many = _rounded(c.purchases)
    if missed:
        text = n_(
            "The {closed} missed visits are associated with about {n} fewer purchase "
            "(95%: {low} to {high}) than if they had converted like the warm ones",
            "The {closed} missed visits are associated with about {n} fewer purchases "
            "(95%: {low} to {high}) than if they had converted like the warm ones",
            many,
        )
    else:
        text = n_(
            "The {closed} neutral visits are associated with about {n} fewer purchase "
            "(95%: {low} to {high}) than if they had converted like the warm ones",
            "The {closed} neutral visits are associated with about {n} fewer purchases "
            "(95%: {low} to {high}) than if they had converted like the warm ones",
            many,
        )
    text = text.format(
        closed=formats.number(c.closed), n=_whole(c.purchases), low=_whole(low), high=_whole(high)
    )
    extras = []
    if c.units is not None:
        units = _rounded(c.units)
        extras.append(n_("{n} unit", "{n} units", units).format(n=formats.number(units)))
    if c.revenue is not None:
        extras.append(
            _(
                "{revenue} at the warm average sale of {average} ({priced} of {purchased} "
                "warm purchases had an amount)"
            ).format(
                revenue=money(c.revenue, currency),
                average=money(c.warm_average_sale, currency),
                priced=formats.number(c.priced),
                purchased=formats.number(c.warm_purchased),
            )
        )
    elif c.units is not None:
        extras.append(_("no revenue figure: no warm purchase had an amount"))
    if extras:
        text = _("{sentence}: about {extras}").format(sentence=text, extras="; ".join(extras))
    if c.could_be_chance:
        return _("{sentence}. The interval reaches zero, so this could still be chance.").format(
            sentence=text
        )
    return _("{sentence}.").format(sentence=text)


# --- time to greet over one local day (issue #30) -------------------------------


@dataclass(frozen=True)
class GreetDay:
    """A store's time to greet over one of its local days: its rules (the
    standard, the goal) and the day's sums over visits with an arrival tap."""

    rules: GreetRules
    counts: GreetCounts


def greet_day(storage: Storage, store_id: int, day: date) -> GreetDay | None:
    """One read: the store's rules and, when it has time to greet on, the
    local day's totals from the greet sums; None when it is off."""
    with storage.read() as db:
        rules = settings.greet_rules_in(db, [store_id])[store_id]
        if not rules.on:
            return None
        counts = greet_sums.day_totals(db, store_id, day)
    return GreetDay(rules, counts)


def greet_line(day: GreetDay) -> str:
    """The huddle's line for yesterday's time to greet: the on-time rate
    against the standard (and the goal), and who left before greeting."""
    c = day.counts
    if not c.arrivals:
        return _("Yesterday no arrivals were tapped.")
    values = {
        "rate": percent(c.on_time_rate.value, 0),
        "standard": formats.wait(day.rules.standard),
        "n": formats.number(c.left_before),
    }
    if day.rules.goal is None:
        text = n_(
            "Yesterday {rate} of customers greeted within {standard}; {n} left before greeting",
            "Yesterday {rate} of customers greeted within {standard}; {n} left before greeting",
            c.left_before,
        )
    else:
        text = n_(
            "Yesterday {rate} of customers greeted within {standard} (goal {goal}); "
            "{n} left before greeting",
            "Yesterday {rate} of customers greeted within {standard} (goal {goal}); "
            "{n} left before greeting",
            c.left_before,
        )
        values["goal"] = percent(day.rules.goal, 0)
    text = text.format(**values)
    if c.arrivals < MIN_SAMPLE:
        # The numbers stay (the team asks what happened), the verdict does not.
        return n_(
            "{sentence} — too few to judge ({n} arrival, {need} needed).",
            "{sentence} — too few to judge ({n} arrivals, {need} needed).",
            c.arrivals,
        ).format(sentence=text, n=formats.number(c.arrivals), need=MIN_SAMPLE)
    return _("{sentence}.").format(sentence=text)


def log_line(
    today: Counts,
    warm_goal: float | None,
    focus: str | None,
    *,
    markdown: bool = True,
    greet: GreetDay | None = None,
) -> str | None:
    """Item 5: the Log page's quiet line for the team (not per person), or None
    before the shift has LOG_LINE_MIN_CLOSED closed visits. ``markdown=False``
    for the tap pad, which draws text as text (nothing to escape). ``greet``:
    today's time to greet when the store has it on (issue #30), shown from
    LOG_LINE_MIN_ARRIVALS arrivals."""
    if today.closed < LOG_LINE_MIN_CLOSED:
        return None
    rate = percent(today.warm_rate.value, 0)
    if warm_goal is None:
        text = _("Team today: warm rate {rate}").format(rate=rate)
    else:
        text = _("Team today: warm rate {rate} (goal {goal})").format(
            rate=rate, goal=percent(warm_goal, 0)
        )
    if greet is not None and greet.counts.arrivals >= LOG_LINE_MIN_ARRIVALS:
        values = {
            "line": text,
            "standard": formats.wait(greet.rules.standard),
            "rate": percent(greet.counts.on_time_rate.value, 0),
        }
        if greet.rules.goal is None:
            text = _("{line} · greeted within {standard}: {rate}").format(**values)
        else:
            text = _("{line} · greeted within {standard}: {rate} (goal {goal})").format(
                **values, goal=percent(greet.rules.goal, 0)
            )
    if focus:
        # Markdown-safe on cards
        text = _("{line} · focus: {focus}").format(
            line=text, focus=plain(focus) if markdown else focus
        )
    return text


def team_line(
    storage: Storage, store_id: int, now: datetime | None = None, *, markdown: bool = True
) -> str | None:
    """The Log page's line for a store's today (its local day so far): one
    indexed count of today's visits, the warm-rate goal, today's focus and,
    when the store has time to greet on, today's greet sums (one read)."""
    zone = localday.zone(catalog.get_store(storage, store_id)["timezone"])
    today = (now or utc_now()).astimezone(zone).date()
    counts = metrics.totals(storage, _filters(store_id, today, today, zone))
    if counts.closed < LOG_LINE_MIN_CLOSED:
        return None  # before the goal and focus are even read
    focus = goals.focus_on(storage, store_id, today)
    warm_goal = goals.store_goals(storage, store_id).warm_rate
    return log_line(
        counts,
        warm_goal,
        focus["name"] if focus else None,
        markdown=markdown,
        greet=greet_day(storage, store_id, today),
    )


def door_counter_check(
    storage: Storage, store_ids: tuple[int, ...], first: date, last: date
) -> str | None:
    """Issue #13's low-coverage warning (cxlog/coverage/coverage.py) for these local days."""
    # Imported here: coverage reads with pandas, which the Log page's line and
    # the CLI's other commands do not need.
    from cxlog.coverage import coverage

    return coverage.low_coverage_warning(storage, store_ids, first, last)


# The one place cxlog asks whether door counts say much went unlogged; a test
# may swap in its own check.
COVERAGE_CHECK: CoverageCheck | None = door_counter_check


def coverage_note(
    storage: Storage,
    store_ids: tuple[int, ...],
    first: date,
    last: date,
    check: CoverageCheck | None = None,
    built: tuple[Mapping[int, tuple[datetime, datetime]], Overview] | None = None,
) -> str | None:
    """The low-coverage warning shown beside the cost (dashboard and huddle),
    where door counts say much of the period went unlogged; None without one.

    ``built``: coverage the caller already built, with the UTC range of each
    store it covers. When those are exactly these stores' local days, the
    default check reads its sentence from it instead of building coverage a
    second time (the dashboard's year of 10 stores: ~0.3 s of ~1.3 s).
    """
    check = check or COVERAGE_CHECK
    if check is None:
        return None
    if check is door_counter_check and built is not None:
        from cxlog.coverage import coverage  # see door_counter_check

        ranges, cov = built
        if dict(ranges) == coverage.day_ranges(storage, store_ids, first, last):
            return coverage.warning(cov, {s["id"]: s["name"] for s in catalog.list_stores(storage)})
    return check(storage, store_ids, first, last)


# --- the huddle card ---------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str]


@dataclass(frozen=True)
class HuddleCard:
    """One store's morning card, as plain data; ``sections`` is what the page
    and the CLI both show."""

    store_id: int
    store_name: str
    currency: str | None
    today: date
    yesterday: date
    week_start: date
    yesterday_counts: Counts
    week_counts: Counts
    yesterday_by_engagement: dict[str, Counts]
    week_by_engagement: dict[str, Counts]
    goals: goals.StoreGoals
    costs: dict[str, Cost]
    quiet: bool  # too few visits yesterday to read rates
    top_no_sale: tuple[str, Rate] | None
    bright_spot: str
    focus_yesterday: dict | None
    focus_check: str
    focus_today: dict | None
    warning: str | None
    greet: GreetDay | None = None  # yesterday's time to greet; None when the store has it off
    sections: list[Section] = field(default_factory=list)


def _filters(store_id: int, first: date, last: date, zone: ZoneInfo) -> Filters:
    return Filters(
        start=localday.local_midnight_utc(first, zone),
        end=localday.local_midnight_utc(last + timedelta(days=1), zone),
        store_ids=(store_id,),
    )


def _sum(groups: Mapping[object, Counts]) -> Counts:
    total = Counts()
    for c in groups.values():
        total = Counts(
            **{f: getattr(total, f) + getattr(c, f) for f in Counts.__dataclass_fields__}
        )
    return total


def _measured(storage: Storage, filters: Filters, measure: str) -> Rate:
    """Share of visits with the behaviour's measure, e.g. the name used."""
    where, params = filters.where()
    sql = (
        f"SELECT count(*), total({goals.MEASURES[measure][1]}) FROM visits v"
        f" LEFT JOIN reasons r ON r.id = v.reason_id WHERE {where}"
    )
    with storage.read() as db:
        n, hits = db.execute(sql, params).fetchone()
    return Rate(int(hits), int(n))


def _focus_check(storage: Storage, focus: dict | None, store_id: int, yesterday: date, zone) -> str:
    if focus is None:
        return _("No focus was picked for yesterday.")
    name = plain(entry_name(focus["name"]))
    if not focus["measure"]:
        return _(
            "Yesterday's focus: {name} (not something cxlog counts; ask the team how it went)."
        ).format(name=name)
    what = shown(goals.MEASURES[focus["measure"]][0])
    day = _measured(storage, _filters(store_id, yesterday, yesterday, zone), focus["measure"])
    before = _measured(
        storage,
        _filters(store_id, yesterday - timedelta(days=7), yesterday - timedelta(days=1), zone),
        focus["measure"],
    )
    if day.n < MIN_SAMPLE:
        return _(
            "Yesterday's focus: {name}. Too few visits yesterday ({n}) to tell whether it moved."
        ).format(name=name, n=formats.number(day.n))
    head = _("Yesterday's focus: {name}. {rate} of {n} visits had {what}").format(
        name=name, rate=percent(day.value, 0), n=formats.number(day.n), what=what
    )
    if before.n < MIN_SAMPLE:
        return _("{sentence}; too few visits in the 7 days before to compare.").format(
            sentence=head
        )
    points = round(100 * (day.value - before.value))
    if points > 0:
        verdict = n_("up {n} point", "up {n} points", points)
    elif points < 0:
        verdict = n_("down {n} point", "down {n} points", -points)
    else:
        verdict = _("no change")
    verdict = verdict.format(n=formats.number(abs(points)))
    interval = newcombe(day, before)
    if points and interval[0] <= 0 <= interval[1]:
        text = _(
            "{sentence}, against {before} over the 7 days before: {verdict} "
            "(could still be chance)."
        )
    else:
        text = _("{sentence}, against {before} over the 7 days before: {verdict}.")
    return text.format(sentence=head, before=percent(before.value, 0), verdict=verdict)


def _bright_spot(
    week: Counts,
    by_engagement: Mapping[str, Counts],
    store_goals: goals.StoreGoals,
    people: Mapping[int, Counts],
    names: Mapping[int, str],
) -> str:
    """One positive, team-first mention, only from groups with enough visits."""
    warm_goal = store_goals.warm_rate
    if week.visits >= MIN_SAMPLE and warm_goal is not None and week.warm_rate.value >= warm_goal:
        return _(
            "The team's warm rate this week is {rate} of {n} visits, at or above the {goal} goal."
        ).format(
            rate=percent(week.warm_rate.value, 0),
            n=formats.number(week.visits),
            goal=percent(warm_goal, 0),
        )
    if not week.too_few:
        if store_goals.conversion is not None and week.conversion.value >= store_goals.conversion:
            return _(
                "The team converted {rate} of {n} closed visits this week, at or above the "
                "{goal} goal."
            ).format(
                rate=percent(week.conversion.value, 0),
                n=formats.number(week.closed),
                goal=percent(store_goals.conversion, 0),
            )
        if (
            store_goals.units_per_sale is not None
            and week.purchased
            and week.units_per_sale >= store_goals.units_per_sale
        ):
            return _(
                "The team sold {ups} units per sale this week, at or above the {goal} goal."
            ).format(ups=ups(week.units_per_sale), goal=ups(store_goals.units_per_sale))
    warm, neutral = by_engagement.get(WARM, Counts()), by_engagement.get(NEUTRAL, Counts())
    if not warm.too_few and not neutral.too_few:
        gap = round(100 * (warm.conversion.value - neutral.conversion.value))
        if gap > 0:
            return n_(
                "Warm welcomes work here: this week they converted {rate} of {n} closed "
                "visits, {gap} point better than neutral ones.",
                "Warm welcomes work here: this week they converted {rate} of {n} closed "
                "visits, {gap} points better than neutral ones.",
                gap,
            ).format(
                rate=percent(warm.conversion.value, 0),
                n=formats.number(warm.closed),
                gap=formats.number(gap),
            )
    enough = [(k, c) for k, c in people.items() if not c.too_few]
    if enough:
        best_id, best = max(enough, key=lambda kc: (kc[1].conversion.value, kc[1].closed))
        who = plain(names[best_id]) if best_id in names else _("One associate")
        return _("{who} converted {rate} of {n} closed visits this week: ask what worked.").format(
            who=who, rate=percent(best.conversion.value, 0), n=formats.number(best.closed)
        )
    return _(
        "Not enough visits this week for a bright spot yet ({need} closed visits "
        "per group needed): every visit logged today counts."
    ).format(need=MIN_SAMPLE)


# The moments' lines of the card, by first engagement.
_WEEK_LABELS = {WARM: N_("Warm (week)"), NEUTRAL: N_("Neutral (week)"), MISSED: N_("Missed (week)")}


def _group_line(label: str, c: Counts) -> str:
    if c.too_few:
        return _("{label}: too few visits ({n} closed)").format(
            label=label, n=formats.number(c.closed)
        )
    return _("{label}: {rate} of {n} closed").format(
        label=label, rate=percent(c.conversion.value, 0), n=formats.number(c.closed)
    )


def _day_line(title: str, c: Counts, currency: str | None) -> str:
    if c.too_few:
        return _(
            "{title}: {visits} visits, {closed} closed — too few visits for rates "
            "({need} closed needed)"
        ).format(
            title=title,
            visits=formats.number(c.visits),
            closed=formats.number(c.closed),
            need=MIN_SAMPLE,
        )
    return _(
        "{title}: {visits} visits · conversion {rate} of {closed} closed · {ups} units per "
        "sale · average sale {average}"
    ).format(
        title=title,
        visits=formats.number(c.visits),
        rate=percent(c.conversion.value, 0),
        closed=formats.number(c.closed),
        ups=ups(c.units_per_sale),
        average=money(c.average_sale, currency),
    )


def _warm_line(when: str, c: Counts, goal: float | None) -> str:
    """``when``: "yesterday" or "this week", translated."""
    if c.visits < MIN_SAMPLE:
        return _("Warm rate {when}: too few visits ({n} visits)").format(
            when=when, n=formats.number(c.visits)
        )
    values = {"when": when, "rate": percent(c.warm_rate.value, 0), "n": formats.number(c.visits)}
    if goal is None:
        return _("Warm rate {when}: {rate} of {n} visits (no goal set)").format(**values)
    points = round(100 * (c.warm_rate.value - goal))
    if points == 0:
        text = _("Warm rate {when}: {rate} of {n} visits, on the {goal} goal")
    elif points > 0:
        text = n_(
            "Warm rate {when}: {rate} of {n} visits, {points} point above the {goal} goal",
            "Warm rate {when}: {rate} of {n} visits, {points} points above the {goal} goal",
            points,
        )
    else:
        text = n_(
            "Warm rate {when}: {rate} of {n} visits, {points} point below the {goal} goal",
            "Warm rate {when}: {rate} of {n} visits, {points} points below the {goal} goal",
            -points,
        )
    return text.format(**values, points=formats.number(abs(points)), goal=percent(goal, 0))


def _sections(card: HuddleCard) -> list[Section]:
    g = card.goals
    yesterday = localday.day_text(card.yesterday)
    numbers = [
        _day_line(
            _("Yesterday ({day})").format(day=yesterday), card.yesterday_counts, card.currency
        ),
        _day_line(
            _("Week to date ({first}–{last})").format(
                first=localday.day_text(card.week_start), last=yesterday
            ),
            card.week_counts,
            card.currency,
        ),
        _warm_line(_("yesterday"), card.yesterday_counts, g.warm_rate),
        _warm_line(_("this week"), card.week_counts, g.warm_rate),
    ]
    if card.greet is not None:
        numbers.append(greet_line(card.greet))
    if card.quiet:
        numbers.insert(
            0,
            _(
                "Too few visits yesterday ({n} closed) to read yesterday's rates; the week to "
                "date says more."
            ).format(n=formats.number(card.yesterday_counts.closed)),
        )
    goal_bits = []
    if g.conversion is not None:
        goal_bits.append(_("conversion {goal}").format(goal=percent(g.conversion, 0)))
    if g.units_per_sale is not None:
        goal_bits.append(_("units per sale {goal}").format(goal=ups(g.units_per_sale)))
    if goal_bits:
        numbers.append(_("Other goals: {goals}").format(goals=", ".join(goal_bits)))
    moments = [
        _group_line(_(_WEEK_LABELS[name]), card.week_by_engagement.get(name, Counts()))
        for name in (WARM, NEUTRAL, MISSED)
    ]
    cost_lines = [cost_sentence(card.costs[NEUTRAL], card.currency)]
    if not card.costs[MISSED].too_few and card.costs[MISSED].purchases > 0:
        cost_lines.append(cost_sentence(card.costs[MISSED], card.currency))
    if card.warning:
        cost_lines.append(card.warning)
    if card.top_no_sale is None:
        no_sale = _("No no-sale reason was tapped this week.")
    else:
        label, share = card.top_no_sale
        no_sale = _(
            "Top no-sale reason this week: {reason}, {rate} of {n} no-purchase visits."
        ).format(reason=plain(label), rate=percent(share.value, 0), n=formats.number(share.n))
    today = (
        _("Today's focus: {name}").format(name=plain(entry_name(card.focus_today["name"])))
        if card.focus_today
        else _("Today's focus: not picked yet (Settings → Coaching).")
    )
    return [
        Section(_("The numbers"), numbers),
        Section(_("Conversion by first engagement (this week)"), moments),
        Section(_("What neutral moments cost (this week)"), cost_lines),
        Section(_("Why visits did not buy"), [no_sale]),
        Section(_("Bright spot"), [card.bright_spot]),
        Section(_("Focus"), [card.focus_check, today]),
    ]


def huddle_card(
    storage: Storage,
    store_id: int,
    today: date | None = None,
    *,
    now: datetime | None = None,
    coverage_check: CoverageCheck | None = None,
) -> HuddleCard:
    """The card for a store's morning ``today`` (its local today by default):
    yesterday, and the week to date (Monday of yesterday's week to yesterday)."""
    store = catalog.get_store(storage, store_id)
    zone = localday.zone(store["timezone"])
    if today is None:
        today = (now or utc_now()).astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    week_start = yesterday - timedelta(days=yesterday.weekday())
    day_f = _filters(store_id, yesterday, yesterday, zone)
    week_f = _filters(store_id, week_start, yesterday, zone)
    day_eng = metrics.breakdown(storage, day_f, "first_engagement")
    week_eng = metrics.breakdown(storage, week_f, "first_engagement")
    day_total, week_total = _sum(day_eng), _sum(week_eng)
    store_goals = goals.store_goals(storage, store_id)
    no_sale = metrics.breakdown(storage, week_f, "no_sale_reason")
    lost = week_total.closed - week_total.purchased
    named = [(k, c.closed - c.purchased) for k, c in no_sale.items() if k is not None]
    named = [(k, n) for k, n in named if n > 0]
    top = None
    if named:
        key, n = max(named, key=lambda kn: (kn[1], -kn[0]))
        reasons = {
            r["id"]: entry_name(r["name"])
            for r in catalog.list_reasons(storage, "no_sale_reason", active_only=False, every=True)
        }
        top = (reasons.get(key, f"#{key}"), Rate(n, lost))
    people = metrics.breakdown(storage, week_f, "associate")
    names = {a["id"]: a["name"] for a in catalog.list_associates(storage, store_id)}
    focus_yesterday = goals.focus_on(storage, store_id, yesterday)
    card = HuddleCard(
        store_id=store_id,
        store_name=store["name"],
        currency=store_goals.currency,
        today=today,
        yesterday=yesterday,
        week_start=week_start,
        yesterday_counts=day_total,
        week_counts=week_total,
        yesterday_by_engagement=day_eng,
        week_by_engagement=week_eng,
        goals=store_goals,
        costs=costs(week_eng),
        quiet=day_total.too_few,
        top_no_sale=top,
        bright_spot=_bright_spot(week_total, week_eng, store_goals, people, names),
        focus_yesterday=focus_yesterday,
        focus_check=_focus_check(storage, focus_yesterday, store_id, yesterday, zone),
        focus_today=goals.focus_on(storage, store_id, today),
        warning=coverage_note(storage, (store_id,), week_start, yesterday, coverage_check),
        greet=greet_day(storage, store_id, yesterday),
    )
    card.sections.extend(_sections(card))
    return card


def title(card: HuddleCard) -> str:
    return _("Huddle · {store} · {day}").format(
        store=plain(card.store_name), day=localday.day_text(card.today, year=True)
    )


def markdown(card: HuddleCard) -> str:
    """The card as Markdown: what `python -m cxlog huddle` prints and the page
    shows. Typed text (names, reasons) is escaped where it enters a line.
    Written in the current language (cxlog.language.words), like the card's
    sections: build and write the card inside the same ``words.using``."""
    out = [f"## {title(card)}", ""]
    for section in card.sections:
        out += [f"### {section.title}", ""]
        out += [f"- {line}" for line in section.lines]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# --- the dashboard's cost section ---------------------------------------------------


@dataclass(frozen=True)
class CostSection:
    """What the dashboard shows under "What neutral and missed moments cost"."""

    currency: str | None
    selection: dict[str, Cost]
    by_store: dict[int, dict[str, Cost]]  # only with several stores
    team_column: dict[object, str]  # "team" and associate id → short text
    warning: str | None


def short(c: Cost) -> str:
    """A team-table cell: "≈ 3 (1 to 5)" purchases, or why there is none."""
    if c.too_few:
        return _(TOO_FEW)
    if c.purchases <= 0:
        return _("none")
    low, high = c.purchases_interval
    return _("≈ {n} ({low} to {high})").format(
        n=_whole(c.purchases), low=_whole(low), high=_whole(high)
    )


def cost_section(
    by_engagement: Mapping[str, Counts],
    by_store: Mapping[int, Mapping[str, Counts]],
    by_associate: Mapping[int, Mapping[str, Counts]],
    currency: str | None,
    warning: str | None = None,
) -> CostSection:
    selection = costs(by_engagement)
    team = {"team": short(selection[NEUTRAL])}
    team.update({k: short(costs(v)[NEUTRAL]) for k, v in by_associate.items()})
    return CostSection(
        currency=currency,
        selection=selection,
        by_store={k: costs(v) for k, v in by_store.items()} if len(by_store) > 1 else {},
        team_column=team,
        warning=warning,
    )
