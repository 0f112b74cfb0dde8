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
from cxlog.core.model import MIN_SAMPLE, MISSED, NEUTRAL, WARM, utc_now
from cxlog.core.money import money_md as money
from cxlog.core.text import plain
from cxlog.numbers import metrics
from cxlog.numbers.figures import TOO_FEW, percent
from cxlog.numbers.metrics import Counts, Filters, Rate, wilson
from cxlog.storage.db import Storage
from cxlog.stores import catalog

if TYPE_CHECKING:  # coverage imports pandas, which the Log page's line does not need
    from cxlog.coverage.coverage import Overview

# The Log page's team line appears once the shift has this many closed visits.
LOG_LINE_MIN_CLOSED = 10

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
    return f"{math.floor(value + 0.5):,}"


def cost_sentence(c: Cost, currency: str | None) -> str:
    """The cost in words: "associated with", never a promise."""
    name = c.group
    if c.too_few:
        return (
            f"Too few visits to put a number on what {name} first engagements cost: "
            f"{c.warm_closed:,} warm and {c.closed:,} {name} closed visits "
            f"({MIN_SAMPLE} each needed)."
        )
    if c.purchases <= 0:
        return (
            f"{name.capitalize()} first engagements converted at least as well as warm ones "
            f"({c.closed:,} closed visits): no cost to show."
        )
    low, high = c.purchases_interval
    many = "purchase" if _whole(c.purchases) == "1" else "purchases"
    text = (
        f"The {c.closed:,} {name} visits are associated with about {_whole(c.purchases)} "
        f"fewer {many} (95%: {_whole(low)} to {_whole(high)}) "
        f"than if they had converted like the warm ones"
    )
    extras = []
    if c.units is not None:
        extras.append(f"{_whole(c.units)} units")
    if c.revenue is not None:
        extras.append(
            f"{money(c.revenue, currency)} at the warm average sale of "
            f"{money(c.warm_average_sale, currency)} ({c.priced:,} of {c.warm_purchased:,} "
            "warm purchases had an amount)"
        )
    elif c.units is not None:
        extras.append("no revenue figure: no warm purchase had an amount")
    if extras:
        text += ": about " + "; ".join(extras)
    if c.could_be_chance:
        text += ". The interval reaches zero, so this could still be chance"
    return text + "."


def log_line(
    today: Counts, warm_goal: float | None, focus: str | None, *, markdown: bool = True
) -> str | None:
    """Item 5: the Log page's quiet line for the team (not per person), or None
    before the shift has LOG_LINE_MIN_CLOSED closed visits. ``markdown=False``
    for the tap pad, which draws text as text (nothing to escape)."""
    if today.closed < LOG_LINE_MIN_CLOSED:
        return None
    rate = today.warm_rate.value
    text = f"Team today: warm rate {100 * rate:.0f}%"
    if warm_goal is not None:
        text += f" (goal {100 * warm_goal:.0f}%)"
    if focus:
        text += f" · focus: {plain(focus) if markdown else focus}"  # Markdown-safe on cards
    return text


def team_line(
    storage: Storage, store_id: int, now: datetime | None = None, *, markdown: bool = True
) -> str | None:
    """The Log page's line for a store's today (its local day so far): one
    indexed count of today's visits, the warm-rate goal and today's focus."""
    zone = localday.zone(catalog.get_store(storage, store_id)["timezone"])
    today = (now or utc_now()).astimezone(zone).date()
    counts = metrics.totals(storage, _filters(store_id, today, today, zone))
    if counts.closed < LOG_LINE_MIN_CLOSED:
        return None  # before the goal and focus are even read
    focus = goals.focus_on(storage, store_id, today)
    warm_goal = goals.store_goals(storage, store_id).warm_rate
    return log_line(counts, warm_goal, focus["name"] if focus else None, markdown=markdown)


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
        return "No focus was picked for yesterday."
    name = plain(focus["name"])
    if not focus["measure"]:
        return f"Yesterday's focus: {name} (not something cxlog counts; ask the team how it went)."
    what = goals.MEASURES[focus["measure"]][0]
    day = _measured(storage, _filters(store_id, yesterday, yesterday, zone), focus["measure"])
    before = _measured(
        storage,
        _filters(store_id, yesterday - timedelta(days=7), yesterday - timedelta(days=1), zone),
        focus["measure"],
    )
    if day.n < MIN_SAMPLE:
        return (
            f"Yesterday's focus: {name}. Too few visits yesterday ({day.n}) to tell whether "
            "it moved."
        )
    text = f"Yesterday's focus: {name}. {percent(day.value, 0)} of {day.n:,} visits had {what}"
    if before.n < MIN_SAMPLE:
        return text + "; too few visits in the 7 days before to compare."
    points = round(100 * (day.value - before.value))
    if points > 0:
        verdict = f"up {points} points"
    elif points < 0:
        verdict = f"down {-points} points"
    else:
        verdict = "no change"
    text += f", against {percent(before.value, 0)} over the 7 days before: {verdict}"
    interval = newcombe(day, before)
    if points and interval[0] <= 0 <= interval[1]:
        text += " (could still be chance)"
    return text + "."


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
        return (
            f"The team's warm rate this week is {percent(week.warm_rate.value, 0)} of "
            f"{week.visits:,} visits, at or above the {percent(warm_goal, 0)} goal."
        )
    if not week.too_few:
        if store_goals.conversion is not None and week.conversion.value >= store_goals.conversion:
            return (
                f"The team converted {percent(week.conversion.value, 0)} of {week.closed:,} closed "
                f"visits this week, at or above the {percent(store_goals.conversion, 0)} goal."
            )
        if (
            store_goals.units_per_sale is not None
            and week.purchased
            and week.units_per_sale >= store_goals.units_per_sale
        ):
            return (
                f"The team sold {week.units_per_sale:.2f} units per sale this week, at or "
                f"above the {store_goals.units_per_sale:.2f} goal."
            )
    warm, neutral = by_engagement.get(WARM, Counts()), by_engagement.get(NEUTRAL, Counts())
    if not warm.too_few and not neutral.too_few:
        gap = round(100 * (warm.conversion.value - neutral.conversion.value))
        if gap > 0:
            return (
                "Warm welcomes work here: this week they converted"
                f" {percent(warm.conversion.value, 0)} "
                f"of {warm.closed:,} closed visits, {gap} points better than neutral ones."
            )
    enough = [(k, c) for k, c in people.items() if not c.too_few]
    if enough:
        best_id, best = max(enough, key=lambda kc: (kc[1].conversion.value, kc[1].closed))
        who = plain(names.get(best_id, "One associate"))
        return (
            f"{who} converted {percent(best.conversion.value, 0)} of {best.closed:,} closed visits "
            "this week: ask what worked."
        )
    return (
        f"Not enough visits this week for a bright spot yet ({MIN_SAMPLE} closed visits "
        "per group needed): every visit logged today counts."
    )


