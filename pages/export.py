import streamlit as st

from cxlog import access, ui

ui.require_role(ui.storage(), access.OWNER)

st.title("Export")
st.info("CSV export and backup arrive with issue #6.")
