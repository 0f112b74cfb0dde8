import streamlit as st

st.title("Visits")
st.info("Reviewing, correcting and voiding visits arrives with issue #4.")
