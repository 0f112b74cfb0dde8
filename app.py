"""cxlog's router: which pages exist for this session, and nothing else.

Every page is listed, so a direct URL opens the page and its own role check
shows the sign-in; pages the session may not use are hidden from the menu.
"""

import streamlit as st

from cxlog import access, ui

st.set_page_config(page_title="cxlog", page_icon="🛍️", layout="centered")
ui.init_state()
storage = ui.storage()

if access.first_run(storage):
    pages = [st.Page("pages/setup.py", title="Set up", icon="🔑", default=True)]
else:
    role = ui.current_role(storage)

    def shown(needed: str) -> str:
        return "visible" if access.allows(role, needed) else "hidden"

    pages = [
        st.Page("pages/log.py", title="Log", icon="👋", default=True),
        st.Page(
            "pages/dashboard.py", title="Dashboard", icon="📊", visibility=shown(access.MANAGER)
        ),
        st.Page("pages/visits.py", title="Visits", icon="🗂️", visibility=shown(access.MANAGER)),
        st.Page("pages/settings.py", title="Settings", icon="⚙️", visibility=shown(access.MANAGER)),
        st.Page("pages/export.py", title="Export", icon="⬇️", visibility=shown(access.OWNER)),
        st.Page("pages/account.py", title="Sign out" if role else "Manager sign-in", icon="🔒"),
    ]
# Top navigation leaves the whole width of a tablet or phone to the page.
st.navigation(pages, position="top").run()
