"""The dashboard's sections (pages/dashboard.py asks, caches and draws them):
the filters bar kept in the page address, every view of the moments, the
follow-ups and the team. Numbers come from cxlog.dashboard, cxlog.coaching
and cxlog.followups; this module only lays them out."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from cxlog.calendar import periods
from cxlog.coaching import coaching, goals
from cxlog.core.model import MIN_SAMPLE, entry_name
from cxlog.core.text import plain
from cxlog.dashboard import dashboard, filters
from cxlog.dashboard import takeaways as words
from cxlog.followups import followups
from cxlog.language import formats
from cxlog.language.words import N_, _, n_
from cxlog.numbers import figures
from cxlog.storage.db import Storage, open_storage
from cxlog.web import charts, ui

PERIOD, RANGE, STORE, ASSOCIATE, REASON_KEY = (
    "dash_period",
    "dash_range",
    "dash_store",
    "dash_associate",
    "dash_reason",
)
HEAT = "dash_heat"
NOTES = "dash_notes"  # sentences about URL values that were set aside
LAST = "dash_selection"  # survives a visit to another page in the same session
ALL = 0  # the "all" choice of a select box (ids start at 1; None would show as empty)
# The heat map's two measures: the key is the widget's value, the name is shown.
HEAT_MEASURES = {"visits": N_("Visits"), "conversion": N_("Conversion")}


@st.cache_data(ttl=600, max_entries=48, show_spinner=False)
def _followups(path: str, version: tuple, selection: dashboard.DashboardFilters, now):
    # Issue #15: cached like the dashboard, by the data version (every
    # follow-up change writes an audit row), so a filter change re-reads once.
    return followups.dashboard_numbers(open_storage(path), selection, now)


def one_or_all(label: str, key: str, names: dict[int, str], all_label: str) -> int | None:
    """A select box of "all" plus each name; a remembered choice that is no
    longer offered (another store picked) falls back to "all"."""
    if st.session_state.get(key) not in names:
        st.session_state[key] = ALL
    st.selectbox(label, [ALL, *names], format_func=lambda k: names[k] if k else all_label, key=key)
    return st.session_state[key] or None


def period_picker(
    today: date, key: str = PERIOD, range_key: str = RANGE
) -> tuple[str, date | None, date | None] | None:
    """The period bar (the dashboard's, and the chain's view's with keys of
    its own): (period, first, last day of a custom range), or None while a
    custom range lacks its last day."""
    st.segmented_control(
        _("Period"),
        list(periods.PERIODS),
        format_func=periods.name,
        required=True,
        key=key,
    )
    period = st.session_state[key] or periods.DEFAULT_PERIOD
    first = last = None
    if period == periods.CUSTOM:
        st.session_state.setdefault(range_key, (today - timedelta(days=13), today))
        picked = st.date_input(_("Days (first and last)"), max_value=today, key=range_key)
        if isinstance(picked, tuple) and len(picked) == 2:
            first, last = picked
        else:
            st.caption(_("Pick the last day of the range too."))
            return None
    return period, first, last


def selection(
    stores: dict[int, dict],
    people: dict[int, dict],
    reasons: dict[int, dict],
    today: date,
    scope: tuple[int, ...] | None = None,
) -> dashboard.DashboardFilters | None:
    """The filters bar: the page address → the widgets (on a fresh page) →
    the selection → the address. None while a custom range lacks its last day.
    ``stores`` and ``people``: the signed-in account's (``scope``, issue #28)."""
    if PERIOD not in st.session_state:
        from_url, notes = filters.from_query(
            st.query_params.to_dict(),
            stores={k: s["name"] for k, s in stores.items()},
            associates={k: a["store_id"] for k, a in people.items()},
            reasons={k: entry_name(r["name"]) for k, r in reasons.items()},
            today=today,
        )
        if not any(k in st.query_params for k in filters.KEYS) and st.session_state.get(LAST):
            from_url = st.session_state[LAST]
        st.session_state[NOTES] = notes
        st.session_state[PERIOD] = from_url.period
        if from_url.period == periods.CUSTOM:
            st.session_state[RANGE] = (from_url.first, from_url.last)
        st.session_state[STORE] = from_url.store_id or ALL
        st.session_state[ASSOCIATE] = from_url.associate_id or ALL
        st.session_state[REASON_KEY] = from_url.reason_id or ALL

    for note in st.session_state.pop(NOTES, []):
        st.info(note, icon=":material/link_off:")

    picked = period_picker(today)
    if picked is None:
        return None
    period, first, last = picked

    left, middle, right = st.columns(3)
    with left:
        store_id = one_or_all(
            _("Store"), STORE, {k: s["name"] for k, s in stores.items()}, _("All stores")
        )
    staff = {k: a["name"] for k, a in people.items() if store_id in (None, a["store_id"])}
    with middle:
        associate_id = one_or_all(_("Associate"), ASSOCIATE, staff, _("Everyone"))
    with right:
        reason_id = one_or_all(
            _("Reason for visit"),
            REASON_KEY,
            {k: entry_name(r["name"]) for k, r in reasons.items()},
            _("All reasons"),
        )
    selection = dashboard.DashboardFilters(
        period=period,
        first=first,
        last=last,
        store_id=store_id,
        associate_id=associate_id,
        reason_id=reason_id,
        scope=scope,
    )
    st.session_state[LAST] = selection
    keep_in_address(selection)
    return selection


