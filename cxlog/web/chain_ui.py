"""The chain's view drawn (issue #28; pages/chain.py asks, caches and draws):
its period bar kept in the page address like the dashboard's, and the
stores' table — numbers as numbers, so each column sorts; each rate's n and
95% interval beside it; the store's name a link to its own dashboard. The
numbers come from cxlog.coaching.chain; this module only lays them out."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from cxlog.calendar import periods
from cxlog.coaching.chain import ChainView, StoreRow
from cxlog.core.model import MIN_SAMPLE
from cxlog.dashboard import filters, takeaways
from cxlog.dashboard.dashboard import DashboardFilters
from cxlog.language import formats
from cxlog.language.words import N_, _
from cxlog.numbers.figures import TOO_FEW, decimal, interval, percent
from cxlog.web import dashboard_ui

PERIOD, RANGE = "chain_period", "chain_range"
LAST = "chain_selection"  # survives a visit to another page in the same session
# The dashboard's address (its page file's name, pages/dashboard.py): relative,
# so it holds under any base path the server is given.
DASHBOARD = "dashboard"
# The link's cell shows the store's name, carried first in the link (so the
# column sorts by name); the dashboard takes it out of its address.
NAME_IN_LINK = r"^dashboard\?name=([^&]*)"
NO_COUNTER = N_("no counter data")

# The table's columns: keys of its data (shown through column_config's labels).
COLUMNS = (
    "#",
    "Store",
    "Conversion",
    "Conversion 95%",
    "Closed visits",
    "Units per sale",
    "Sales",
    "Warm rate",
    "Warm rate 95%",
    "Visits",
    "Coverage",
    "Coverage 95%",
    "Visitors",
    "Neutral cost",
    "Neutral cost 95%",
    "Neutral visits",
)
# Issue #30: shown when a store of the view has time to greet on.
GREET_COLUMNS = (
    "On time",
    "On time 95%",
    "Arrivals",
    "Median time to greet",
    "Left before greeting",
)


def selection(today: date, scope: tuple[int, ...] | None) -> DashboardFilters | None:
    """The period bar: the page address (period, from, to) → the widgets on a
    fresh page → the selection → the address. None while a custom range
    lacks its last day. Any other value in the address (a store) is ignored:
    the view is every store of ``scope``, the account's."""
    if PERIOD not in st.session_state:
        params = st.query_params.to_dict()
        from_url, notes = filters.from_query(
            {k: v for k, v in params.items() if k in (filters.PERIOD, filters.FROM, filters.TO)},
            stores={},
            associates={},
            reasons={},
            today=today,
        )
        if not any(k in params for k in (filters.PERIOD, filters.FROM, filters.TO)):
            from_url = st.session_state.get(LAST) or from_url
        for note in notes:
            st.info(note, icon=":material/link_off:")
        st.session_state[PERIOD] = from_url.period
        if from_url.period == periods.CUSTOM:
            st.session_state[RANGE] = (from_url.first, from_url.last)
    picked = dashboard_ui.period_picker(today, PERIOD, RANGE)
    if picked is None:
        return None
    period, first, last = picked
    chosen = DashboardFilters(period=period, first=first, last=last, scope=scope)
    st.session_state[LAST] = chosen
    dashboard_ui.keep_in_address(chosen)
    return chosen


def link(row: StoreRow, chosen: DashboardFilters) -> str:
    """The store's own dashboard for the same period:
    ``dashboard?name=<its name>&period=…&store=<id>``."""
    query = {filters.NAME: row.name}
    query |= filters.to_query(
        DashboardFilters(period=chosen.period, first=chosen.first, last=chosen.last)
    )
    query[filters.STORE] = str(row.store_id)
    return f"{DASHBOARD}?{urlencode(query)}"


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _coverage_words(row: StoreRow) -> str:
    t = row.coverage
    if t is None:
        return _(NO_COUNTER)
    share = row.logged_share
    words = (
        interval(share)
        if share is not None
        else _("{n} logged, over 100%").format(n=formats.number(t.logged))
    )
    if row.low_coverage:
        words = _("{coverage} · under {threshold}").format(
            coverage=words, threshold=percent(row.coverage_threshold, 0)
        )
    return words


def _cost_words(row: StoreRow) -> str:
    c = row.neutral
    if c.too_few:
        return _(TOO_FEW)
    low, high = c.purchases_interval
    return _("{low} to {high}").format(low=decimal(low), high=decimal(high))


def table(view: ChainView) -> pd.DataFrame:
    """One row per store in the view's order (ranked first, then too few),
    columns as COLUMNS. Rates are percents (42.3), missing where the store
    has too few closed visits to show them."""
    body = []
    for r in view.rows:
        c, few = r.counts, r.too_few
        cov = r.coverage
        body.append(
            {
                "#": r.rank,
                "Store": link(r, view.selection),
                "Conversion": None if few else _pct(c.conversion.value),
                "Conversion 95%": _(TOO_FEW) if few else interval(c.conversion),
                "Closed visits": c.closed,
                "Units per sale": None
                if few or c.units_per_sale is None
                else round(c.units_per_sale, 2),
                "Sales": c.purchased,
                "Warm rate": None if few else _pct(c.warm_rate.value),
                "Warm rate 95%": _(TOO_FEW) if few else interval(c.warm_rate),
                "Visits": c.visits,
                "Coverage": None if cov is None else _pct(cov.coverage),
                "Coverage 95%": _coverage_words(r),
                "Visitors": None if cov is None else round(cov.visitors),
                "Neutral cost": None if r.neutral.too_few else round(r.neutral.purchases, 1),
                "Neutral cost 95%": _cost_words(r),
                "Neutral visits": r.neutral.closed,
            }
        )
    frame = pd.DataFrame(body, columns=list(COLUMNS))
    frame["#"] = frame["#"].astype("Int64")  # a whole number, or empty: not ranked
    if view.greets:
        greets = pd.DataFrame([_greet_cells(r) for r in view.rows], columns=list(GREET_COLUMNS))
        for column in ("Arrivals", "Median time to greet", "Left before greeting"):
            greets[column] = greets[column].astype("Int64")
        frame = pd.concat([frame, greets], axis=1)
    return frame


