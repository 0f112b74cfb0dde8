import streamlit as st

st.title("Dashboard")
st.info("The manager dashboard arrives with issue #5.")