def keep_in_address(chosen: dashboard.DashboardFilters) -> None:
    """Write the chosen filters into the page's address (only what changed),
    so a refresh or a shared link shows the same view."""
    for key, value in filters.query_changes(st.query_params.to_dict(), chosen).items():
        if value is None:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = value


def moments(storage: Storage, dash, stores: dict[int, dict], store_id, currency, cov):
    """Every view of the moments, from first engagement to hour × weekday;
    returns the cost section (its team column goes in the team table)."""
    aims = goals.store_goals(storage, store_id) if store_id else goals.StoreGoals(0)
    span = dash.spans[store_id] if store_id else next(iter(dash.spans.values()))
    st.subheader(_("By first engagement"))
    st.markdown(words.engagement(dash.by_engagement))
    colours = [charts.ENGAGEMENT_COLOURS[g.key] for g in dash.by_engagement]
    st.plotly_chart(
        charts.moment_bars(dash.by_engagement, colours, aims.conversion, aims.units_per_sale),
        key="chart-engagement",
    )
    st.caption(
        (
            _(
                "Conversion ({ci} interval) and units per sale for warm, neutral and missed first "
                "engagements; n under each bar, ◇ the previous period; dashed: the store's goal."
            )
            if aims.conversion or aims.units_per_sale
            else _(
                "Conversion ({ci} interval) and units per sale for warm, neutral and missed first "
                "engagements; n under each bar, ◇ the previous period."
            )
        ).format(ci=formats.confidence())
    )

    # Issue #14: what neutral and missed moments cost, per store and (below) per associate.
    span_days = (span.first_day, span.last_day)
    cost = coaching.cost_section(
        {g.key: g.counts for g in dash.by_engagement},
        dash.engagement_by_store,
        dash.engagement_by_associate,
        currency,
        coaching.coverage_note(
            storage,
            tuple(dash.spans),
            *span_days,
            built=None
            if cov is None
            else ({k: (s.start, s.end) for k, s in dash.spans.items()}, cov),
        ),
    )
    st.subheader(_("What neutral and missed moments cost"))
    for name in ("neutral", "missed"):
        st.markdown(coaching.cost_sentence(cost.selection[name], currency))
    codes = goals.currencies(storage)  # once: a chain's hundred stores read it once
    for sid, per_store in cost.by_store.items():
        st.markdown(
            f"**{plain(stores[sid]['name'])}**: "
            f"{coaching.cost_sentence(per_store['neutral'], codes.get(sid))}"
        )
    if cost.warning:
        st.warning(cost.warning, icon=":material/sensors_off:")
    st.caption(
        _(
            "Associated with, not a promise: visits that start neutral may differ in other ways. "
            "Extra purchases = closed neutral (missed) visits × the conversion gap to warm, {ci} "
            "interval by Newcombe's method; units at the warm units per sale, revenue at the warm "
            "average sale. Method: docs/cost-of-neutral.md."
        ).format(ci=formats.confidence())
    )

    st.subheader(_("By connection depth"))
    st.markdown(words.depth(dash.by_depth))
    st.plotly_chart(charts.moment_bars(dash.by_depth, charts.DEPTH_COLOURS), key="chart-depth")
    st.caption(
        _(
            "Depth 0–3 counts a warm welcome, a learned reason and a recommendation; "
            "conversion ({ci} interval) and units per sale per depth."
        ).format(ci=formats.confidence())
    )

    st.subheader(_("By reason for visit"))
    st.markdown(words.reasons(dash.by_reason))
    st.plotly_chart(charts.reason_bars(dash.by_reason), key="chart-reason")
    st.caption(_("Conversion per reason for visit, best first; reasons with too few visits last."))

    st.subheader(_("Top no-sale reasons"))
    st.markdown(words.no_sale(dash.no_sale))
    if dash.no_sale:
        st.plotly_chart(charts.no_sale_bars(dash.no_sale), key="chart-no-sale")
        st.caption(
            _("Share of no-purchase visits per no-sale reason ({ci} interval).").format(
                ci=formats.confidence()
            )
        )

    st.subheader(_("Weekly trend"))
    st.markdown(words.trend(dash.trend))
    st.plotly_chart(charts.trend_lines(dash.trend, aims.conversion), key="chart-trend")
    st.caption(
        _(
            "Conversion per week (Monday first) for each first engagement, at least the last "
            "{n} weeks; a gap is a week with too few visits."
        ).format(n=periods.TREND_WEEKS)
    )

    st.subheader(_("Hour × weekday"))
    st.markdown(words.heat(dash.heat))
    measure = st.segmented_control(
        _("Show"),
        ["visits", "conversion"],
        format_func=lambda m: _(HEAT_MEASURES[m]),
        default="visits",
        required=True,
        key=HEAT,
    )
    st.plotly_chart(charts.heatmap(dash.heat, measure or "visits"), key="chart-heat")
    st.caption(
        _(
            "Visits or conversion per hour and weekday in each store's local time; "
            "blank conversion cells have too few visits."
        )
    )

    return cost