def _greet_cells(row: StoreRow) -> dict:
    """Time to greet's cells of a store (issue #30): empty ("—") where the
    store has it off; the on-time rate "too few visits" under MIN_SAMPLE
    arrivals; the median in seconds, a number so the column sorts."""
    g = row.greet
    if g is None:
        return dict.fromkeys(GREET_COLUMNS)
    rate, few = g.counts.on_time_rate, g.counts.arrivals < MIN_SAMPLE
    return {
        "On time": None if few else _pct(rate.value),
        "On time 95%": _(TOO_FEW) if few else interval(rate),
        "Arrivals": g.counts.arrivals,
        "Median time to greet": g.median,
        "Left before greeting": g.counts.left_before,
    }


def column_config() -> dict:
    """Each column's label and number format, in the reader's language (the
    numbers themselves stay numbers, so the columns sort)."""
    pct = "%.1f%%"
    return {
        "#": st.column_config.NumberColumn(
            "#",
            help=_("Rank by conversion; none under {need} closed visits").format(need=MIN_SAMPLE),
            width=40,
        ),
        "Store": st.column_config.LinkColumn(
            _("Store"), help=_("Opens the store's own dashboard"), display_text=NAME_IN_LINK
        ),
        "Conversion": st.column_config.NumberColumn(_("Conversion"), format=pct),
        "Conversion 95%": st.column_config.TextColumn("95%"),
        "Closed visits": st.column_config.NumberColumn(_("n closed"), format="%d"),
        "Units per sale": st.column_config.NumberColumn(_("Units per sale"), format="%.2f"),
        "Sales": st.column_config.NumberColumn(_("n sales"), format="%d"),
        "Warm rate": st.column_config.NumberColumn(_("Warm rate"), format=pct),
        "Warm rate 95%": st.column_config.TextColumn("95%"),
        "Visits": st.column_config.NumberColumn(_("n visits"), format="%d"),
        "Coverage": st.column_config.NumberColumn(_("Coverage"), format=pct),
        "Coverage 95%": st.column_config.TextColumn("95%"),
        "Visitors": st.column_config.NumberColumn(_("n visitors"), format="%d"),
        "Neutral cost": st.column_config.NumberColumn(
            _("Neutral cost"), help=_("Extra purchases had neutral visits converted like warm ones")
        ),
        "Neutral cost 95%": st.column_config.TextColumn("95%"),
        "Neutral visits": st.column_config.NumberColumn(_("n neutral"), format="%d"),
        "On time": st.column_config.NumberColumn(
            _("Greeted on time"), format=pct, help=_("Within the store's standard")
        ),
        "On time 95%": st.column_config.TextColumn("95%"),
        "Arrivals": st.column_config.NumberColumn(_("n arrivals"), format="%d"),
        "Median time to greet": st.column_config.NumberColumn(
            _("Median time to greet (seconds)"), format="%d"
        ),
        "Left before greeting": st.column_config.NumberColumn(
            _("Left before greeting"), format="%d"
        ),
    }


def sentence(view: ChainView) -> str:
    """Who leads, and how many stores can be ranked at all."""
    rows, ranked = view.rows, view.ranked
    if not ranked:
        return _(
            "None of the {n} stores has {need} closed visits in this period yet: "
            "none is ranked. Pick a longer period."
        ).format(n=formats.number(len(rows)), need=MIN_SAMPLE)
    return _(
        "{ranked} of {n} stores have enough closed visits to rank; "
        "{name} leads with {rate} conversion over {closed} closed visits."
    ).format(**takeaways.leader(ranked, rows))


def draw(view: ChainView) -> None:
    st.markdown(sentence(view))
    st.dataframe(
        table(view),
        column_config=column_config(),
        hide_index=True,
        width="stretch",
        # Up to 20 stores in sight at once; rows a finger can hit (48 px).
        height=48 * (min(len(view.rows), 20) + 1) + 2,
        row_height=48,
        placeholder="—",
        key="chain-table",
    )
    st.caption(
        _(
            "Tap a column's name to sort by it; tap a store's name to open its dashboard. "
            "Ranked by conversion; stores with fewer than {need} closed visits are listed "
            'last, marked "too few visits", and never ranked. Each rate has its n beside it and '
            "its {ci} Wilson interval; coverage is logged visits of the door counter's hours ÷ "
            "its visitors; neutral cost is the extra purchases the store's neutral first "
            "engagements are associated with had they converted like its warm ones (Newcombe's "
            "interval), shown when both have {need} closed visits. Units per sale has no "
            "interval (see docs/product.md)."
        ).format(need=MIN_SAMPLE, ci=formats.confidence())
    )
    if view.greets:
        st.caption(
            _(
                "Time to greet: greeted on time is the share of customers with an arrival tap "
                "greeted within the store's standard (one who left was not), with its {ci} "
                "interval, shown from {need} arrivals; the median is of the seconds from the "
                'arrival tap to the first engagement. "—": the store has time to greet off.'
            ).format(need=MIN_SAMPLE, ci=formats.confidence())
        )
