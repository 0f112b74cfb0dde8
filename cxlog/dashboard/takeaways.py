"""Numbers in words for the dashboard: formats and the one-line takeaways
above each chart (issue #5). Every sentence is computed from the groups it
describes, honest about small samples; none is canned."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cxlog.calendar import localday
from cxlog.core.model import MIN_SAMPLE
from cxlog.core.money import money
from cxlog.core.text import plain
from cxlog.dashboard.dashboard import NO_SALE_NONE, WEEKDAYS, Group, TeamRow
from cxlog.numbers.figures import TOO_FEW, interval, percent, ups
from cxlog.numbers.metrics import Counts, Rate


def rate_text(counts: Counts, digits: int = 1) -> str:
    """A group's conversion in words: the value, or too few visits."""
    return TOO_FEW if counts.too_few else percent(counts.conversion.value, digits)


def _points(a: float, b: float) -> int:
    return round(100 * (a - b))


def _overlap(a: Rate, b: Rate) -> bool:
    (a_low, a_high), (b_low, b_high) = a.interval, b.interval
    return a_low <= b_high and b_low <= a_high


def compare(a: Counts, b: Counts, a_name: str, b_name: str) -> str:
    """ "Warm first engagements converted 21 points better than neutral ones and
    sold 0.4 more units per sale, 540 vs 610 closed visits." """
    if a.too_few or b.too_few:
        return (
            f"Too few visits to compare {a_name.lower()} with {b_name} yet: "
            f"{a.closed:,} vs {b.closed:,} closed visits ({MIN_SAMPLE} each needed)."
        )
    gap = _points(a.conversion.value, b.conversion.value)
    if gap == 0:
        verdict = f"converted about as well as {b_name}"
    else:
        word = "better" if gap > 0 else "worse"
        verdict = f"converted {abs(gap)} point{'s' if abs(gap) != 1 else ''} {word} than {b_name}"
    if a.units_per_sale is not None and b.units_per_sale is not None:
        more = round(a.units_per_sale - b.units_per_sale, 1)
        if more:
            verdict += f" and sold {abs(more):.1f} {'more' if more > 0 else 'fewer'} units per sale"
        else:
            verdict += " and sold as many units per sale"
    sentence = f"{a_name} {verdict}, {a.closed:,} vs {b.closed:,} closed visits"
    if gap and _overlap(a.conversion, b.conversion):
        sentence += "; at these numbers the gap could still be chance"
    return sentence + "."


def engagement(groups: list[Group]) -> str:
    by = {g.key: g.counts for g in groups}
    warm, neutral, missed = by["warm"], by["neutral"], by["missed"]
    if warm.too_few and not (neutral.too_few or missed.too_few):
        return compare(neutral, missed, "Neutral first engagements", "missed ones")
    return compare(warm, neutral, "Warm first engagements", "neutral ones")


def depth(groups: list[Group]) -> str:
    enough = [g for g in groups if not g.counts.too_few]
    if len(enough) < 2:
        return (
            f"Too few visits to compare connection depths yet: each depth needs "
            f"{MIN_SAMPLE} closed visits, and {len(enough)} of 4 has that many."
        )
    deep, shallow = enough[-1], enough[0]
    return compare(
        deep.counts,
        shallow.counts,
        f"Visits at connection depth {deep.key}",
        f"those at depth {shallow.key}",
    )


def reasons(groups: list[Group]) -> str:
    """``groups`` ranked best first (dashboard.ranked)."""
    enough = [g for g in groups if not g.counts.too_few]
    if not enough:
        return f"Too few visits per reason to compare yet ({MIN_SAMPLE} closed visits each)."
    best = enough[0]
    text = (
        f"{plain(best.label)} visits converted best: {percent(best.counts.conversion.value, 0)} "
        f"of {best.counts.closed:,} closed visits"
    )
    if len(enough) > 1:
        worst = enough[-1]
        text += (
            f"; {plain(worst.label)} converted least: {percent(worst.counts.conversion.value, 0)} "
            f"of {worst.counts.closed:,}"
        )
    return text + "."


def no_sale(rows: list[tuple[str, Rate]]) -> str:
    named = [(label, share) for label, share in rows if label != NO_SALE_NONE]
    if not rows:
        return "No visit ended without a purchase in this period."
    if not named:
        return f"No no-sale reason was tapped on the {rows[0][1].n:,} no-purchase visits."
    label, share = named[0]
    return (
        f"{plain(label)} was the most common no-sale reason: {percent(share.value, 0)} "
        f"of {share.n:,} no-purchase visits."
    )


def heat(cells: pd.DataFrame) -> str:
    visits = cells["counts"].map(lambda c: c.visits)
    if not visits.sum():
        return "No visits in this period yet."
    busiest = cells.loc[visits.idxmax()]
    return (
        f"Busiest hour: {WEEKDAYS[busiest['weekday']]} "
        f"{busiest['hour']:02d}:00–{busiest['hour'] + 1:02d}:00, "
        f"{busiest['counts'].visits:,} visits in this period."
    )


def trend(points: pd.DataFrame) -> str:
    """The latest week that has enough visits for at least one moment quality
    (the current week is often still too young)."""
    if points.empty:
        return "No visits in these weeks yet."
    for week in sorted(set(points["week"]), reverse=True):
        latest = points[points["week"] == week]
        if any(not c.too_few for c in latest["counts"]):
            parts = [f"{r.engagement} {rate_text(r.counts, 0)}" for r in latest.itertuples()]
            return f"Week of {localday.day_text(week, weekday=False)}: " + ", ".join(parts) + "."
    return f"Too few visits in any week to draw a trend yet ({MIN_SAMPLE} closed visits each)."


