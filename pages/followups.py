"""Follow-ups (associate): promise one after a visit, work the list, link a
return visit (issue #15, docs/product.md "Associate — Follow-ups"); the
sections are drawn by cxlog/web/followups_ui.py.

A follow-up is tied to a visit code, never to a person: nothing here asks for
a name, a phone number, an e-mail address or a note. Access is the Log page's
shift (the device's HttpOnly shift cookie). Every tap is one cxlog call.
"""

from __future__ import annotations

import streamlit as st

from cxlog.core.errors import StorageError
from cxlog.core.text import plain
from cxlog.followups import followups
from cxlog.language.words import _
from cxlog.web import followups_ui, ui
from cxlog.web.followups_ui import BOUGHT_OPEN, CHANNEL, DATE_OPEN, NAV_CSS, PROMISED, SNOOZE_OPEN

storage = ui.storage()
ui.init_state()
ui.touch_styles()
st.html(NAV_CSS)
state = st.session_state
state.setdefault(CHANNEL, followups.CALL)
state.setdefault(PROMISED, None)
state.setdefault(BOUGHT_OPEN, set())
state.setdefault(SNOOZE_OPEN, set())
state.setdefault(DATE_OPEN, set())

st.title(_("Follow-ups"))
try:
    me = ui.signed_in(storage)
except StorageError as exc:
    st.error(
        _("{error} Follow-ups cannot be shown until this is fixed.").format(error=exc),
        icon=":material/database:",
    )
    st.stop()
if me is None:
    st.info(
        _("Tap your name on the Log page first; your store's follow-ups then show here."),
        icon=":material/badge:",
    )
    st.page_link("pages/log.py", label=_("Go to the Log page"), icon=":material/arrow_back:")
    st.stop()
st.caption(
    _(
        "{name} · {store}. A follow-up is tied to a visit code written on the receipt — "
        "never to a name, phone number or e-mail address."
    ).format(name=plain(me["name"]), store=plain(me["store_name"]))
)

sections = followups_ui.Sections(storage, me)
try:
    sections.promise_section()
    shown = sections.list_section()
    sections.return_section(
        [i["code"] for k, rows in shown.items() if k != followups.DONE for i in rows]
    )
except StorageError as exc:
    st.error(
        _("{error} Follow-ups cannot be shown until this is fixed.").format(error=exc),
        icon=":material/database:",
    )
