import streamlit as st

from cxlog.calendar import localday
from cxlog.core import roles
from cxlog.web import ui

ui.require_role(ui.storage(), roles.MANAGER)

# The manager's morning page (issue #5): filters that live in the URL, then
# every view of cxlog.dashboard.dashboard. The numbers come from cxlog; this page only
# asks, caches and draws.
from datetime import timedelta  # noqa: E402

from cxlog.calendar import periods  # noqa: E402
from cxlog.coaching import coaching, goals  # noqa: E402
from cxlog.core import money  # noqa: E402
from cxlog.core.model import MIN_SAMPLE, REASON, utc_now  # noqa: E402
from cxlog.core.text import plain  # noqa: E402
from cxlog.dashboard import dashboard, filters  # noqa: E402
from cxlog.dashboard import takeaways as words  # noqa: E402
from cxlog.followups import followups  # noqa: E402
from cxlog.storage.db import Storage  # noqa: E402
from cxlog.stores import catalog  # noqa: E402
from cxlog.web import charts  # noqa: E402

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


@st.cache_data(ttl=600, max_entries=48, show_spinner="Counting visits…")
def _build(
    path: str, version: tuple, selection: dashboard.DashboardFilters, now
) -> dashboard.Dashboard:
    # Keyed by the data version, so a cached answer is never stale; `now` is
    # rounded to the minute so reruns within a minute share it.
    return dashboard.build(Storage(path), selection, now)


@st.cache_data(ttl=600, max_entries=48, show_spinner=False)
def _followups(path: str, version: tuple, selection: dashboard.DashboardFilters, now):
    # Issue #15: cached like _build, by the data version (every follow-up
    # change writes an audit row), so a filter change re-reads only once.
    return followups.dashboard_numbers(Storage(path), selection, now)


storage = ui.storage()
st.title("Dashboard")
stores = {s["id"]: s for s in catalog.list_stores(storage)}
if not stores:
    st.info("Add your store in Settings first; its visits will show here.")
    st.stop()
people = {a["id"]: a for a in catalog.list_associates(storage)}
reasons = {r["id"]: r for r in catalog.list_reasons(storage, REASON, active_only=False)}
now = utc_now().replace(second=0, microsecond=0)
# The latest local today of the stores: the last day a custom range may pick.
today = max(localday.today(s["timezone"], now) for s in stores.values())

