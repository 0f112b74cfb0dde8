"""Settings (manager): associates, the two lists, the store, access and devices,
follow-ups, coaching and (the owner's) accounts; each tab is drawn by cxlog/web/settings_ui.py,
cxlog/web/settings_access_ui.py or cxlog/web/coaching_ui.py."""

import streamlit as st

from cxlog.core import roles
from cxlog.language.words import _
from cxlog.web import (
    accounts_ui,
    coaching_ui,
    greeting_ui,
    settings_access_ui,
    settings_ui,
    ui,
)

storage = ui.storage()
me = ui.require_account(storage, roles.MANAGER)

st.title(_("Settings"))
ui.show_toasts()
store = ui.pick_store(storage, me, key="settings-store")

titles = [
    _("Associates"),
    _("Lists"),
    _("Store"),
    _("Access"),
    _("Devices"),
    _("Follow-ups"),
    _("Coaching"),
]
if me.role == roles.OWNER:
    titles.append(_("Accounts"))  # issue #28: who signs in, for which stores
people_tab, lists_tab, store_tab, access_tab, devices_tab, followups_tab, coaching_tab, *more = (
    st.tabs(titles)
)
with people_tab:
    settings_ui.associates(storage, store, me.actor)
with lists_tab:
    if ui.sees_every_store(storage, me):
        settings_ui.lists(storage, me.actor)
    else:
        st.info(_("Every store's lists are the owner's to change; below, this store's own."))
    settings_ui.store_lists(storage, store, me.actor)
with store_tab:
    settings_access_ui.store_form(storage, store, me.actor)
    settings_access_ui.store_language(storage, store, me)  # issue #29
    greeting_ui.settings_form(storage, store, me.actor)  # issue #30
with access_tab:
    settings_access_ui.access_tab(storage, store, me)
with devices_tab:
    settings_access_ui.devices(storage, store)
with followups_tab:
    settings_access_ui.followup_window(storage, store, me.actor)
with coaching_tab:
    coaching_ui.settings_tab(storage, store, me.actor)
if more:
    with more[0]:
        accounts_ui.accounts_tab(storage, me)