def _group_line(label: str, c: Counts) -> str:
    if c.too_few:
        return f"{label}: {TOO_FEW} ({c.closed:,} closed)"
    return f"{label}: {percent(c.conversion.value, 0)} of {c.closed:,} closed"


def _day_line(title: str, c: Counts, currency: str | None) -> str:
    if c.too_few:
        return (
            f"{title}: {c.visits:,} visits, {c.closed:,} closed — {TOO_FEW} for rates "
            f"({MIN_SAMPLE} closed needed)"
        )
    ups = "—" if c.units_per_sale is None else f"{c.units_per_sale:.2f}"
    return (
        f"{title}: {c.visits:,} visits · conversion {percent(c.conversion.value, 0)} of "
        f"{c.closed:,} closed · {ups} units per sale · average sale "
        f"{money(c.average_sale, currency)}"
    )


def _warm_line(title: str, c: Counts, goal: float | None) -> str:
    if c.visits < MIN_SAMPLE:
        return f"Warm rate {title}: {TOO_FEW} ({c.visits:,} visits)"
    text = f"Warm rate {title}: {percent(c.warm_rate.value, 0)} of {c.visits:,} visits"
    if goal is None:
        return text + " (no goal set)"
    points = round(100 * (c.warm_rate.value - goal))
    where = "on" if points == 0 else f"{abs(points)} points {'above' if points > 0 else 'below'}"
    return text + f", {where} the {percent(goal, 0)} goal"


def _sections(card: HuddleCard) -> list[Section]:
    g = card.goals
    yesterday = localday.day_text(card.yesterday)
    numbers = [
        _day_line(f"Yesterday ({yesterday})", card.yesterday_counts, card.currency),
        _day_line(
            f"Week to date ({localday.day_text(card.week_start)}–{yesterday})",
            card.week_counts,
            card.currency,
        ),
        _warm_line("yesterday", card.yesterday_counts, g.warm_rate),
        _warm_line("this week", card.week_counts, g.warm_rate),
    ]
    if card.quiet:
        numbers.insert(
            0,
            f"Too few visits yesterday ({card.yesterday_counts.closed:,} closed) to read "
            "yesterday's rates; the week to date says more.",
        )
    goal_bits = []
    if g.conversion is not None:
        goal_bits.append(f"conversion {percent(g.conversion, 0)}")
    if g.units_per_sale is not None:
        goal_bits.append(f"units per sale {g.units_per_sale:.2f}")
    if goal_bits:
        numbers.append("Other goals: " + ", ".join(goal_bits))
    moments = [
        _group_line(f"{name.capitalize()} (week)", card.week_by_engagement.get(name, Counts()))
        for name in (WARM, NEUTRAL, MISSED)
    ]
    cost_lines = [cost_sentence(card.costs[NEUTRAL], card.currency)]
    if not card.costs[MISSED].too_few and card.costs[MISSED].purchases > 0:
        cost_lines.append(cost_sentence(card.costs[MISSED], card.currency))
    if card.warning:
        cost_lines.append(card.warning)
    if card.top_no_sale is None:
        no_sale = "No no-sale reason was tapped this week."
    else:
        label, share = card.top_no_sale
        no_sale = (
            f"Top no-sale reason this week: {plain(label)},"
            f" {percent(share.value, 0)} of {share.n:,} "
            "no-purchase visits."
        )
    today = (
        f"Today's focus: {plain(card.focus_today['name'])}"
        if card.focus_today
        else "Today's focus: not picked yet (Settings → Coaching)."
    )
    return [
        Section("The numbers", numbers),
        Section("Conversion by first engagement (this week)", moments),
        Section("What neutral moments cost (this week)", cost_lines),
        Section("Why visits did not buy", [no_sale]),
        Section("Bright spot", [card.bright_spot]),
        Section("Focus", [card.focus_check, today]),
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
            r["id"]: r["name"]
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
    )
    card.sections.extend(_sections(card))
    return card


def title(card: HuddleCard) -> str:
    return f"Huddle · {plain(card.store_name)} · {localday.day_text(card.today, year=True)}"


def markdown(card: HuddleCard) -> str:
    """The card as Markdown: what `python -m cxlog huddle` prints and the page
    shows. Typed text (names, reasons) is escaped where it enters a line."""
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
        return TOO_FEW
    if c.purchases <= 0:
        return "none"
    low, high = c.purchases_interval
    return f"≈ {_whole(c.purchases)} ({_whole(low)} to {_whole(high)})"


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
