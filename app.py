"""cxlog's router: which pages exist for this session, and nothing else.

Every page is registered, so a direct URL opens the page and its own role check
shows the sign-in; the menu shows only what the session's role may use.
"""

import streamlit as st

from cxlog.access import accounts
from cxlog.core.errors import StorageError
from cxlog.language.words import _
from cxlog.web import language_ui, navigation, ui

st.set_page_config(
    page_title="cxlog", page_icon="cxlog/web/app_files/favicon-32.png", layout="centered"
)
ui.init_state()
ui.touch_styles()  # the 48 px touch targets, on every page (#11)
try:
    storage = ui.storage()
    first_run = accounts.first_run(storage)
    account = ui.current_account(storage)
    role = account.role if account else None
    # The chain's view is in the menu of an account that sees 2+ stores (#28).
    my_stores = ui.my_stores(storage, account) if account else []
    stores_seen = len(my_stores)
    # The page speaks the device's, the store's, the chain's or the browser's
    # language (#29), chosen before anything is drawn.
    language_ui.settle(storage, ui.store_of_run(storage, account, my_stores))
except StorageError as exc:
    # The database cannot be reached (folder gone, file moved, disk trouble):
    # a sentence, never a stack trace; the next page load tries again (#7).
    st.error(str(exc), icon=":material/database:")
    st.stop()
ui.hand_over_cookie()
language_ui.remember()

if first_run:
    pages = [st.Page("pages/setup.py", title=_("Set up"), icon="🔑", default=True)]
else:
    # The menu's titles are English keys (which page is shown decides on
    # them); only what is drawn is in the reader's language (issue #29).
    menu = navigation.menu(role, stores_seen)
    pages = [
        st.Page(
            path,
            title=_(title),
            icon=icon,
            default=path == "pages/log.py",
            visibility="visible" if title in menu else "hidden",
        )
        for path, title, icon, _needed in navigation.PAGES
    ]
    pages.append(st.Page("pages/account.py", title=_(menu[-1]), icon="🔒"))
# Top navigation leaves the whole width of a tablet or phone to the page.
st.navigation(pages, position="top").run()
