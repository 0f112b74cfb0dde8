"""Settings → Accounts through AppTest (issue #28): the owner adds a manager
for a store, changes their stores, resets and retires them (a tick first);
each change lands in the database and the audit trail names the owner."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cxlog.access import accounts
from cxlog.core.errors import ValidationError
from cxlog.core.roles import MANAGER, OWNER
from cxlog.core.text import plain
from cxlog.stores import catalog
from tests.conftest import as_role
from tests.helpers.pages import open_page


def accounts_tab() -> AppTest:
    at = as_role(open_page(), OWNER).run()
    at.switch_page("pages/settings.py")
    return at.run()


def audit_actors(storage, action: str) -> list[str]:
    with storage.read() as db:
        return [
            r[0]
            for r in db.execute(
                "SELECT actor FROM audit WHERE entity = 'account' AND action = ? ORDER BY id",
                [action],
            )
        ]


def test_the_owner_adds_scopes_resets_and_retires_a_manager(app_env, shop):
    harbour = catalog.create_store(app_env, "Harbour", "Europe/Paris")
    at = accounts_tab()
    at.text_input(key="account-new-login").set_value("Mia")
    at.segmented_control(key="account-new-role").set_value(MANAGER)
    at.multiselect(key="account-new-stores").set_value([shop["store"]])
    at.text_input(key="account-new-password").set_value("mia-pass-01")
    at.button(key="account-add").click().run()
    assert not at.exception and not at.error
    mia = accounts.check_sign_in(app_env, "mia", "mia-pass-01", client="10.0.0.5")
    assert (mia.role, mia.stores) == (MANAGER, (shop["store"],))
    assert audit_actors(app_env, "create")[-1] == "owner:owner"

    at.selectbox(key="account-pick").set_value(mia.id).run()
    at.multiselect(key=f"account-stores-{mia.id}").set_value([harbour])
    at.button(key="account-scope-save").click().run()
    assert accounts.get(app_env, mia.id).stores == (harbour,)

    at.text_input(key="account-reset-password").set_value("mia-pass-02")
    at.button(key="account-reset").click().run()
    accounts.check_sign_in(app_env, "Mia", "mia-pass-02", client="10.0.0.5")

    assert at.button(key="account-retire").disabled  # a tick first
    at.checkbox(key=f"account-retire-sure-{mia.id}").check().run()
    at.button(key="account-retire").click().run()
    assert not at.exception
    with pytest.raises(ValidationError):
        accounts.check_sign_in(app_env, "Mia", "mia-pass-02", client="10.0.0.6")
    assert audit_actors(app_env, "scope") == ["owner:owner"]
    assert audit_actors(app_env, "set_password")[-1] == "owner:owner"
    assert audit_actors(app_env, "retire") == ["owner:owner"]


def test_a_manager_without_stores_is_refused_with_a_sentence(app_env, shop):
    at = accounts_tab()
    at.text_input(key="account-new-login").set_value("Nobody")
    at.segmented_control(key="account-new-role").set_value(MANAGER)
    at.text_input(key="account-new-password").set_value("long enough")
    at.button(key="account-add").click().run()
    assert [e.value for e in at.error] == ["Pick at least one store for a manager."]
    assert accounts.find(app_env, "Nobody") is None


def test_a_name_is_shown_as_typed_in_the_labels(app_env, shop):
    typed = "**Bold** [x](http://e.com)"
    accounts.add(app_env, typed, MANAGER, "long enough", [shop["store"]], actor="test")
    at = accounts_tab()
    account = accounts.find(app_env, typed)["id"]
    at.selectbox(key="account-pick").set_value(account).run()
    label = at.checkbox(key=f"account-retire-sure-{account}").label
    assert label == f"Yes, retire {plain(typed)}"
