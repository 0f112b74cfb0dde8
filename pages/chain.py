import streamlit as st

from cxlog.core import roles
from cxlog.core.text import plain
from cxlog.web import ui

me = ui.require_account(ui.storage(), roles.MANAGER)

# The chain's view (issue #28): the account's stores side by side for a
# period. The numbers come from cxlog.coaching.chain; this page asks, caches
# and draws (the table: cxlog/web/chain_ui.py).
from cxlog.calendar import localday, periods  # noqa: E402
from cxlog.coaching import chain  # noqa: E402
from cxlog.core.model import utc_now  # noqa: E402
from cxlog.dashboard import dashboard  # noqa: E402
from cxlog.language import formats  # noqa: E402
from cxlog.language.words import _  # noqa: E402
from cxlog.storage.db import open_storage  # noqa: E402
from cxlog.web import chain_ui  # noqa: E402


@st.cache_data(ttl=600, max_entries=24, show_spinner=False)
def _build(
    path: str, version: tuple, selection: dashboard.DashboardFilters, now
) -> chain.ChainView:
    # Keyed by the data version, as the dashboard's: never stale.
    return chain.build(open_storage(path), selection, now)


storage = ui.storage()
st.title(_("Stores"))
stores = ui.my_stores(storage, me)
if len(stores) < 2:
    st.info(
        _(
            "This page sets several stores side by side, and your account sees no store yet. "
            "Its numbers are on the Dashboard, in the menu."
        )
        if not stores
        else _(
            "This page sets several stores side by side, and your account sees one store, "
            "{store}. Its numbers are on the Dashboard, in the menu."
        ).format(store=plain(stores[0]["name"])),
        icon=":material/storefront:",
    )
    st.stop()
# A store a row: the whole width, so every column shows on a laptop (the
# router's centred layout is set back by the next page's run).
st.set_page_config(layout="wide")

now = utc_now().replace(second=0, microsecond=0)
today = max(localday.today(s["timezone"], now) for s in stores)
selection = chain_ui.selection(today, me.stores)
if selection is None:
    st.stop()


def _counted() -> chain.ChainView:
    with st.spinner(_("Counting visits…")):
        return _build(storage.address, dashboard.data_version(storage), selection, now)


view = ui.attempt("chain", _counted)
ui.show_error("chain")
if view is None:
    st.stop()

span = view.rows[0].span
st.caption(
    _("{period}: {days} · {n} stores, each in its local time").format(
        period=periods.name(selection.period),
        days=periods.describe(span.first_day, span.last_day),
        n=formats.number(len(view.rows)),
    )
)
if view.totals.visits == 0:
    st.info(
        _("No visits in this period yet in any of your stores. Try a longer period above."),
        icon=":material/info:",
    )
    st.stop()
chain_ui.draw(view)
