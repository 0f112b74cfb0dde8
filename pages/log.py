"""Log: one tap per moment (docs/product.md, "Associate — Log"), through a drop.

The page only draws the tap pad (cxlog/web/pad_ui.py) with its data. Every tap
goes into an outbox on the device and over HTTP to the JSON API
(cxlog/server/api/taps.py), never through Streamlit's websocket: a tap made while the
store wifi is down waits on the device and is saved once when it is back. The
pad refreshes the board by one cheap HTTP read, so no tablet reruns this
script to see other devices' visits (issue #10).

Who is logging: the pad's name buttons ask the API for a shift cookie and
reload the page, which reads it here (issue #11).
"""

from __future__ import annotations

import streamlit as st

from cxlog.core.errors import StorageError
from cxlog.core.text import plain
from cxlog.language.words import _
from cxlog.storage import settings
from cxlog.stores import catalog
from cxlog.visits import taps
from cxlog.web import language_ui, pad_ui, ui

storage = ui.storage()
ui.init_state()
ui.touch_styles()


def people_to_pick() -> tuple[list[dict], bool]:
    """Who may sign in on this device: the only store's active associates,
    or those of the store picked first."""
    stores = catalog.list_stores(storage)
    if not stores:
        st.title(_("Who is logging?"))
        st.info(
            _(
                "This store is not set up yet. A manager adds the store and its associates "
                "in Settings."
            ),
            icon=":material/storefront:",
        )
        st.stop()
    # A device joined by a store's QR code (Settings → Devices, issue #28)
    # opens on that store's people; others pick the store first.
    joined = [s for s in stores if str(s["id"]) == st.query_params.get("store")]
    if len(stores) > 1 and not joined:
        st.pills(
            _("Store"),
            [s["id"] for s in stores],
            key=ui.PICKED_STORE,
            format_func={s["id"]: plain(s["name"]) for s in stores}.get,
        )
    if joined:
        store_id = joined[0]["id"]
    else:
        store_id = stores[0]["id"] if len(stores) == 1 else st.session_state[ui.PICKED_STORE]
    if store_id is None:
        st.stop()
    people = catalog.list_associates(storage, store_id, active_only=True)
    if not people:
        st.title(_("Who is logging?"))
        st.info(_("No associates yet. A manager adds them in Settings."))
        st.stop()
    return people, settings.pin_required(storage, store_id), store_id


try:
    me = ui.signed_in(storage)
    if me is None:
        people, pin_required, store_id = people_to_pick()
        data = taps.pad_data(storage, None, people, pin_required)
    else:
        store_id = me["store_id"]
        data = taps.pad_data(storage, me, [], False)
except StorageError as exc:
    # Reads that fail (the file moved, its folder gone) stop the page with a
    # sentence instead of a stack trace (issue #7); the next load tries again.
    st.error(
        _("{problem} Visits cannot be shown or logged until this is fixed.").format(problem=exc),
        icon=":material/database:",
    )
    st.stop()

pad_ui.pad(data)
# This device's own language (#29), under the pad: rarely changed, never in
# the way of a tap.
language_ui.picker(storage, store_id)
