import streamlit as st

from cxlog.calendar import localday
from cxlog.core import roles
from cxlog.web import ui

me = ui.require_account(ui.storage(), roles.MANAGER)

# The manager's morning page (issue #5): filters that live in the URL, then
# every view of cxlog.dashboard.dashboard. The numbers come from cxlog; this
# page asks, caches and draws (the sections: cxlog/web/dashboard_ui.py).
from cxlog.calendar import periods  # noqa: E402
from cxlog.coaching import goals  # noqa: E402
from cxlog.core.model import MIN_SAMPLE, REASON, utc_now  # noqa: E402
from cxlog.core.text import plain  # noqa: E402
from cxlog.dashboard import dashboard, takeaways  # noqa: E402
from cxlog.language import formats, words  # noqa: E402
from cxlog.language.words import _  # noqa: E402
from cxlog.storage.db import open_storage  # noqa: E402
from cxlog.stores import catalog  # noqa: E402
from cxlog.web import coverage_ui, dashboard_ui, greeting_ui  # noqa: E402


@st.cache_data(ttl=600, max_entries=48, show_spinner=False)
def _build(
    path: str, version: tuple, selection: dashboard.DashboardFilters, now, lang: str
) -> dashboard.Dashboard:
    # Keyed by the data version, so a cached answer is never stale; `now` is
    # rounded to the minute so reruns within a minute share it; and by the
    # language its groups' labels are written in.
    with words.using(lang):
        return dashboard.build(open_storage(path), selection, now)


storage = ui.storage()
st.title(_("Dashboard"))
# Issue #28: only the account's stores, their people; "all stores" is all of these.
stores = {s["id"]: s for s in ui.my_stores(storage, me)}
if not stores:
    st.info(_("Add your store in Settings first; its visits will show here."))
    st.stop()
people = {a["id"]: a for a in catalog.list_associates(storage) if a["store_id"] in stores}
# The chain's entries and the account's stores' own (#28), never another's.
reasons = {
    r["id"]: r
    for r in catalog.list_reasons(storage, REASON, active_only=False, every=True)
    if r["store_id"] is None or r["store_id"] in stores
}
now = utc_now().replace(second=0, microsecond=0)
# The latest local today of the stores: the last day a custom range may pick.
today = max(localday.today(s["timezone"], now) for s in stores.values())

selection = dashboard_ui.selection(stores, people, reasons, today, me.stores)
if selection is None:
    st.stop()
store_id = selection.store_id


def _counted() -> dashboard.Dashboard:
    with st.spinner(_("Counting visits…")):
        return _build(
            storage.address, dashboard.data_version(storage), selection, now, words.current()
        )


# Issue #30: customers still waiting past their store's limit (no tablet read
# its board since) are closed as "left before greeting" before counting.
shown = list(stores) if store_id is None else [store_id]
ui.attempt("dashboard", lambda: greeting_ui.close_overdue(storage, shown))
dash = ui.attempt("dashboard", _counted)
ui.show_error("dashboard")
if dash is None:
    st.stop()

span = dash.spans[store_id] if store_id else next(iter(dash.spans.values()))
where = plain(stores[store_id]["name"]) if store_id else _("all stores, each in its local time")
st.caption(
    _("{period}: {days} · {where} · compared with {previous} up to the same time of day").format(
        period=periods.name(selection.period),
        days=periods.describe(span.first_day, span.last_day),
        where=where,
        previous=periods.describe(*periods.previous_days(span)),
    )
)

# Issue #14: amounts in the selection's currency.
currency = goals.selection_currency(storage, store_id, stores)
totals = dash.totals
if totals.visits == 0:
    if dash.previous.visits:
        empty = _(
            "No visits in this period yet. The previous period had {n}. Associates log visits "
            "on the Log page; the numbers appear here as soon as they do. Try a longer period "
            "above."
        ).format(n=formats.number(dash.previous.visits))
    else:
        empty = _(
            "No visits in this period yet. Associates log visits on the Log page; the numbers "
            "appear here as soon as they do. Try a longer period above."
        )
    st.info(empty, icon=":material/info:")
    st.stop()

tiles = takeaways.tiles(totals, dash.previous, currency)
for row in (tiles[:3], tiles[3:]):
    for column, tile in zip(st.columns(3), row, strict=True):
        with column, st.container(border=True):
            st.metric(tile.label, tile.value, tile.delta, tile.delta_color)
            st.caption(tile.caption)

# Issue #13: door-counter coverage beside the moments; nothing without counter data.
cov = coverage_ui.load(storage, dashboard.data_version(storage), dash)
coverage_ui.draw_tiles(cov, {k: s["name"] for k, s in stores.items()})

cost = None
if totals.too_few:
    st.info(
        _(
            "This selection has {n} closed visits. Conversion, units per sale and the charts "
            "need at least {need}, so that a number reflects the team rather than a lucky day. "
            "Keep logging, or pick a longer period or all stores."
        ).format(n=formats.number(totals.closed), need=MIN_SAMPLE),
        icon=":material/hourglass_top:",
    )
else:
    cost = dashboard_ui.moments(storage, dash, stores, store_id, currency, cov)

coverage_ui.draw_heat(cov, {k: s["name"] for k, s in stores.items()})
greeting_ui.section(storage, dash)  # issue #30: nothing unless a store has it on
follow = dashboard_ui.follow_ups(storage, selection, store_id, now)
dashboard_ui.team(dash, cost, follow)
