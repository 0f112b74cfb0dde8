"""The yardstick for tap latency: a one-button Streamlit page (issue #3)."""

import streamlit as st

st.session_state.setdefault("taps", 0)


def tapped() -> None:
    st.session_state.taps += 1


st.button("Tap", key="tap", on_click=tapped)
st.write(f"Saved {st.session_state.taps}")
