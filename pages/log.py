import streamlit as st

st.title("Log")
st.info("The one-tap Log page arrives with issue #3.")
