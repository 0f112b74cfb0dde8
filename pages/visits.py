import streamlit as st

from cxlog import access, ui

ui.require_role(ui.storage(), access.MANAGER)

st.title("Visits")
st.info("Reviewing, correcting and voiding visits arrives with issue #4.")
