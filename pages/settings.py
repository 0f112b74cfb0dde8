"""Settings (manager): associates, the two lists, the store, access and devices,
follow-ups and coaching; each tab is drawn by cxlog/web/settings_ui.py,
cxlog/web/settings_access_ui.py or cxlog/web/coaching_ui.py."""

import streamlit as st

from cxlog.core import roles
from cxlog.web import coaching_ui, settings_access_ui, settings_ui, ui

storage = ui.storage()
role = ui.require_role(storage, roles.MANAGER)

st.title("Settings")
ui.show_toasts()
store = ui.pick_store(storage, key="settings-store")

people_tab, lists_tab, store_tab, access_tab, devices_tab, followups_tab, coaching_tab = st.tabs(
    ["Associates", "Lists", "Store", "Access", "Devices", "Follow-ups", "Coaching"]
)
with people_tab:
    settings_ui.associates(storage, store, role)
with lists_tab:
    settings_ui.lists(storage, role)
with store_tab:
    settings_access_ui.store_form(storage, store, role)
with access_tab:
    settings_access_ui.access_tab(storage, store, role)
with devices_tab:
    settings_access_ui.devices()
with followups_tab:
    settings_access_ui.followup_window(storage, store, role)
with coaching_tab:
    coaching_ui.settings_tab(storage, store, role)
