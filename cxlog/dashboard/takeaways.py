"""Numbers in words for the dashboard: formats and the one-line takeaways
above each chart (issue #5). Every sentence is computed from the groups it
describes, honest about small samples; none is canned. Written in the
reader's language (cxlog.language): whole sentences with named placeholders,
numbers through cxlog.language.formats."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cxlog.calendar import localday
from cxlog.core.model import MIN_SAMPLE
from cxlog.core.money import money
from cxlog.core.text import plain
from cxlog.dashboard.dashboard import NO_SALE_NONE, Group, TeamRow
from cxlog.language import formats
from cxlog.language.words import N_, _, n_
from cxlog.numbers.figures import TOO_FEW, decimal, interval, percent, ups
from cxlog.numbers.metrics import Counts, Rate


def rate_text(counts: Counts, digits: int = 1) -> str:
    """A group's conversion in words: the value, or too few visits."""
    return _(TOO_FEW) if counts.too_few else percent(counts.conversion.value, digits)


def _points(a: float, b: float) -> int:
    return round(100 * (a - b))


def _overlap(a: Rate, b: Rate) -> bool:
    (a_low, a_high), (b_low, b_high) = a.interval, b.interval
    return a_low <= b_high and b_low <= a_high


def compare(a: Counts, b: Counts, a_name: str, b_name: str, too_few: str, **fields: object) -> str:
    """ "Warm first engagements converted 21 points better than neutral ones and
    sold 0.4 more units per sale, 540 vs 610 closed visits." ``a_name`` and
    ``b_name`` are translated already; ``too_few`` is the translated sentence
    for too small a sample, with {a} and {b} (their closed visits), {need}
    and any ``fields``."""
    closed = {"a": formats.number(a.closed), "b": formats.number(b.closed)}
    if a.too_few or b.too_few:
        return too_few.format(**closed, need=MIN_SAMPLE, **fields)
    gap = _points(a.conversion.value, b.conversion.value)
    if gap == 0:
        clause = _("{group} converted about as well as {other}")
    elif gap > 0:
        clause = n_(
            "{group} converted {n} point better than {other}",
            "{group} converted {n} points better than {other}",
            abs(gap),
        )
    else:
        clause = n_(
            "{group} converted {n} point worse than {other}",
            "{group} converted {n} points worse than {other}",
            abs(gap),
        )
    clause = clause.format(group=a_name, other=b_name, n=formats.number(abs(gap)))
    if a.units_per_sale is not None and b.units_per_sale is not None:
        more = round(a.units_per_sale - b.units_per_sale, 1)
        if more > 0:
            units = _("{clause} and sold {n} more units per sale")
        elif more < 0:
            units = _("{clause} and sold {n} fewer units per sale")
        else:
            units = _("{clause} and sold as many units per sale")
        clause = units.format(clause=clause, n=decimal(abs(more), 1))
    if gap and _overlap(a.conversion, b.conversion):
        sentence = _(
            "{clause}, {a} vs {b} closed visits; at these numbers the gap could still be chance."
        )
    else:
        sentence = _("{clause}, {a} vs {b} closed visits.")
    return sentence.format(clause=clause, **closed)


def engagement(groups: list[Group]) -> str:
    by = {g.key: g.counts for g in groups}
    warm, neutral, missed = by["warm"], by["neutral"], by["missed"]
    if warm.too_few and not (neutral.too_few or missed.too_few):
        return compare(
            neutral,
            missed,
            _("Neutral first engagements"),
            _("missed ones"),
            _(
                "Too few visits to compare neutral first engagements with missed ones yet: "
                "{a} vs {b} closed visits ({need} each needed)."
            ),
        )
    return compare(
        warm,
        neutral,
        _("Warm first engagements"),
        _("neutral ones"),
        _(
            "Too few visits to compare warm first engagements with neutral ones yet: "
            "{a} vs {b} closed visits ({need} each needed)."
        ),
    )


def depth(groups: list[Group]) -> str:
    enough = [g for g in groups if not g.counts.too_few]
    if len(enough) < 2:
        return _(
            "Too few visits to compare connection depths yet: each depth needs "
            "{need} closed visits, and {n} of 4 has that many."
        ).format(need=MIN_SAMPLE, n=len(enough))
    deep, shallow = enough[-1], enough[0]
    return compare(
        deep.counts,
        shallow.counts,
        _("Visits at connection depth {d}").format(d=deep.key),
        _("those at depth {d}").format(d=shallow.key),
        _(
            "Too few visits to compare connection depth {deep} with depth {shallow} yet: "
            "{a} vs {b} closed visits ({need} each needed)."
        ),
        deep=deep.key,
        shallow=shallow.key,
    )