# --- filters: URL → widgets (on a fresh page) → selection → URL ----------------
if PERIOD not in st.session_state:
    from_url, notes = filters.from_query(
        st.query_params.to_dict(),
        stores={k: s["name"] for k, s in stores.items()},
        associates={k: a["store_id"] for k, a in people.items()},
        reasons={k: r["name"] for k, r in reasons.items()},
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

st.segmented_control(
    "Period",
    list(periods.PERIODS),
    format_func=periods.PERIODS.get,
    required=True,
    key=PERIOD,
)
period = st.session_state[PERIOD] or periods.DEFAULT_PERIOD
first = last = None
if period == periods.CUSTOM:
    st.session_state.setdefault(RANGE, (today - timedelta(days=13), today))
    picked = st.date_input("Days (first and last)", max_value=today, key=RANGE)
    if isinstance(picked, tuple) and len(picked) == 2:
        first, last = picked
    else:
        st.caption("Pick the last day of the range too.")
        st.stop()


def one_or_all(label: str, key: str, names: dict[int, str], all_label: str) -> int | None:
    """A select box of "all" plus each name; a remembered choice that is no
    longer offered (another store picked) falls back to "all"."""
    if st.session_state.get(key) not in names:
        st.session_state[key] = ALL
    st.selectbox(label, [ALL, *names], format_func=lambda k: names[k] if k else all_label, key=key)
    return st.session_state[key] or None


left, middle, right = st.columns(3)
with left:
    store_id = one_or_all("Store", STORE, {k: s["name"] for k, s in stores.items()}, "All stores")
staff = {k: a["name"] for k, a in people.items() if store_id in (None, a["store_id"])}
with middle:
    associate_id = one_or_all("Associate", ASSOCIATE, staff, "Everyone")
with right:
    reason_id = one_or_all(
        "Reason for visit", REASON_KEY, {k: r["name"] for k, r in reasons.items()}, "All reasons"
    )
selection = dashboard.DashboardFilters(
    period=period,
    first=first,
    last=last,
    store_id=store_id,
    associate_id=associate_id,
    reason_id=reason_id,
)
st.session_state[LAST] = selection
wanted = filters.to_query(selection)
for key in filters.KEYS:
    if key not in wanted:
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != wanted[key]:
        st.query_params[key] = wanted[key]

# --- the views ---------------------------------------------------------------------
dash = ui.attempt(
    "dashboard", lambda: _build(str(storage.path), dashboard.data_version(storage), selection, now)
)
ui.show_error("dashboard")
if dash is None:
    st.stop()

span = dash.spans[store_id] if store_id else next(iter(dash.spans.values()))
where = stores[store_id]["name"] if store_id else "all stores, each in its local time"
st.caption(
    f"{periods.PERIODS[period]}: {periods.describe(span.first_day, span.last_day)} · "
    f"{plain(where)} · compared with "
    f"{periods.describe(*periods.previous_days(span))} up to the same time of day"
)

# Issue #14: amounts in the selection's currency; one store's goals as lines.
currency = money.shared(
    c for k, c in goals.currencies(storage).items() if store_id in (None, k) and k in stores
)
aims = goals.store_goals(storage, store_id) if store_id else goals.StoreGoals(0)
totals = dash.totals
if totals.visits == 0:
    before = f" The previous period had {dash.previous.visits:,}." if dash.previous.visits else ""
    st.info(
        "No visits in this period yet." + before + " Associates log visits on the Log page; "
        "the numbers appear here as soon as they do. Try a longer period above.",
        icon=":material/info:",
    )
    st.stop()

tiles = words.tiles(totals, dash.previous, currency)
for row in (tiles[:3], tiles[3:]):
    for column, tile in zip(st.columns(3), row, strict=True):
        with column, st.container(border=True):
            st.metric(tile.label, tile.value, tile.delta, tile.delta_color)
            st.caption(tile.caption)

# Issue #13: door-counter coverage beside the moments; nothing without counter data.
from cxlog.web import coverage_ui  # noqa: E402

cov = coverage_ui.load(storage, dashboard.data_version(storage), dash)
coverage_ui.draw_tiles(cov, {k: s["name"] for k, s in stores.items()})

if totals.too_few:
    st.info(
        f"This selection has {totals.closed:,} closed visits. Conversion, units per sale "
        f"and the charts need at least {MIN_SAMPLE}, so that a number reflects the team "
        "rather than a lucky day. Keep logging, or pick a longer period or all stores.",
        icon=":material/hourglass_top:",
    )
else:
    st.subheader("By first engagement")
    st.markdown(words.engagement(dash.by_engagement))
    colours = [charts.ENGAGEMENT_COLOURS[g.key] for g in dash.by_engagement]
    st.plotly_chart(
        charts.moment_bars(dash.by_engagement, colours, aims.conversion, aims.units_per_sale),
        key="chart-engagement",
    )
    st.caption(
        "Conversion (95% interval) and units per sale for warm, neutral and missed first "
        "engagements; n under each bar, ◇ the previous period"
        + ("; dashed: the store's goal." if aims.conversion or aims.units_per_sale else ".")
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
    st.subheader("What neutral and missed moments cost")
    for name in ("neutral", "missed"):
        st.markdown(coaching.cost_sentence(cost.selection[name], currency))
    for sid, per_store in cost.by_store.items():
        st.markdown(
            f"**{plain(stores[sid]['name'])}**: "
            + coaching.cost_sentence(per_store["neutral"], goals.currencies(storage).get(sid))
        )
    if cost.warning:
        st.warning(cost.warning, icon=":material/sensors_off:")
    st.caption(
        "Associated with, not a promise: visits that start neutral may differ in other ways. "
        "Extra purchases = closed neutral (missed) visits × the conversion gap to warm, 95% "
        "interval by Newcombe's method; units at the warm units per sale, revenue at the warm "
        "average sale. Method: docs/cost-of-neutral.md."
    )

    st.subheader("By connection depth")
    st.markdown(words.depth(dash.by_depth))
    st.plotly_chart(charts.moment_bars(dash.by_depth, charts.DEPTH_COLOURS), key="chart-depth")
    st.caption(
        "Depth 0–3 counts a warm welcome, a learned reason and a recommendation; "
        "conversion (95% interval) and units per sale per depth."
    )

    st.subheader("By reason for visit")
    st.markdown(words.reasons(dash.by_reason))
    st.plotly_chart(charts.reason_bars(dash.by_reason), key="chart-reason")
    st.caption("Conversion per reason for visit, best first; reasons with too few visits last.")

    st.subheader("Top no-sale reasons")
    st.markdown(words.no_sale(dash.no_sale))
    if dash.no_sale:
        st.plotly_chart(charts.no_sale_bars(dash.no_sale), key="chart-no-sale")
        st.caption("Share of no-purchase visits per no-sale reason (95% interval).")

    st.subheader("Weekly trend")
    st.markdown(words.trend(dash.trend))
    st.plotly_chart(charts.trend_lines(dash.trend, aims.conversion), key="chart-trend")
    st.caption(
        f"Conversion per week (Monday first) for each first engagement, at least the last "
        f"{periods.TREND_WEEKS} weeks; a gap is a week with too few visits."
    )

    st.subheader("Hour × weekday")
    st.markdown(words.heat(dash.heat))
    measure = st.segmented_control(
        "Show",
        ["visits", "conversion"],
        format_func=str.capitalize,
        default="visits",
        required=True,
        key=HEAT,
    )
    st.plotly_chart(charts.heatmap(dash.heat, measure or "visits"), key="chart-heat")
    st.caption(
        "Visits or conversion per hour and weekday in each store's local time; "
        "blank conversion cells have too few visits."
    )

coverage_ui.draw_heat(cov, {k: s["name"] for k, s in stores.items()})

# --- follow-ups (issue #15): numbers from cxlog.followups.followups ---------------------
follow = ui.attempt(
    "dashboard-followups",
    lambda: _followups(str(storage.path), dashboard.data_version(storage), selection, now),
)
ui.show_error("dashboard-followups")
if follow is not None and not follow.any:
    follow = None  # a store that does not use follow-ups sees no empty tiles
if follow is not None:
    st.subheader("Follow-ups")
    window = (
        f"{followups.window_days(storage, store_id)} days" if store_id else "each store's window"
    )
    for column, (label, value, caption) in zip(
        st.columns(3),
        (
            ("Promised", f"{follow.promised:,}", "in this period"),
            (
                "Done on time",
                words.percent(follow.on_time.value, 0),
                f"{follow.done_on_time:,} of {follow.due:,} due, acted on by the promised day",
            ),
            ("Overdue", f"{follow.overdue:,}", "open and past due, now"),
        ),
        strict=True,
    ):
        with column, st.container(border=True):
            st.metric(label, value)
            st.caption(caption)
    st.markdown(
        f"Follow-up conversion: **{words.percent(follow.conversion.value, 0)}** "
        f"({words.interval(follow.conversion)}, n = {follow.due:,}) of the follow-ups due "
        f"in this period came back and bought within {window} of the promise."
    )
    st.table(followups.rate_rows(follow), hide_index=True, border="horizontal")

st.subheader("Team")
st.markdown(words.team(dash.team))
team_table = words.team_table(
    dash.team,
    totals,
    dash.previous,
    with_store=len(dash.spans) > 1,
    neutral_costs=None if totals.too_few else cost.team_column,
)
if follow is not None:  # issue #15: follow-ups each associate closed in the period
    team_table["Follow-ups done"] = [
        sum(follow.done_by.get(r.associate_id, 0) for r in dash.team),
        *(follow.done_by.get(r.associate_id, 0) for r in dash.team),
    ]
# A static table: every row and column visible on a tablet, nothing to scroll.
st.table(team_table, hide_index=True, border="horizontal")
st.caption(
    f"Team totals first, then associates ranked by conversion; those with fewer than "
    f'{MIN_SAMPLE} closed visits are listed but not ranked. "vs previous" is the change '
    "in conversion in points against the previous period."
    + (
        " Neutral cost: extra purchases associated with each one's neutral first engagements "
        "had they converted like their warm ones (95% interval)."
        if not totals.too_few
        else ""
    )
)
