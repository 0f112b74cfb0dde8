"""Manager/owner sign-in, or sign-out (one tap) once signed in."""

import streamlit as st

from cxlog.core import roles
from cxlog.core.text import plain
from cxlog.language.words import N_, _
from cxlog.web import ui

# Whole sentences per role: the role's word changes the sentence's grammar.
SIGNED_IN_AS = {
    roles.MANAGER: N_("You are signed in as **{login}** (manager) on this device."),
    roles.OWNER: N_("You are signed in as **{login}** (owner) on this device."),
}

storage = ui.storage()
ui.init_state()
me = ui.current_account(storage)
if me is None:
    ui.sign_in_form(storage)
    st.stop()

st.title(_("Signed in"))
st.write(_(SIGNED_IN_AS[me.role]).format(login=plain(me.login)))
st.button(
    _("Sign out"),
    key="sign-out-role",
    type="primary",
    icon=":material/logout:",
    on_click=ui.sign_out_role,
    args=(storage,),
)
