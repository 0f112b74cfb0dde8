import streamlit as st

st.title("Export")
st.info("CSV export and backup arrive with issue #6.")
