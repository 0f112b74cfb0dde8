import streamlit as st

from cxlog import access, ui

ui.require_role(ui.storage(), access.MANAGER)

st.title("Settings")
st.info("Associates, lists and store settings arrive with issue #4.")
