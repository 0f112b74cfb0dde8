"""cxlog's router: the pages, and nothing else."""

import streamlit as st

from cxlog import ui

st.set_page_config(page_title="cxlog", page_icon="🛍️", layout="centered")
ui.init_state()

pages = [
    st.Page("pages/log.py", title="Log", icon="👋", default=True),
    st.Page("pages/dashboard.py", title="Dashboard", icon="📊"),
    st.Page("pages/visits.py", title="Visits", icon="🗂️"),
    st.Page("pages/settings.py", title="Settings", icon="⚙️"),
    st.Page("pages/export.py", title="Export", icon="⬇️"),
]
# Top navigation leaves the whole width of a tablet or phone to the page.
st.navigation(pages, position="top").run()
