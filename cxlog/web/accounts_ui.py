"""Settings → Accounts, the owner's (issue #28): who signs in, as what, for
which stores; add, scope, reset a password, retire. Every change is audited
with the owner's name by cxlog/access/accounts.py."""

from __future__ import annotations

import streamlit as st

from cxlog.access import accounts
from cxlog.access.accounts import Account
from cxlog.calendar import localday
from cxlog.core import roles
from cxlog.core.model import from_utc_text
from cxlog.core.text import plain
from cxlog.language.words import N_, _, shown
from cxlog.storage.db import Storage
from cxlog.stores import catalog
from cxlog.web import ui
from cxlog.web.settings_ui import form

# The roles' words (the database keeps the English keys): in the pickers, in
# the table, and after a name in the account picker.
ROLE_NAMES = {roles.MANAGER: N_("Manager"), roles.OWNER: N_("Owner (every store)")}
ROLE_WORDS = {roles.MANAGER: N_("Manager"), roles.OWNER: N_("Owner")}
NAME_AND_ROLE = {roles.MANAGER: N_("{name} (manager)"), roles.OWNER: N_("{name} (owner)")}


def _change(storage: Storage, action, confirmation: str, *clear: str) -> None:
    ui.change(storage, "accounts", action, confirmation, *clear, needed=roles.OWNER)


def accounts_tab(storage: Storage, me: Account) -> None:
    state = st.session_state
    ui.show_error("accounts")
    stores = {s["id"]: s["name"] for s in catalog.list_stores(storage)}
    listed = accounts.list_accounts(storage)
    # The table's headers in the reader's language.
    name_col, role_col, stores_col, since_col = _("Name"), _("Role"), _("Stores"), _("Since")
    st.dataframe(
        [
            {
                name_col: a["login"],
                role_col: shown(ROLE_WORDS[a["role"]]),
                stores_col: _("Every store")
                if a["role"] == roles.OWNER
                else ", ".join(stores.get(s, "?") for s in a["stores"]),
                since_col: localday.day_text(
                    from_utc_text(a["created_at"]).date(), weekday=False, year=True
                ),
            }
            for a in listed
        ],
        hide_index=True,
    )

    st.subheader(_("Add an account"))
    with form("account-add-form"):
        st.text_input(
            _("Name to sign in with (a first name or an e-mail address)"),
            key="account-new-login",
            max_chars=accounts.MAX_LOGIN_LENGTH,
        )
        st.segmented_control(
            _("Role"),
            list(ROLE_NAMES),
            format_func=lambda r: _(ROLE_NAMES[r]),
            key="account-new-role",
            default=roles.MANAGER,
            required=True,
        )
        st.multiselect(
            _("Stores (a manager's)"),
            list(stores),
            format_func=stores.get,
            key="account-new-stores",
        )
        st.text_input(
            _("First password (at least 8 characters; tell it to them)"),
            type="password",
            key="account-new-password",
            max_chars=200,
            autocomplete="new-password",
        )
        st.form_submit_button(
            _("Add account"),
            key="account-add",
            icon=":material/person_add:",
            on_click=lambda: _change(
                storage,
                lambda: accounts.add(
                    storage,
                    state["account-new-login"],
                    state["account-new-role"],
                    state["account-new-password"],
                    state["account-new-stores"],
                    actor=me.actor,
                ),
                _("Account added."),
                "account-new-login",
                "account-new-password",
            ),
        )

    st.subheader(_("Change an account"))
    picked = st.selectbox(
        _("Account"),
        [a["id"] for a in listed],
        key="account-pick",
        format_func={
            a["id"]: shown(NAME_AND_ROLE[a["role"]]).format(name=a["login"]) for a in listed
        }.get,
    )
    account = next(a for a in listed if a["id"] == picked)
    role_key, stores_key = f"account-role-{picked}", f"account-stores-{picked}"
    state.setdefault(role_key, account["role"])
    state.setdefault(stores_key, [s for s in account["stores"] if s in stores])
    with form("account-scope-form"):
        st.segmented_control(
            _("Role"),
            list(ROLE_NAMES),
            format_func=lambda r: _(ROLE_NAMES[r]),
            key=role_key,
            required=True,
        )
        st.multiselect(
            _("Stores (a manager's)"), list(stores), format_func=stores.get, key=stores_key
        )
        # Ids are bound now (default arguments): a callback runs before the next run.
        st.form_submit_button(
            _("Save role and stores"),
            key="account-scope-save",
            on_click=lambda aid=picked: _change(
                storage,
                lambda: accounts.set_scope(
                    storage, aid, state[role_key], state[stores_key], actor=me.actor
                ),
                _("Saved: their next page shows these stores."),
            ),
        )
    with form("account-password-form"):
        st.text_input(
            _("New password (they are signed out everywhere)"),
            type="password",
            key="account-reset-password",
            max_chars=200,
            autocomplete="new-password",
        )
        st.form_submit_button(
            _("Reset password"),
            key="account-reset",
            on_click=lambda aid=picked: _change(
                storage,
                lambda: accounts.set_password(
                    storage,
                    aid,
                    state["account-reset-password"],
                    actor=me.actor,
                    keep_session=ui.session_token() if aid == me.id else None,
                ),
                _("Password reset."),
                "account-reset-password",
            ),
        )
    # Retiring cannot be undone: a tick first, then the button.
    # Labels are Markdown: a typed name is shown exactly as typed (plain).
    name = plain(account["login"])
    sure = st.checkbox(
        _("Yes, retire {name}").format(name=name), key=f"account-retire-sure-{picked}"
    )
    st.button(
        _("Retire {name} (signed out now, never again)").format(name=name),
        key="account-retire",
        icon=":material/person_off:",
        disabled=not sure,
        on_click=lambda aid=picked: _change(
            storage,
            lambda: accounts.retire(storage, aid, actor=me.actor),
            _("Account retired."),
        ),
    )
