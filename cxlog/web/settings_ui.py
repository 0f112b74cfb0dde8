"""Settings' tabs for people and lists (pages/settings.py draws the page):
associates with their PINs, reasons for visit and no-sale reasons.

Nothing is ever deleted: deactivating an associate or retiring a list entry
keeps its history; every change is audited with who and when."""

from __future__ import annotations

import streamlit as st

from cxlog.access import access
from cxlog.core.model import NO_SALE_REASON, REASON
from cxlog.storage.db import Storage
from cxlog.stores import catalog
from cxlog.web import ui

LIST_TITLES = {REASON: "Reasons for visit", NO_SALE_REASON: "No-sale reasons"}


def form(key: str):
    """A form: its fields are sent together by a tap, Tab-then-tap or Enter."""
    return st.form(key, enter_to_submit=True, border=False)


def move(storage: Storage, kind: str, entry_id: int, step: int, role: str) -> None:
    ui.change(
        storage,
        kind,
        lambda: catalog.move_reason(storage, kind, entry_id, step, actor=role),
        "Order saved.",
    )


def associates(storage: Storage, store: dict, role: str) -> None:
    state = st.session_state
    ui.show_error("people")
    with form("add-associate-form"):
        st.text_input("New associate's name", key="new-associate", max_chars=60)
        st.form_submit_button(
            "Add",
            key="add-associate",
            icon=":material/person_add:",
            on_click=lambda: ui.change(
                storage,
                "people",
                lambda: catalog.add_associate(
                    storage, store["id"], state["new-associate"], actor=role
                ),
                "Associate added.",
                "new-associate",
            ),
        )
    people = catalog.list_associates(storage, store["id"])
    if not people:
        st.info("No associates yet: add the first one above.")
    else:
        st.dataframe(
            [
                {"Name": p["name"], "Active": bool(p["active"]), "PIN set": bool(p["has_pin"])}
                for p in people
            ],
            hide_index=True,
        )
        person_id = st.selectbox(
            "Change an associate",
            [p["id"] for p in people],
            key="pick-associate",
            format_func={p["id"]: p["name"] for p in people}.get,
        )
        person = next(p for p in people if p["id"] == person_id)
        with form("rename-associate-form"):
            st.text_input("New name", key="rename-associate", max_chars=60)
            # Callbacks run before the next script run: bind ids now (default
            # arguments), never read page variables that later code reassigns.
            st.form_submit_button(
                "Rename",
                key="rename-associate-save",
                on_click=lambda pid=person_id: ui.change(
                    storage,
                    "people",
                    lambda: catalog.rename_associate(
                        storage, pid, state["rename-associate"], actor=role
                    ),
                    "Renamed; past visits now show the new name.",
                    "rename-associate",
                ),
            )
        with form("associate-pin-form"):
            st.text_input("PIN (4–8 digits)", key="associate-pin", type="password", max_chars=8)
            st.form_submit_button(
                "Set PIN",
                key="associate-pin-save",
                on_click=lambda pid=person_id: ui.change(
                    storage,
                    "people",
                    lambda: access.set_pin(storage, pid, state["associate-pin"], actor=role),
                    "PIN set.",
                    "associate-pin",
                ),
            )
        st.button(
            "Clear PIN",
            key="associate-pin-clear",
            on_click=lambda pid=person_id: ui.change(
                storage,
                "people",
                lambda: access.set_pin(storage, pid, None, actor=role),
                "PIN cleared.",
            ),
        )
        active = bool(person["active"])
        st.button(
            "Deactivate (history kept)" if active else "Reactivate",
            key="associate-active",
            icon=":material/person_off:" if active else ":material/person:",
            on_click=lambda pid=person_id, active=active: ui.change(
                storage,
                "people",
                lambda: catalog.set_associate_active(storage, pid, not active, actor=role),
                "Deactivated." if active else "Reactivated.",
            ),
        )


def lists(storage: Storage, role: str) -> None:
    state = st.session_state
    for kind, title in LIST_TITLES.items():
        st.subheader(title)
        ui.show_error(kind)
        entries = catalog.list_reasons(storage, kind, active_only=False)
        st.dataframe(
            [
                {
                    "Order": i + 1 if e["active"] else None,
                    "Name": e["name"],
                    "In use": bool(e["active"]),
                }
                for i, e in enumerate(entries)
            ],
            hide_index=True,
        )
        with form(f"add-{kind}-form"):
            st.text_input("New entry", key=f"new-{kind}", max_chars=60)
            st.form_submit_button(
                "Add",
                key=f"add-{kind}",
                on_click=lambda kind=kind: ui.change(
                    storage,
                    kind,
                    lambda: catalog.add_reason(storage, kind, state[f"new-{kind}"], actor=role),
                    "Added.",
                    f"new-{kind}",
                ),
            )
        entry_id = st.selectbox(
            "Change an entry",
            [e["id"] for e in entries],
            key=f"pick-{kind}",
            format_func={e["id"]: e["name"] for e in entries}.get,
        )
        entry = next(e for e in entries if e["id"] == entry_id)
        with form(f"rename-{kind}-form"):
            st.text_input("New name", key=f"rename-{kind}", max_chars=60)
            st.form_submit_button(
                "Rename",
                key=f"rename-{kind}-save",
                on_click=lambda kind=kind, eid=entry_id: ui.change(
                    storage,
                    kind,
                    lambda: catalog.rename_reason(
                        storage, eid, state[f"rename-{kind}"], actor=role
                    ),
                    "Renamed; past visits now show the new name.",
                    f"rename-{kind}",
                ),
            )

        with st.container(horizontal=True):
            if entry["active"]:
                st.button(
                    "Move up",
                    key=f"up-{kind}",
                    icon=":material/arrow_upward:",
                    on_click=move,
                    args=(storage, kind, entry_id, -1, role),
                )
                st.button(
                    "Move down",
                    key=f"down-{kind}",
                    icon=":material/arrow_downward:",
                    on_click=move,
                    args=(storage, kind, entry_id, 1, role),
                )
            is_active = bool(entry["active"])
            st.button(
                "Retire (history kept)" if is_active else "Use again",
                key=f"retire-{kind}",
                on_click=lambda kind=kind, eid=entry_id, is_active=is_active: ui.change(
                    storage,
                    kind,
                    lambda: catalog.set_reason_active(storage, eid, not is_active, actor=role),
                    "Retired: hidden from the Log page." if is_active else "In use again.",
                ),
            )
