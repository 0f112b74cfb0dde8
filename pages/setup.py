"""First run: the owner's password, the store's name and timezone, before anything else."""

import streamlit as st

from cxlog import access, catalog, ui
from cxlog.errors import ValidationError

storage = ui.storage()
COMMON_ZONES = [
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "Australia/Sydney",
    "Asia/Singapore",
    "Asia/Tokyo",
    "UTC",
]


def finish() -> None:
    def write() -> None:
        if not access.first_run(storage):
            raise ValidationError("cxlog is already set up.")
        password, again = state["setup_password"], state["setup_password_again"]
        if password != again:
            raise ValidationError("The two passwords differ; type them again.")
        access.check_password(password)
        if not catalog.list_stores(storage):
            catalog.create_store(storage, state["setup_store"], state["setup_zone"], actor="owner")
        access.set_password(storage, access.OWNER, password, actor="owner")
        ui.start_role(access.OWNER)

    ui.attempt("setup", write)


state = st.session_state
ui.init_state()
if not access.first_run(storage):
    # Only the very first run may set the owner's password; a direct URL to
    # this page on a set-up server must not reset it.
    st.title("Already set up")
    st.info("cxlog is set up. Passwords are changed in Settings by a manager or the owner.")
    st.stop()
st.title("Welcome to cxlog")
st.write(
    "Set the owner's password and your store before anyone logs a visit. "
    "There is no default password."
)
st.text_input("Store name", key="setup_store", max_chars=60)
st.selectbox("Store timezone", COMMON_ZONES, key="setup_zone")
st.text_input(
    "Owner password (at least 8 characters)", type="password", key="setup_password", max_chars=200
)
st.text_input("Owner password again", type="password", key="setup_password_again", max_chars=200)
ui.show_error("setup")
st.button("Save and start", key="setup-save", type="primary", on_click=finish)