def follow_ups(storage: Storage, chosen, store_id, now):
    """Issue #15's section, from cxlog.followups.followups; None (and
    nothing drawn) where the selection has no follow-ups."""
    follow = ui.attempt(
        "dashboard-followups",
        lambda: _followups(storage.address, dashboard.data_version(storage), chosen, now),
    )
    ui.show_error("dashboard-followups")
    if follow is not None and not follow.any:
        follow = None  # a store that does not use follow-ups sees no empty tiles
    if follow is not None:
        st.subheader(_("Follow-ups"))
        for column, (label, value, caption) in zip(
            st.columns(3), followups.tiles(follow), strict=True
        ):
            with column, st.container(border=True):
                st.metric(label, value)
                st.caption(caption)
        numbers = {
            "rate": figures.percent(follow.conversion.value, 0),
            "interval": figures.interval(follow.conversion),
            "n": formats.number(follow.due),
        }
        if store_id:
            days = followups.window_days(storage, store_id)
            sentence = n_(
                "Follow-up conversion: **{rate}** ({interval}, n = {n}) of the follow-ups due "
                "in this period came back and bought within {days} day of the promise.",
                "Follow-up conversion: **{rate}** ({interval}, n = {n}) of the follow-ups due "
                "in this period came back and bought within {days} days of the promise.",
                days,
            ).format(**numbers, days=formats.number(days))
        else:
            sentence = _(
                "Follow-up conversion: **{rate}** ({interval}, n = {n}) of the follow-ups due "
                "in this period came back and bought within each store's window of the promise."
            ).format(**numbers)
        st.markdown(sentence)
        st.table(followups.rate_rows(follow), hide_index=True, border="horizontal")

    return follow


def team(dash, cost, follow) -> None:
    totals = dash.totals
    st.subheader(_("Team"))
    st.markdown(words.team(dash.team))
    team_table = words.team_table(
        dash.team,
        totals,
        dash.previous,
        with_store=len(dash.spans) > 1,
        neutral_costs=None if totals.too_few else cost.team_column,
    )
    if follow is not None:  # issue #15: follow-ups each associate closed in the period
        team_table[_("Follow-ups done")] = [
            sum(follow.done_by.get(r.associate_id, 0) for r in dash.team),
            *(follow.done_by.get(r.associate_id, 0) for r in dash.team),
        ]
    # A static table: every row and column visible on a tablet, nothing to scroll.
    st.table(team_table, hide_index=True, border="horizontal")
    if totals.too_few:
        caption = _(
            "Team totals first, then associates ranked by conversion; those with fewer than "
            '{need} closed visits are listed but not ranked. "vs previous" is the change '
            "in conversion in points against the previous period."
        )
    else:
        caption = _(
            "Team totals first, then associates ranked by conversion; those with fewer than "
            '{need} closed visits are listed but not ranked. "vs previous" is the change '
            "in conversion in points against the previous period. Neutral cost: extra "
            "purchases associated with each one's neutral first engagements had they "
            "converted like their warm ones ({ci} interval)."
        )
    st.caption(caption.format(need=MIN_SAMPLE, ci=formats.confidence()))
