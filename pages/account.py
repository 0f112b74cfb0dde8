"""Manager/owner sign-in, or sign-out (one tap) once signed in."""

import streamlit as st

from cxlog.core.text import plain
from cxlog.web import ui

storage = ui.storage()
ui.init_state()
me = ui.current_account(storage)
if me is None:
    ui.sign_in_form(storage)
    st.stop()

st.title("Signed in")
st.write(f"You are signed in as **{plain(me.login)}** ({me.role}) on this device.")
st.button(
    "Sign out",
    key="sign-out-role",
    type="primary",
    icon=":material/logout:",
    on_click=ui.sign_out_role,
    args=(storage,),
)
