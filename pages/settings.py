import streamlit as st

st.title("Settings")
st.info("Associates, lists and store settings arrive with issue #4.")
