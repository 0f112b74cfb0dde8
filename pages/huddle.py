import streamlit as st

from cxlog.calendar import localday
from cxlog.core import roles
from cxlog.web import ui

me = ui.require_account(ui.storage(), roles.MANAGER)

# The morning huddle card (issue #14): one store, yesterday and the week to
# date. The card is cxlog.coaching.coaching's plain data rendered as the very Markdown
# that `python -m cxlog huddle` prints, so the two always agree (in the page's
# language, as `huddle --lang` in the CLI).
from cxlog.coaching import coaching  # noqa: E402
from cxlog.core.model import utc_now  # noqa: E402
from cxlog.language.words import _  # noqa: E402
from cxlog.web import coaching_ui, greeting_ui  # noqa: E402

storage = ui.storage()
ui.touch_styles()  # 48 px targets on the phone (the store picker, the date)
coaching_ui.huddle_styles()
with st.container(key="huddle-title"):
    st.title(_("Huddle"))
if not ui.my_stores(storage, me):
    st.info(_("Add your store in Settings first; its huddle card will show here."))
    st.stop()
with st.container(key="huddle-controls"):
    store = ui.pick_store(storage, me, key="huddle-store")
    today = localday.today(store["timezone"], utc_now())
    day = st.date_input(_("Morning of"), today, max_value=today, key="huddle-day")
# Issue #30: customers still waiting past the store's limit (no tablet read
# its board overnight) are closed as "left before greeting" first.
ui.attempt("huddle", lambda: greeting_ui.close_overdue(storage, [store["id"]]))
card = ui.attempt(
    "huddle",
    lambda: coaching.huddle_card(storage, store["id"], day if day else today),
)
ui.show_error("huddle")
if card is None:
    st.stop()
with st.container(border=True, key="huddle-card"):
    st.markdown(coaching.markdown(card))
with st.container(key="huddle-print"):
    st.caption(_("Print this page (Ctrl+P) for the back-office wall: the card fits one page."))
