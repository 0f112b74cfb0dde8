import streamlit as st

from cxlog import access, ui

ui.require_role(ui.storage(), access.MANAGER)

st.title("Dashboard")
st.info("The manager dashboard arrives with issue #5.")
