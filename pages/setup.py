"""First run: the setup code, the store's name and timezone and the owner's
password, before anything else (cxlog/access/first_run.py does the work)."""

import streamlit as st

from cxlog.access import accounts, first_run
from cxlog.access.accounts import first_run as not_set_up
from cxlog.core import model
from cxlog.language.words import _
from cxlog.web import ui

storage = ui.storage()
state = st.session_state


def finish() -> None:
    client = ui.client_address()

    def claim() -> None:
        first_run.claim(
            storage,
            code=state.get("setup_code", ""),
            login=state.get("setup_login", ""),
            store_name=state.get("setup_store", ""),
            timezone=state.get("setup_zone"),
            password=state.get("setup_password", ""),
            password_again=state.get("setup_password_again", ""),
            client=client,
        )
        account = accounts.find(storage, state.get("setup_login", ""))
        ui.start_role_session(storage, accounts.get(storage, account["id"]), client)

    ui.attempt("setup", claim)


ui.init_state()
if not not_set_up(storage):
    # Only the very first run may set the owner's password; a direct URL to
    # this page on a set-up server must not reset it.
    st.title(_("Already set up"))
    st.info(_("cxlog is set up. Accounts and passwords are managed in Settings by the owner."))
    st.stop()
st.title(_("Welcome to cxlog"))
st.write(
    _(
        "Make the owner's account and your store before anyone logs a visit. "
        "There is no default password."
    )
)
zones = sorted(model.timezones())
default_zone = first_run.default_timezone(st.context.timezone)
# One form: Tab, Enter or a tap send every field as typed.
with st.form("setup-form", enter_to_submit=True, border=False):
    st.text_input(
        _("Setup code (printed on the server's console when it started)"),
        key="setup_code",
        max_chars=20,
        help=_("On the server: {command}").format(command="python -m cxlog setup-code"),
    )
    st.text_input(_("Store name"), key="setup_store", max_chars=60)
    st.selectbox(_("Store timezone"), zones, index=zones.index(default_zone), key="setup_zone")
    st.text_input(
        _("Your name, to sign in with (a first name or an e-mail address)"),
        key="setup_login",
        max_chars=accounts.MAX_LOGIN_LENGTH,
        autocomplete="username",
    )
    st.text_input(
        _("Owner password (at least 8 characters)"),
        type="password",
        key="setup_password",
        max_chars=200,
    )
    st.text_input(
        _("Owner password again"), type="password", key="setup_password_again", max_chars=200
    )
    ui.show_error("setup")
    st.form_submit_button(_("Save and start"), key="setup-save", type="primary", on_click=finish)