def reasons(groups: list[Group]) -> str:
    """``groups`` ranked best first (dashboard.ranked)."""
    enough = [g for g in groups if not g.counts.too_few]
    if not enough:
        return _("Too few visits per reason to compare yet ({need} closed visits each).").format(
            need=MIN_SAMPLE
        )
    best = enough[0]
    values = {
        "best": plain(best.label),
        "rate": percent(best.counts.conversion.value, 0),
        "n": formats.number(best.counts.closed),
    }
    if len(enough) == 1:
        return _("{best} visits converted best: {rate} of {n} closed visits.").format(**values)
    worst = enough[-1]
    return _(
        "{best} visits converted best: {rate} of {n} closed visits; "
        "{worst} converted least: {worst_rate} of {worst_n}."
    ).format(
        **values,
        worst=plain(worst.label),
        worst_rate=percent(worst.counts.conversion.value, 0),
        worst_n=formats.number(worst.counts.closed),
    )


def no_sale(rows: list[tuple[str, Rate]]) -> str:
    none = _(NO_SALE_NONE)  # the dashboard's label, in the same language
    named = [(label, share) for label, share in rows if label != none]
    if not rows:
        return _("No visit ended without a purchase in this period.")
    if not named:
        return _("No no-sale reason was tapped on the {n} no-purchase visits.").format(
            n=formats.number(rows[0][1].n)
        )
    label, share = named[0]
    return _(
        "{reason} was the most common no-sale reason: {rate} of {n} no-purchase visits."
    ).format(reason=plain(label), rate=percent(share.value, 0), n=formats.number(share.n))


def heat(cells: pd.DataFrame) -> str:
    visits = cells["counts"].map(lambda c: c.visits)
    if not visits.sum():
        return _("No visits in this period yet.")
    busiest = cells.loc[visits.idxmax()]
    hour = int(busiest["hour"])
    return _("Busiest hour: {weekday} {start}–{end}, {n} visits in this period.").format(
        weekday=formats.weekday(int(busiest["weekday"])),
        start=f"{hour:02d}:00",
        end=f"{hour + 1:02d}:00",
        n=formats.number(busiest["counts"].visits),
    )


# Each first engagement's rate in the trend's sentence, by its key.
_TREND_PARTS = {
    "warm": N_("warm {rate}"),
    "neutral": N_("neutral {rate}"),
    "missed": N_("missed {rate}"),
}


def trend(points: pd.DataFrame) -> str:
    """The latest week that has enough visits for at least one moment quality
    (the current week is often still too young)."""
    if points.empty:
        return _("No visits in these weeks yet.")
    for week in sorted(set(points["week"]), reverse=True):
        latest = points[points["week"] == week]
        if any(not c.too_few for c in latest["counts"]):
            parts = [
                _(_TREND_PARTS[r.engagement]).format(rate=rate_text(r.counts, 0))
                for r in latest.itertuples()
            ]
            return _("Week of {day}: {rates}.").format(
                day=localday.day_text(week, weekday=False), rates=", ".join(parts)
            )
    return _("Too few visits in any week to draw a trend yet ({need} closed visits each).").format(
        need=MIN_SAMPLE
    )


def team(rows: list[TeamRow]) -> str:
    ranked = [r for r in rows if r.rank is not None]
    if not rows:
        return _("No associates in this selection.")
    if not ranked:
        return _(
            "No associate has {need} closed visits in this period yet, so nobody is ranked."
        ).format(need=MIN_SAMPLE)
    return _(
        "{ranked} of {n} associates have enough closed visits to rank; "
        "{name} leads with {rate} conversion over {closed} closed visits."
    ).format(**leader(ranked, rows))


def leader(ranked: list, rows: list) -> dict[str, str]:
    """The placeholders of a "who leads" sentence (associates here, stores on
    the Stores page): ``ranked``'s first leads; rows have a name and counts."""
    lead = ranked[0]
    return {
        "ranked": formats.number(len(ranked)),
        "n": formats.number(len(rows)),
        "name": plain(lead.name),
        "rate": percent(lead.counts.conversion.value, 0),
        "closed": formats.number(lead.counts.closed),
    }


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
    rounded = round(value, digits) + 0.0
    return ("-" if rounded < 0 else "+") + decimal(abs(rounded), digits)


def _signed_count(value: int) -> str:
    """ "+30" / "-5" / "+0"."""
    return ("-" if value < 0 else "+") + formats.number(abs(value))


def _pts(now: Rate, before: Rate) -> str:
    return _("{points} pts").format(points=_signed(100 * (now.value - before.value), 1))