def team(rows: list[TeamRow]) -> str:
    ranked = [r for r in rows if r.rank is not None]
    if not rows:
        return "No associates in this selection."
    if not ranked:
        return (
            f"No associate has {MIN_SAMPLE} closed visits in this period yet, so nobody is ranked."
        )
    lead = ranked[0]
    return (
        f"{len(ranked)} of {len(rows)} associates have enough closed visits to rank; "
        f"{plain(lead.name)} leads with {percent(lead.counts.conversion.value, 0)} conversion "
        f"over {lead.counts.closed:,} closed visits."
    )


# --- KPI tiles and the team table ---------------------------------------------


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    delta: str | None  # against the previous period; None when not comparable
    caption: str  # n and interval, or why there is no number
    delta_color: str = "normal"


def _signed(value: float, digits: int) -> str:
    """ "+1.20" / "-0.30"; a change that rounds to nothing is "+0.00", never "-0.00"."""
    return f"{round(value, digits) + 0.0:+,.{digits}f}"


def _pts(now: Rate, before: Rate) -> str:
    return f"{_signed(100 * (now.value - before.value), 1)} pts"


def _signed_money(value: float, currency: str | None) -> str:
    return ("-" if round(value, 2) < 0 else "+") + money(abs(value), currency)


def tiles(totals: Counts, previous: Counts, currency: str | None = None) -> list[Tile]:
    """Visits, conversion, UPS, average sale, warm rate and open visits."""
    had = previous.visits > 0
    both = not totals.too_few and not previous.too_few
    conv, warm = totals.conversion, totals.warm_rate
    few_warm = totals.visits < MIN_SAMPLE
    return [
        Tile(
            "Visits",
            f"{totals.visits:,}",
            f"{totals.visits - previous.visits:+,}" if had else None,
            f"previous period {previous.visits:,}",
        ),
        Tile(
            "Conversion",
            "—" if totals.too_few else percent(conv.value),
            _pts(conv, previous.conversion) if both else None,
            f"{TOO_FEW} · n = {conv.n:,} closed"
            if totals.too_few
            else f"n = {conv.n:,} closed · 95% {interval(conv)}",
        ),
        Tile(
            "Units per sale",
            "—" if totals.too_few else ups(totals.units_per_sale),
            _signed(totals.units_per_sale - previous.units_per_sale, 2)
            if both and totals.purchased and previous.purchased
            else None,
            (f"{TOO_FEW} · " if totals.too_few else "") + f"n = {totals.purchased:,} sales",
        ),
        Tile(
            "Average sale",
            "—" if totals.too_few else money(totals.average_sale, currency),
            _signed_money(totals.average_sale - previous.average_sale, currency)
            if both and totals.with_amount and previous.with_amount
            else None,
            (f"{TOO_FEW} · " if totals.too_few else "")
            + f"n = {totals.with_amount:,} sales with an amount",
        ),
        Tile(
            "Warm rate",
            "—" if few_warm else percent(warm.value),
            _pts(warm, previous.warm_rate)
            if not few_warm and previous.visits >= MIN_SAMPLE
            else None,
            f"{TOO_FEW} · n = {warm.n:,} visits"
            if few_warm
            else f"n = {warm.n:,} visits · 95% {interval(warm)}",
        ),
        Tile(
            "Open visits",
            f"{totals.open:,}",
            f"{totals.open - previous.open:+,}" if had else None,
            "not closed yet: in visits and warm rate only",
            delta_color="off",
        ),
    ]


TEAM_COLUMNS = (
    "#",
    "Associate",
    "Store",
    "Visits",
    "Warm rate",
    "Conversion (95%)",
    "n closed",
    "UPS",
    "vs previous",
)


def _team_row(rank: str, name: str, store: str, now: Counts, before: Counts) -> list[str]:
    few = now.too_few
    return [
        rank,
        name,
        store,
        f"{now.visits:,}",
        TOO_FEW if few else percent(now.warm_rate.value),
        TOO_FEW if few else f"{percent(now.conversion.value)} ({interval(now.conversion)})",
        f"{now.closed:,}",
        "—" if few or not now.purchased else ups(now.units_per_sale),
        "—" if few or before.too_few else _pts(now.conversion, before.conversion),
    ]


NEUTRAL_COST = "Neutral cost (purchases)"


def team_table(
    rows: list[TeamRow],
    totals: Counts,
    previous: Counts,
    *,
    with_store: bool = True,
    neutral_costs: dict[object, str] | None = None,
) -> pd.DataFrame:
    """Team totals first, then associates ranked by conversion, then the
    associates with too few visits (listed, not ranked). With
    ``neutral_costs`` ({"team" or associate id: text}, issue #14) a column
    says what each one's neutral first engagements cost."""
    body = [_team_row("", "Team", "", totals, previous)]
    for r in rows:
        # st.table reads cells as Markdown: typed names are escaped (#11).
        name = plain(r.name) if r.active else f"{plain(r.name)} (inactive)"
        rank = "—" if r.rank is None else str(r.rank)
        body.append(_team_row(rank, name, plain(r.store), r.counts, r.previous))
    table = pd.DataFrame(body, columns=list(TEAM_COLUMNS))
    if neutral_costs is not None:
        keys = ["team", *(r.associate_id for r in rows)]
        table[NEUTRAL_COST] = [neutral_costs.get(k, TOO_FEW) for k in keys]
    return table if with_store else table.drop(columns="Store")