def _signed_money(value: float, currency: str | None) -> str:
    return ("-" if round(value, 2) < 0 else "+") + money(abs(value), currency)


def _few(caption: str, few: bool) -> str:
    """A tile's caption, led by "too few visits" when the sample is too small."""
    return f"{_(TOO_FEW)} · {caption}" if few else caption


def tiles(totals: Counts, previous: Counts, currency: str | None = None) -> list[Tile]:
    """Visits, conversion, UPS, average sale, warm rate and open visits."""
    had = previous.visits > 0
    both = not totals.too_few and not previous.too_few
    conv, warm = totals.conversion, totals.warm_rate
    few_warm = totals.visits < MIN_SAMPLE
    return [
        Tile(
            _("Visits"),
            formats.number(totals.visits),
            _signed_count(totals.visits - previous.visits) if had else None,
            _("previous period {n}").format(n=formats.number(previous.visits)),
        ),
        Tile(
            _("Conversion"),
            "—" if totals.too_few else percent(conv.value),
            _pts(conv, previous.conversion) if both else None,
            _few(_("n = {n} closed").format(n=formats.number(conv.n)), True)
            if totals.too_few
            else _("n = {n} closed · {ci} {interval}").format(
                n=formats.number(conv.n), ci=formats.confidence(), interval=interval(conv)
            ),
        ),
        Tile(
            _("Units per sale"),
            "—" if totals.too_few else ups(totals.units_per_sale),
            _signed(totals.units_per_sale - previous.units_per_sale, 2)
            if both and totals.purchased and previous.purchased
            else None,
            _few(_("n = {n} sales").format(n=formats.number(totals.purchased)), totals.too_few),
        ),
        Tile(
            _("Average sale"),
            "—" if totals.too_few else money(totals.average_sale, currency),
            _signed_money(totals.average_sale - previous.average_sale, currency)
            if both and totals.with_amount and previous.with_amount
            else None,
            _few(
                _("n = {n} sales with an amount").format(n=formats.number(totals.with_amount)),
                totals.too_few,
            ),
        ),
        Tile(
            _("Warm rate"),
            "—" if few_warm else percent(warm.value),
            _pts(warm, previous.warm_rate)
            if not few_warm and previous.visits >= MIN_SAMPLE
            else None,
            _few(_("n = {n} visits").format(n=formats.number(warm.n)), True)
            if few_warm
            else _("n = {n} visits · {ci} {interval}").format(
                n=formats.number(warm.n), ci=formats.confidence(), interval=interval(warm)
            ),
        ),
        Tile(
            _("Open visits"),
            formats.number(totals.open),
            _signed_count(totals.open - previous.open) if had else None,
            _("not closed yet: in visits and warm rate only"),
            delta_color="off",
        ),
    ]


# The team table's columns (shown through ``_``; "#" is a sign, not a word).
TEAM_COLUMNS = (
    "#",
    N_("Associate"),
    N_("Store"),
    N_("Visits"),
    N_("Warm rate"),
    N_("Conversion ({ci})"),
    N_("n closed"),
    N_("UPS"),
    N_("vs previous"),
)


def _column(name: str) -> str:
    return name if name == "#" else _(name).format(ci=formats.confidence())


def _team_row(rank: str, name: str, store: str, now: Counts, before: Counts) -> list[str]:
    few = now.too_few
    too_few = _(TOO_FEW)
    return [
        rank,
        name,
        store,
        formats.number(now.visits),
        too_few if few else percent(now.warm_rate.value),
        too_few if few else f"{percent(now.conversion.value)} ({interval(now.conversion)})",
        formats.number(now.closed),
        "—" if few or not now.purchased else ups(now.units_per_sale),
        "—" if few or before.too_few else _pts(now.conversion, before.conversion),
    ]


NEUTRAL_COST = N_("Neutral cost (purchases)")


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
    says what each one's neutral first engagements cost. The columns are
    named in the reader's language (a table for people, never a CSV)."""
    body = [_team_row("", _("Team"), "", totals, previous)]
    for r in rows:
        # st.table reads cells as Markdown: typed names are escaped (#11).
        name = plain(r.name) if r.active else _("{name} (inactive)").format(name=plain(r.name))
        rank = "—" if r.rank is None else str(r.rank)
        body.append(_team_row(rank, name, plain(r.store), r.counts, r.previous))
    table = pd.DataFrame(body, columns=[_column(c) for c in TEAM_COLUMNS])
    if neutral_costs is not None:
        keys = ["team", *(r.associate_id for r in rows)]
        table[_(NEUTRAL_COST)] = [neutral_costs.get(k, _(TOO_FEW)) for k in keys]
    return table if with_store else table.drop(columns=_("Store"))
